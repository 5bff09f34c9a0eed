-- name: insert_hr_event
-- Store a delivery unless its id was stored before; returns true when stored
-- now. The outcome is set by finish_hr_event in the same transaction.
-- $1 delivery id, $2 event type, $3 employee id, $4 leave id ('' for none),
-- $5 version, $6 event time, $7 payload.
INSERT INTO hr_events (delivery_id, event_type, employee_id, leave_id, version,
                       event_time, payload, outcome)
VALUES ($1, $2, $3, $4, $5, $6, $7, 'accepted')
ON CONFLICT (delivery_id) DO NOTHING
RETURNING true

-- name: get_hr_event
-- A stored delivery. $1 delivery id.
SELECT delivery_id, event_type, outcome, reason, staff_id, leave_period_id
FROM hr_events WHERE delivery_id = $1

-- name: finish_hr_event
-- Record what a delivery did. $1 delivery id, $2 outcome, $3 reason,
-- $4 staff id (nullable), $5 leave id (nullable).
UPDATE hr_events
SET outcome = $2, reason = $3, staff_id = $4, leave_period_id = $5
WHERE delivery_id = $1

-- name: unknown_leave_cancellations
-- Version and event time of the accepted cancellations of HR leave $1 of staff
-- member $2 that arrived before any approval created the leave.
SELECT version, event_time
FROM hr_events
WHERE leave_id = $1 AND event_type = 'leave_cancelled' AND outcome = 'accepted'
  AND leave_period_id IS NULL AND staff_id = $2
