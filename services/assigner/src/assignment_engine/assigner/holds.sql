-- name: hold_assignment
-- Put an assigned or in-progress assignment on hold. $1 assignment. Returns
-- nothing unless it was assigned or in progress.
UPDATE assignments SET status = 'on_hold'
WHERE id = $1 AND status IN ('assigned', 'in_progress')
RETURNING id, work_item_id, assignee_id

-- name: resume_assignment
-- Take an assignment off hold. $1 assignment. Returns nothing unless on hold.
UPDATE assignments SET status = 'in_progress', started_at = coalesce(started_at, now())
WHERE id = $1 AND status = 'on_hold'
RETURNING id, work_item_id, assignee_id

-- name: pause_clock
-- Pause a running clock. $1 work item.
UPDATE sla_clocks SET paused_since = now()
WHERE work_item_id = $1 AND paused_since IS NULL AND stopped_at IS NULL

-- name: lock_paused_clock
-- A paused clock with its calendar. $1 work item.
SELECT paused_since, warning_at, deadline, calendar_id, now() AS now
FROM sla_clocks
WHERE work_item_id = $1 AND paused_since IS NOT NULL AND stopped_at IS NULL
FOR UPDATE

-- name: resume_clock
-- Restart a paused clock with moved times. $1 work item, $2 warning at,
-- $3 deadline, $4 working time the pause covered.
UPDATE sla_clocks
SET paused_since = NULL, warning_at = $2, deadline = $3, paused_total = paused_total + $4
WHERE work_item_id = $1
