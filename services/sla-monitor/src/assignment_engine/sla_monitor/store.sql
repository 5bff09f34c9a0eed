-- name: claim_warnings
-- Claim running clocks whose warning time has passed and mark them warned, oldest
-- warning first, skipping clocks another transaction holds. $1 batch size.
-- As in claim_breaches, the clocks are locked first and their work items then
-- FOR KEY SHARE, so a clock whose item another transaction holds stays unmarked
-- until a later pass.
-- Returns each claimed clock with the active assignment (NULL when queued) and
-- the recipient of its warning escalation, chosen as in claim_breaches.
WITH due AS (
    SELECT c.work_item_id
    FROM sla_clocks c
    WHERE c.warning_at <= now()
      AND c.warned_at IS NULL
      AND c.breached_at IS NULL
      AND c.stopped_at IS NULL
      AND c.paused_since IS NULL
    ORDER BY c.warning_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
),
items AS (
    SELECT w.id
    FROM work_items w
    WHERE w.id = ANY (ARRAY(SELECT work_item_id FROM due))
    FOR KEY SHARE SKIP LOCKED
),
-- The two admins with the lowest ids, read once. The fallback recipient is the
-- first of them who is not the assignee.
admins AS MATERIALIZED (
    SELECT id FROM staff WHERE role = 'admin' ORDER BY id COLLATE "C" LIMIT 2
),
marked AS (
    UPDATE sla_clocks c
    SET warned_at = now()
    WHERE c.work_item_id = ANY (ARRAY(SELECT id FROM items))
    RETURNING c.work_item_id, c.deadline, c.warned_at
)
SELECT m.work_item_id, m.deadline, m.warned_at,
       a.id AS assignment_id, a.assignee_id,
       coalesce(
           CASE WHEN a.id IS NULL THEN
               (SELECT target.supervisor_id
                FROM work_items w
                JOIN units target ON target.id = w.target_unit_id
                WHERE w.id = m.work_item_id)
           END,
           nullif(a.escalates_to_id, a.assignee_id),
           nullif(a.home_supervisor_id, a.assignee_id),
           (SELECT admins.id
            FROM admins
            WHERE admins.id IS DISTINCT FROM a.assignee_id
            ORDER BY admins.id COLLATE "C"
            LIMIT 1)
       ) AS escalated_to_id
FROM marked m
-- OFFSET 0 keeps this a lookup per claimed clock. Joined flat, small tables get
-- hash joins over sequential scans, which cost more than the index lookups.
LEFT JOIN LATERAL (
    SELECT a.id, a.assignee_id, s.escalates_to_id, home.supervisor_id AS home_supervisor_id
    FROM assignments a
    JOIN staff s ON s.id = a.assignee_id
    LEFT JOIN units home ON home.id = s.unit_id
    WHERE a.work_item_id = m.work_item_id
      AND a.status IN ('assigned', 'in_progress', 'on_hold')
    OFFSET 0
) a ON true
ORDER BY m.work_item_id

-- name: claim_breaches
-- Claim running clocks whose deadline has passed and mark them breached (and
-- warned, when the warning was not marked yet), skipping clocks another
-- transaction holds. $1 batch size.
-- The clocks are locked first, without a join, so the scan stops at the batch
-- size. Then their work items are locked FOR KEY SHARE, which is the lock the
-- escalation's foreign key check takes anyway. A clock whose item the assigner
-- has locked FOR UPDATE therefore stays unmarked instead of waiting for it, and
-- a later pass claims it. A change of that clock waits until this claim commits.
-- Returns each claimed clock with the active assignment (NULL when queued) and
-- the recipient of its escalation, which is never the assignee:
--   assigned item: the assignee's escalates_to_id, else the supervisor of the
--     assignee's unit, else the admin with the lowest id in "C" collation order;
--   queued item: the supervisor of the target unit, else that admin.
-- escalated_to_id is NULL when nobody qualifies.
WITH due AS (
    SELECT c.work_item_id, c.warned_at IS NULL AS warned_now
    FROM sla_clocks c
    WHERE c.deadline <= now()
      AND c.breached_at IS NULL
      AND c.stopped_at IS NULL
      AND c.paused_since IS NULL
    ORDER BY c.deadline
    LIMIT $1
    FOR UPDATE SKIP LOCKED
),
items AS (
    SELECT w.id
    FROM work_items w
    WHERE w.id = ANY (ARRAY(SELECT work_item_id FROM due))
    FOR KEY SHARE SKIP LOCKED
),
-- The two admins with the lowest ids, read once. The fallback recipient is the
-- first of them who is not the assignee.
admins AS MATERIALIZED (
    SELECT id FROM staff WHERE role = 'admin' ORDER BY id COLLATE "C" LIMIT 2
),
marked AS (
    UPDATE sla_clocks c
    SET breached_at = now(),
        warned_at = coalesce(c.warned_at, now())
    FROM due
    WHERE c.work_item_id = due.work_item_id
      AND c.work_item_id = ANY (ARRAY(SELECT id FROM items))
    RETURNING c.work_item_id, c.deadline, c.breached_at, due.warned_now
)
SELECT m.work_item_id, m.deadline, m.breached_at, m.warned_now,
       a.id AS assignment_id, a.assignee_id,
       coalesce(
           CASE WHEN a.id IS NULL THEN
               (SELECT target.supervisor_id
                FROM work_items w
                JOIN units target ON target.id = w.target_unit_id
                WHERE w.id = m.work_item_id)
           END,
           nullif(a.escalates_to_id, a.assignee_id),
           nullif(a.home_supervisor_id, a.assignee_id),
           (SELECT admins.id
            FROM admins
            WHERE admins.id IS DISTINCT FROM a.assignee_id
            ORDER BY admins.id COLLATE "C"
            LIMIT 1)
       ) AS escalated_to_id
FROM marked m
-- OFFSET 0 keeps this a lookup per claimed clock. Joined flat, small tables get
-- hash joins over sequential scans, which cost more than the index lookups.
LEFT JOIN LATERAL (
    SELECT a.id, a.assignee_id, s.escalates_to_id, home.supervisor_id AS home_supervisor_id
    FROM assignments a
    JOIN staff s ON s.id = a.assignee_id
    LEFT JOIN units home ON home.id = s.unit_id
    WHERE a.work_item_id = m.work_item_id
      AND a.status IN ('assigned', 'in_progress', 'on_hold')
    OFFSET 0
) a ON true
ORDER BY m.work_item_id

-- name: insert_breach_escalations
-- Insert the level 1 escalation of each breached item unless the item already
-- has one. The partial unique index on (work_item_id, level) decides, so no two
-- monitors can escalate an item twice. $1 ids, $2 work items, $3 assignments,
-- $4 escalated-from staff, $5 escalated-to staff (parallel arrays), $6 the
-- maximum escalation level. re_escalate_at is now plus the re_escalation_interval
-- of the item's policy (its type, else "*", at its priority; 1 hour without
-- one), or NULL when the maximum level is 1.
-- Returns the rows inserted.
INSERT INTO escalation_events (id, work_item_id, assignment_id, escalated_from_id,
                               escalated_to_id, reason, level, re_escalate_at)
SELECT e.id, e.work_item_id, e.assignment_id, e.escalated_from_id, e.escalated_to_id,
       'sla_breach', 1,
       CASE WHEN $6::integer > 1
            THEN now() + coalesce(p.re_escalation_interval, interval '1 hour') END
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[])
     AS e (id, work_item_id, assignment_id, escalated_from_id, escalated_to_id)
JOIN work_items w ON w.id = e.work_item_id
LEFT JOIN LATERAL (
    SELECT policy.re_escalation_interval
    FROM sla_policies policy
    WHERE policy.work_item_type IN (w.type, '*') AND policy.priority = w.priority
    ORDER BY policy.work_item_type = '*'
    LIMIT 1
) p ON true
ON CONFLICT (work_item_id, level) WHERE reason IN ('sla_breach', 're_escalation')
DO NOTHING
RETURNING id, work_item_id, escalated_to_id

-- name: existing_breach_escalations
-- The level 1 escalations of the given items. $1 work items.
SELECT id, work_item_id, escalated_to_id
FROM escalation_events
WHERE work_item_id = ANY ($1::uuid[])
  AND level = 1
  AND reason IN ('sla_breach', 're_escalation')

-- name: add_unrouted_breaches
-- Record breaches that had no escalation recipient, for claim_unrouted_breaches.
-- $1 work items, $2 breach times (parallel arrays).
INSERT INTO sla_unrouted_breaches (work_item_id, breached_at)
SELECT e.work_item_id, e.breached_at
FROM unnest($1::uuid[], $2::timestamptz[]) AS e (work_item_id, breached_at)
ON CONFLICT (work_item_id) DO NOTHING

-- name: claim_unrouted_breaches
-- Claim breaches that had no escalation recipient, never-tried first and then
-- least recently tried, skipping those whose row, clock or work item another
-- transaction holds, as claim_breaches does. $1 batch size.
-- Returns each with its breach time, whether its clock has stopped, the active
-- assignment (NULL when queued) and the recipient chosen as in claim_breaches,
-- NULL while no one qualifies.
WITH pending AS (
    SELECT u.work_item_id, u.breached_at, u.tried_at,
           c.stopped_at IS NOT NULL AS clock_stopped, w.target_unit_id
    FROM sla_unrouted_breaches u
    JOIN sla_clocks c ON c.work_item_id = u.work_item_id
    JOIN work_items w ON w.id = u.work_item_id
    ORDER BY u.tried_at NULLS FIRST, u.breached_at
    LIMIT $1
    FOR UPDATE OF u, c SKIP LOCKED
    FOR KEY SHARE OF w SKIP LOCKED
)
SELECT p.work_item_id, p.breached_at, p.clock_stopped,
       a.id AS assignment_id, a.assignee_id,
       coalesce(
           CASE WHEN a.id IS NULL THEN target.supervisor_id END,
           nullif(a.escalates_to_id, a.assignee_id),
           nullif(a.home_supervisor_id, a.assignee_id),
           (SELECT admin.id
            FROM staff admin
            WHERE admin.role = 'admin' AND admin.id IS DISTINCT FROM a.assignee_id
            ORDER BY admin.id COLLATE "C"
            LIMIT 1)
       ) AS escalated_to_id
FROM pending p
LEFT JOIN units target ON target.id = p.target_unit_id
LEFT JOIN LATERAL (
    SELECT a.id, a.assignee_id, s.escalates_to_id, home.supervisor_id AS home_supervisor_id
    FROM assignments a
    JOIN staff s ON s.id = a.assignee_id
    LEFT JOIN units home ON home.id = s.unit_id
    WHERE a.work_item_id = p.work_item_id
      AND a.status IN ('assigned', 'in_progress', 'on_hold')
) a ON true
ORDER BY p.tried_at NULLS FIRST, p.breached_at, p.work_item_id

-- name: mark_unrouted_tried
-- Record that the given breaches still have no recipient. $1 work items.
UPDATE sla_unrouted_breaches SET tried_at = now()
WHERE work_item_id = ANY ($1::uuid[])

-- name: record_missed_unrouted_breaches
-- Record the breaches of running clocks that have no level 1 escalation and no
-- row yet, such as those marked by a monitor that predates the table. Reads
-- sla_clocks_breached_running_idx. Returns the number recorded.
WITH recorded AS (
    INSERT INTO sla_unrouted_breaches (work_item_id, breached_at)
    SELECT c.work_item_id, c.breached_at
    FROM sla_clocks c
    WHERE c.breached_at IS NOT NULL
      AND c.stopped_at IS NULL
      AND NOT EXISTS (SELECT 1
                      FROM escalation_events e
                      WHERE e.work_item_id = c.work_item_id
                        AND e.level = 1
                        AND e.reason IN ('sla_breach', 're_escalation'))
    ON CONFLICT (work_item_id) DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM recorded

-- name: delete_unrouted_breaches
-- $1 work items.
DELETE FROM sla_unrouted_breaches WHERE work_item_id = ANY ($1::uuid[])

-- name: seconds_until_due
-- Seconds from now until the earliest warning or deadline of a running clock,
-- or re-escalation of an open escalation whose clock is not paused (negative
-- when one is overdue), or NULL when nothing is pending. Each subquery reads
-- one of the partial indexes on due times.
SELECT extract(epoch FROM least(
    (SELECT min(warning_at) FROM sla_clocks
     WHERE warned_at IS NULL AND breached_at IS NULL AND stopped_at IS NULL
       AND paused_since IS NULL),
    (SELECT min(deadline) FROM sla_clocks
     WHERE breached_at IS NULL AND stopped_at IS NULL AND paused_since IS NULL),
    (SELECT min(e.re_escalate_at) FROM escalation_events e
     WHERE e.re_escalate_at IS NOT NULL AND e.acknowledged_at IS NULL
       AND e.resolved_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM sla_clocks c
                       WHERE c.work_item_id = e.work_item_id
                         AND c.paused_since IS NOT NULL
                         AND c.stopped_at IS NULL))
) - clock_timestamp())::float8

-- name: get_status
-- A work item's SLA clock, with the database time to compute its state at.
-- $1 work item.
SELECT c.work_item_id, w.received_at, c.resolution_target, c.started_at,
       c.warning_at, c.deadline, c.paused_since, c.paused_total, c.calendar_id,
       c.warned_at, c.breached_at, c.stopped_at,
       clock_timestamp() AS now
FROM sla_clocks c
JOIN work_items w ON w.id = c.work_item_id
WHERE c.work_item_id = $1

-- name: work_item_access
-- Who a work item belongs to, for authorization. $1 work item. Returns the
-- item's target unit and the assignee of its active assignment (else of its
-- latest one) with that assignee's unit. Returns nothing for an unknown item.
SELECT w.target_unit_id, latest.assignee_id, latest.unit_id AS assignee_unit_id
FROM work_items w
LEFT JOIN LATERAL (
    SELECT a.assignee_id, s.unit_id
    FROM assignments a
    JOIN staff s ON s.id = a.assignee_id
    WHERE a.work_item_id = w.id
    ORDER BY a.status IN ('assigned', 'in_progress', 'on_hold') DESC,
             a.assigned_at DESC, a.id DESC
    LIMIT 1
) latest ON true
WHERE w.id = $1

-- name: upsert_policy
-- Create or replace the policy of a type and priority. $1 type, $2 priority,
-- $3 resolution target, $4 warning fraction, $5 re-escalation interval,
-- $6 calendar or NULL.
INSERT INTO sla_policies (work_item_type, priority, resolution_target, warning_fraction,
                          re_escalation_interval, calendar_id)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (work_item_type, priority) DO UPDATE
SET resolution_target = excluded.resolution_target,
    warning_fraction = excluded.warning_fraction,
    re_escalation_interval = excluded.re_escalation_interval,
    calendar_id = excluded.calendar_id,
    updated_at = now()
RETURNING work_item_type, priority, resolution_target, warning_fraction,
          re_escalation_interval, calendar_id

-- name: list_policies
-- Every policy by type in "C" collation order (so "*" comes first), then priority.
SELECT work_item_type, priority, resolution_target, warning_fraction,
       re_escalation_interval, calendar_id
FROM sla_policies
ORDER BY work_item_type COLLATE "C", priority

-- name: list_escalations
-- Escalations newest first, after a keyset position. $1 recipient or NULL,
-- $2 states ('open', 'acknowledged', 'resolved') or NULL, $3 work item or NULL,
-- $4 and $5 the escalated_at and id of the last row of the previous page (or
-- NULL), $6 limit, $7 unit or NULL.
-- With $7, only the unit's escalations are returned. An escalation belongs to a
-- unit when its recipient is in the unit, when the item's target unit is the
-- unit, or when the assignee of the item's active (else latest) assignment is in
-- the unit.
SELECT e.id, e.work_item_id, e.assignment_id, e.escalated_from_id, e.escalated_to_id,
       e.reason, e.level, e.escalated_at, e.acknowledged_at, e.resolved_at, e.notes
FROM escalation_events e
WHERE ($1::text IS NULL OR e.escalated_to_id = $1)
  AND ($2::text[] IS NULL
       OR (CASE WHEN e.resolved_at IS NOT NULL THEN 'resolved'
                WHEN e.acknowledged_at IS NOT NULL THEN 'acknowledged'
                ELSE 'open' END) = ANY ($2::text[]))
  AND ($3::uuid IS NULL OR e.work_item_id = $3)
  AND ($4::timestamptz IS NULL OR (e.escalated_at, e.id) < ($4::timestamptz, $5::uuid))
  AND ($7::text IS NULL
       OR EXISTS (SELECT 1 FROM staff r
                  WHERE r.id = e.escalated_to_id AND r.unit_id = $7)
       OR EXISTS (SELECT 1 FROM work_items w
                  WHERE w.id = e.work_item_id AND w.target_unit_id = $7)
       OR (SELECT s.unit_id
           FROM assignments a
           JOIN staff s ON s.id = a.assignee_id
           WHERE a.work_item_id = e.work_item_id
           ORDER BY a.status IN ('assigned', 'in_progress', 'on_hold') DESC,
                    a.assigned_at DESC, a.id DESC
           LIMIT 1) = $7)
ORDER BY e.escalated_at DESC, e.id DESC
LIMIT $6

-- name: lock_escalation_access
-- Lock an escalation row and return who it belongs to, for authorization.
-- $1 escalation. Returns the recipient and their unit, the item's target unit,
-- and the unit of the assignee of the item's active assignment (else of its
-- latest one). Returns nothing for an unknown escalation.
SELECT e.escalated_to_id, r.unit_id AS recipient_unit_id, w.target_unit_id,
       latest.unit_id AS assignee_unit_id
FROM escalation_events e
JOIN work_items w ON w.id = e.work_item_id
LEFT JOIN staff r ON r.id = e.escalated_to_id
LEFT JOIN LATERAL (
    SELECT s.unit_id
    FROM assignments a
    JOIN staff s ON s.id = a.assignee_id
    WHERE a.work_item_id = e.work_item_id
    ORDER BY a.status IN ('assigned', 'in_progress', 'on_hold') DESC,
             a.assigned_at DESC, a.id DESC
    LIMIT 1
) latest ON true
WHERE e.id = $1
FOR UPDATE OF e

-- name: acknowledge_escalation
-- Acknowledge an escalation, which stops its climb, and append the note (when
-- not empty) to its notes. $1 escalation, $2 note, $3 the staff member
-- acknowledging. Returns nothing unless it was neither acknowledged nor resolved.
UPDATE escalation_events
SET acknowledged_at = now(),
    acknowledged_by = $3,
    re_escalate_at = NULL,
    notes = CASE WHEN $2::text = '' THEN notes
                 WHEN notes = '' THEN $2::text
                 ELSE notes || E'\n' || $2::text END
WHERE id = $1 AND acknowledged_at IS NULL AND resolved_at IS NULL
RETURNING id, work_item_id, assignment_id, escalated_from_id, escalated_to_id, reason,
          level, escalated_at, acknowledged_at, resolved_at, notes

-- name: resolve_escalation
-- Resolve an escalation, acknowledging it too when it was not, which stops its
-- climb, and append the note (when not empty) to its notes. $1 escalation,
-- $2 note, $3 the staff member resolving, who is also recorded as acknowledging
-- when it was not acknowledged. Returns nothing unless it was unresolved.
UPDATE escalation_events
SET resolved_at = now(),
    resolved_by = $3,
    re_escalate_at = NULL,
    acknowledged_by = CASE WHEN acknowledged_at IS NULL THEN $3 ELSE acknowledged_by END,
    acknowledged_at = coalesce(acknowledged_at, now()),
    notes = CASE WHEN $2::text = '' THEN notes
                 WHEN notes = '' THEN $2::text
                 ELSE notes || E'\n' || $2::text END
WHERE id = $1 AND resolved_at IS NULL
RETURNING id, work_item_id, assignment_id, escalated_from_id, escalated_to_id, reason,
          level, escalated_at, acknowledged_at, resolved_at, notes

-- name: escalation_stamps
-- $1 escalation.
SELECT acknowledged_at, resolved_at FROM escalation_events WHERE id = $1

-- name: calendar_exists
-- Lock a calendar against a concurrent key change while a policy references
-- it. $1 calendar. Returns nothing for an unknown calendar.
SELECT 1 FROM business_calendars WHERE id = $1 FOR KEY SHARE

-- name: upsert_calendar
-- Create or replace a business calendar. $1 id, $2 IANA time zone, $3 hours and
-- $4 holidays in their stored jsonb form.
INSERT INTO business_calendars (id, timezone, hours, holidays)
VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO UPDATE
SET timezone = excluded.timezone,
    hours = excluded.hours,
    holidays = excluded.holidays,
    updated_at = now()
RETURNING id, timezone, hours, holidays

-- name: list_calendars
-- Every business calendar by id in "C" collation order.
SELECT id, timezone, hours, holidays
FROM business_calendars
ORDER BY id COLLATE "C"
