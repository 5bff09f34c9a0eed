-- name: transaction_time
-- The time of the current transaction, which every leave decision compares with.
SELECT now()

-- name: lock_staff
-- Lock a staff member's row for a leave change, as lock_availability does in
-- store.sql. $1 staff id.
SELECT id, unit_id, availability, availability_leave_id
FROM staff WHERE id = $1
FOR NO KEY UPDATE

-- name: lock_staff_by_hr_employee_id
-- Lock the staff member who has the HR employee id $1.
SELECT id, unit_id, availability, availability_leave_id
FROM staff WHERE hr_employee_id = $1
FOR NO KEY UPDATE

-- name: staff_availability
-- A staff member's availability, read by a transaction that holds the row's
-- lock. $1 staff id.
SELECT id, unit_id, availability, availability_leave_id FROM staff WHERE id = $1

-- name: staff_exists
-- $1 staff id.
SELECT EXISTS (SELECT 1 FROM staff WHERE id = $1)

-- name: insert_leave
-- $1 id, $2 staff id, $3 starts at, $4 ends at, $5 reason, $6 source,
-- $7 HR leave id (NULL for none), $8 HR version, $9 HR event time (nullable),
-- $10 state. An active leave gets activated_at and an ended one ended_at.
INSERT INTO leave_periods (id, staff_id, starts_at, ends_at, reason, source, hr_leave_id,
                           hr_version, hr_event_time, state, activated_at, ended_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
        CASE WHEN $10 = 'active' THEN now() END,
        CASE WHEN $10 = 'ended' THEN now() END)
RETURNING id, staff_id, starts_at, ends_at, reason, source, hr_leave_id, hr_version,
          hr_event_time, state

-- name: get_leave
-- $1 leave id.
SELECT id, staff_id, starts_at, ends_at, reason, source, hr_leave_id, hr_version,
       hr_event_time, state
FROM leave_periods WHERE id = $1

-- name: lock_leave
-- Lock a leave for a change. $1 leave id.
SELECT id, staff_id, starts_at, ends_at, reason, source, hr_leave_id, hr_version,
       hr_event_time, state
FROM leave_periods WHERE id = $1
FOR UPDATE

-- name: lock_hr_leave
-- Lock the leave with the HR leave id $1.
SELECT id, staff_id, starts_at, ends_at, reason, source, hr_leave_id, hr_version,
       hr_event_time, state
FROM leave_periods WHERE hr_leave_id = $1
FOR UPDATE

-- name: set_leave_state
-- Move a leave to state $2. activated_at is set when it becomes active and
-- cleared when it goes back to scheduled; ended_at is set when it ends or is
-- cancelled. $1 leave id.
UPDATE leave_periods
SET activated_at = CASE
        WHEN $2 = 'active' AND state <> 'active' THEN now()
        WHEN $2 = 'scheduled' THEN NULL
        ELSE activated_at
    END,
    ended_at = CASE WHEN $2 IN ('ended', 'cancelled') THEN now() END,
    state = $2,
    updated_at = now()
WHERE id = $1
RETURNING id, staff_id, starts_at, ends_at, reason, source, hr_leave_id, hr_version,
          hr_event_time, state

-- name: update_hr_leave
-- Replace the times and reason of an HR leave and record the order of the HR
-- event applied. $1 leave id, $2 starts at, $3 ends at, $4 reason, $5 HR
-- version, $6 HR event time.
UPDATE leave_periods
SET starts_at = $2, ends_at = $3, reason = $4, hr_version = $5, hr_event_time = $6,
    updated_at = now()
WHERE id = $1
RETURNING id, staff_id, starts_at, ends_at, reason, source, hr_leave_id, hr_version,
          hr_event_time, state

-- name: record_hr_order
-- Record the version and event time of an HR event applied to a leave.
-- $1 leave id, $2 HR version, $3 HR event time.
UPDATE leave_periods
SET hr_version = $2, hr_event_time = $3, updated_at = now()
WHERE id = $1
RETURNING id, staff_id, starts_at, ends_at, reason, source, hr_leave_id, hr_version,
          hr_event_time, state

-- name: list_pending_leave
-- A staff member's scheduled and active leave, soonest first. $1 staff id,
-- $2 limit.
SELECT id, staff_id, starts_at, ends_at, reason, source, hr_leave_id, hr_version,
       hr_event_time, state
FROM leave_periods
WHERE staff_id = $1 AND state IN ('scheduled', 'active')
ORDER BY starts_at, id
LIMIT $2

-- name: active_hr_leave
-- A staff member's active leave that came from HR, by start. $1 staff id.
SELECT id, staff_id, starts_at, ends_at, reason, source, hr_leave_id, hr_version,
       hr_event_time, state
FROM leave_periods
WHERE staff_id = $1 AND state = 'active' AND hr_leave_id IS NOT NULL
ORDER BY starts_at, id
FOR UPDATE

-- name: other_active_leave
-- The active leave of staff member $1, other than leave $2, that ends last and
-- has not reached its end yet.
SELECT id, staff_id, starts_at, ends_at, reason, source, hr_leave_id, hr_version,
       hr_event_time, state
FROM leave_periods
WHERE staff_id = $1 AND id <> $2 AND state = 'active' AND ends_at > now()
ORDER BY ends_at DESC, id
LIMIT 1

-- name: start_leave_availability
-- Put a staff member on leave for leave $2. $1 staff id, $3 unavailable until,
-- $4 reason, $5 source.
UPDATE staff
SET availability = 'on_leave', unavailable_until = $3, availability_reason = $4,
    availability_source = $5, availability_leave_id = $2,
    availability_changed_at = now(), updated_at = now()
WHERE id = $1

-- name: end_leave_availability
-- Make a staff member available again after their leave. $1 staff id,
-- $2 source.
UPDATE staff
SET availability = 'available', unavailable_until = NULL, availability_reason = '',
    availability_source = $2, availability_leave_id = NULL,
    availability_changed_at = now(), updated_at = now()
WHERE id = $1

-- name: refresh_leave_availability
-- Copy the end and reason of leave $2 to staff member $1 while their
-- availability_leave_id names it. $3 unavailable until, $4 reason.
UPDATE staff
SET unavailable_until = $3, availability_reason = $4, updated_at = now()
WHERE id = $1 AND availability_leave_id = $2

-- name: claim_starts
-- Claim scheduled leave whose start has passed, earliest first, skipping leave
-- or staff rows another transaction holds, and mark it active, or ended when
-- its end has passed too. $1 batch size. Returns the leave as marked.
WITH due AS (
    SELECT l.id
    FROM leave_periods l
    JOIN staff s ON s.id = l.staff_id
    WHERE l.state = 'scheduled' AND l.starts_at <= now()
    ORDER BY l.starts_at
    LIMIT $1
    FOR UPDATE OF l SKIP LOCKED
    FOR NO KEY UPDATE OF s SKIP LOCKED
)
UPDATE leave_periods l
SET state = CASE WHEN l.ends_at <= now() THEN 'ended' ELSE 'active' END,
    activated_at = CASE WHEN l.ends_at <= now() THEN NULL ELSE now() END,
    ended_at = CASE WHEN l.ends_at <= now() THEN now() END,
    updated_at = now()
FROM due
WHERE l.id = due.id
RETURNING l.id, l.staff_id, l.starts_at, l.ends_at, l.reason, l.source, l.hr_leave_id,
          l.hr_version, l.hr_event_time, l.state

-- name: claim_ends
-- Claim active leave whose end has passed, earliest first, skipping leave or
-- staff rows another transaction holds, and mark it ended. $1 batch size.
WITH due AS (
    SELECT l.id
    FROM leave_periods l
    JOIN staff s ON s.id = l.staff_id
    WHERE l.state = 'active' AND l.ends_at <= now()
    ORDER BY l.ends_at
    LIMIT $1
    FOR UPDATE OF l SKIP LOCKED
    FOR NO KEY UPDATE OF s SKIP LOCKED
)
UPDATE leave_periods l
SET state = 'ended', ended_at = now(), updated_at = now()
FROM due
WHERE l.id = due.id
RETURNING l.id, l.staff_id, l.starts_at, l.ends_at, l.reason, l.source, l.hr_leave_id,
          l.hr_version, l.hr_event_time, l.state

-- name: seconds_until_due
-- Seconds from now until the earliest start of scheduled leave or end of active
-- leave (negative when one is overdue), or NULL when none is pending. Each
-- subquery reads one of the partial indexes on due times.
SELECT extract(epoch FROM least(
    (SELECT min(starts_at) FROM leave_periods WHERE state = 'scheduled'),
    (SELECT min(ends_at) FROM leave_periods WHERE state = 'active')
) - clock_timestamp())::float8
