-- name: intake_context
-- What an intake needs to know, in one row. The row says whether the target unit
-- exists. It contains the SLA policy for the type and priority, else the "*"
-- fallback, with NULL columns when neither exists. It also contains the calendar
-- the clocks count: the policy's, else the target unit's default, with NULL
-- columns for 24x7.
-- $1 type, $2 priority, $3 target unit (nullable).
SELECT ($3::text IS NULL OR EXISTS (SELECT 1 FROM units WHERE id = $3)) AS unit_exists,
       p.resolution_target, p.warning_fraction, p.calendar_id,
       c.timezone AS calendar_timezone, c.hours AS calendar_hours,
       c.holidays AS calendar_holidays
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT p.resolution_target, p.warning_fraction,
           coalesce(p.calendar_id,
                    (SELECT u.default_calendar_id FROM units u WHERE u.id = $3)) AS calendar_id
    FROM sla_policies p
    WHERE p.work_item_type IN ($1, '*') AND p.priority = $2
    ORDER BY p.work_item_type = '*'
    LIMIT 1
) p ON true
LEFT JOIN business_calendars c ON c.id = p.calendar_id

-- name: insert_work_item
-- Create a queued work item with its SLA clock and its work_item.received event,
-- unless (type, external_id) exists. $1 id, $2 type, $3 external id, $4 title,
-- $5 required skills, $6 target unit, $7 priority, $8 received at; the clock's
-- $9 target, $10 warning fraction, $11 warning at, $12 deadline, $13 calendar
-- (nullable for 24x7); the event's $14 id, $15 subject, $16 payload, $17 headers.
-- Returns nothing on a duplicate, and then writes nothing.
WITH item AS (
    INSERT INTO work_items (id, type, external_id, title, required_skills, target_unit_id,
                            priority, received_at, state)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued')
    ON CONFLICT (type, external_id) DO NOTHING
    RETURNING id
),
clock AS (
    INSERT INTO sla_clocks (work_item_id, resolution_target, warning_fraction, started_at,
                            warning_at, deadline, calendar_id)
    SELECT id, $9::interval, $10::float8, $8, $11::timestamptz, $12::timestamptz, $13::text
    FROM item
),
event AS (
    INSERT INTO outbox (event_id, subject, payload, headers)
    SELECT $14::uuid, $15::text, $16::bytea, $17::jsonb FROM item
)
SELECT id FROM item

-- name: rank_and_lock
-- Eligible staff for an item, best first, with what the score depends on. The
-- statement also locks the best of them whose staff_load row no other
-- transaction holds. That row has `locked` true and its current values, re-read
-- under the lock, in the `locked_` columns. Its profile is read FOR SHARE so
-- availability cannot change until commit. No row is locked when every candidate
-- is held or has filled up.
-- $1 required skills (no duplicates), $2 target unit (nullable), $3 minimum
-- matched skills, $4..$7 weights of skills, capacity, availability and unit,
-- $8 limit.
-- Candidates come from staff_rank, the triggers' copy of staff and staff_load,
-- through its GIN index on skills when skills are required. matched_skills is
-- counted by array operators where they decide it (no skill required, all or
-- none held, or one of two held), which is cheaper than unnesting each
-- candidate's skills.
-- NOTE: every eligible holder of a required skill is scored and sorted, so the
-- cost grows with the organisation (docs/benchmarks.md has the figures).
WITH candidates AS (
    SELECT r.staff_id AS id, r.unit_id, r.availability, r.wip_limit, r.active_count,
           r.last_assigned_at, m.matched_skills
    FROM staff_rank r
    CROSS JOIN LATERAL (
        SELECT CASE WHEN cardinality($1::text[]) = 0 THEN 0
                    WHEN r.skills @> $1::text[] THEN cardinality($1::text[])
                    WHEN NOT r.skills && $1::text[] THEN 0
                    WHEN cardinality($1::text[]) = 2 THEN 1
                    ELSE (SELECT count(*) FROM unnest(r.skills) AS k WHERE k = ANY ($1::text[]))
               END::integer AS matched_skills
    ) AS m
    WHERE r.availability IN ('available', 'busy')
      AND r.wip_limit > 0
      AND r.active_count < r.wip_limit
      AND (cardinality($1::text[]) = 0 OR $3::integer = 0 OR r.skills && $1::text[])
),
scored AS (
    SELECT c.*,
           (CASE WHEN cardinality($1::text[]) = 0 THEN 1.0::float8
                 ELSE c.matched_skills::float8 / cardinality($1::text[]) END) * $4::float8
         + (1.0::float8 - c.active_count::float8 / c.wip_limit) * $5::float8
         + (CASE WHEN c.availability = 'available' THEN $6::float8 ELSE 0.0::float8 END)
         + (CASE WHEN c.unit_id = $2::text THEN $7::float8 ELSE 0.0::float8 END) AS score
    FROM candidates c
    WHERE c.matched_skills >= least($3::integer, cardinality($1::text[]))
),
ranked AS (
    SELECT * FROM scored
    ORDER BY score DESC, active_count, last_assigned_at NULLS FIRST, id COLLATE "C"
    LIMIT $8
),
locked AS (
    SELECT s.id, s.unit_id, s.availability, s.wip_limit, l.active_count, l.last_assigned_at
    FROM ranked r
    JOIN staff_load l ON l.staff_id = r.id
    JOIN staff s ON s.id = l.staff_id
    WHERE s.availability IN ('available', 'busy')
      AND s.wip_limit > 0
      AND l.active_count < s.wip_limit
    ORDER BY r.score DESC, r.active_count, r.last_assigned_at NULLS FIRST, r.id COLLATE "C"
    LIMIT 1
    FOR NO KEY UPDATE OF l SKIP LOCKED
    FOR SHARE OF s SKIP LOCKED
)
SELECT r.*, k.id IS NOT NULL AS locked, k.unit_id AS locked_unit_id,
       k.availability AS locked_availability, k.wip_limit AS locked_wip_limit,
       k.active_count AS locked_active_count, k.last_assigned_at AS locked_last_assigned_at
FROM ranked r
LEFT JOIN locked k ON k.id = r.id
ORDER BY r.score DESC, r.active_count, r.last_assigned_at NULLS FIRST, r.id COLLATE "C"

-- name: lock_candidate_wait
-- Lock a person's load row if they are still eligible. It waits for a concurrent
-- holder, then re-checks the conditions on the row that holder committed. The
-- profile is read FOR SHARE. $1 staff id.
SELECT s.id, s.unit_id, s.availability, s.wip_limit, l.active_count, l.last_assigned_at
FROM staff_load l
JOIN staff s ON s.id = l.staff_id
WHERE l.staff_id = $1
  AND s.availability IN ('available', 'busy')
  AND s.wip_limit > 0
  AND l.active_count < s.wip_limit
FOR NO KEY UPDATE OF l
FOR SHARE OF s

-- name: record_assignment
-- Assign a work item whose item row and assignee's staff_load row this transaction
-- has locked. The statement inserts the assignment, counts it in the assignee's
-- load, marks the item assigned, takes it off the queue, and writes the decision
-- and the assignment.assigned event. $1 assignment, $2 work item, $3 assignee, $4 score,
-- $5 decision kind, $6 candidates, $7 actor; the event's $8 id, $9 subject,
-- $10 payload, $11 headers. Returns the assignment's assigned_at.
WITH assignment AS (
    INSERT INTO assignments (id, work_item_id, assignee_id, status, score, assigned_at)
    VALUES ($1, $2, $3, 'assigned', $4, clock_timestamp())
    RETURNING id, assigned_at
),
load AS (
    UPDATE staff_load
    SET active_count = active_count + 1, last_assigned_at = clock_timestamp()
    WHERE staff_id = $3
),
item AS (
    UPDATE work_items SET state = 'assigned', updated_at = now() WHERE id = $2
),
entry AS (
    DELETE FROM queue_entries WHERE work_item_id = $2
),
-- Reading `assignment` makes the assignment row, and so the assignment_summaries
-- row its trigger writes, come before the decision whose foreign key needs it.
decision AS (
    INSERT INTO assignment_decisions (work_item_id, assignment_id, kind, actor, reason,
                                      candidates)
    SELECT $2, id, $5, $7, '', $6 FROM assignment
),
event AS (
    INSERT INTO outbox (event_id, subject, payload, headers) VALUES ($8, $9, $10, $11)
)
SELECT assigned_at FROM assignment

-- name: record_queued
-- Queue a new work item that no one has room for: write its queue entry, the
-- decision and the work_item.queued event. $1 work item, $2 priority, $3 target
-- unit, $4 required skills, $5 actor, $6 reason, and the event's $7 id,
-- $8 subject, $9 payload, $10 headers.
WITH entry AS (
    INSERT INTO queue_entries (work_item_id, priority, enqueued_at, target_unit_id,
                               required_skills)
    VALUES ($1, $2, clock_timestamp(), $3, $4)
),
decision AS (
    INSERT INTO assignment_decisions (work_item_id, assignment_id, kind, actor, reason,
                                      candidates)
    VALUES ($1, NULL, 'queued', $5, $6, '[]'::jsonb)
),
event AS (
    INSERT INTO outbox (event_id, subject, payload, headers) VALUES ($7, $8, $9, $10)
)
SELECT 1

-- name: add_load
-- Count one more active assignment for a person. $1 staff id.
UPDATE staff_load
SET active_count = active_count + 1, last_assigned_at = clock_timestamp()
WHERE staff_id = $1

-- name: release_load
-- Count one fewer active assignment for a person. $1 staff id.
UPDATE staff_load SET active_count = active_count - 1 WHERE staff_id = $1

-- name: set_work_item_state
-- $1 work item, $2 state.
UPDATE work_items SET state = $2, updated_at = now() WHERE id = $1

-- name: insert_queue_entry
-- $1 work item, $2 priority, $3 target unit, $4 required skills.
INSERT INTO queue_entries (work_item_id, priority, enqueued_at, target_unit_id, required_skills)
VALUES ($1, $2, clock_timestamp(), $3, $4)

-- name: delete_queue_entry
-- $1 work item.
DELETE FROM queue_entries WHERE work_item_id = $1

-- name: insert_decision
-- $1 work item, $2 assignment (nullable), $3 kind, $4 actor, $5 reason, $6 candidates.
INSERT INTO assignment_decisions (work_item_id, assignment_id, kind, actor, reason, candidates)
VALUES ($1, $2, $3, $4, $5, $6)

-- name: lock_queued_item
-- Lock a queued work item and its queue entry unless another offer holds them.
-- $1 work item.
SELECT w.id, w.type, w.external_id, w.title, w.required_skills, w.target_unit_id,
       w.priority, w.received_at, w.state
FROM work_items w
JOIN queue_entries q ON q.work_item_id = w.id
WHERE w.id = $1
FOR UPDATE OF w, q SKIP LOCKED

-- name: takeable_items
-- For each given work item, whether it is queued and whether someone could take
-- it now: an eligible person under their WIP limit who holds the skills that
-- rank_and_lock requires. A snapshot read without locks, so an offer skips the
-- items that no one can take without a transaction each. The offer of a
-- takeable item decides under locks. $1 work items, $2 minimum matched skills,
-- $3 the most people with room to collect.
-- When at most $3 people have room (the usual case while items wait), they are
-- collected once and each item is checked against them. Otherwise each item
-- looks up the holders of its skills through the GIN index on staff.skills.
WITH room AS MATERIALIZED (
    SELECT s.skills
    FROM staff s
    JOIN staff_load l ON l.staff_id = s.id
    WHERE s.availability IN ('available', 'busy')
      AND s.wip_limit > 0
      AND l.active_count < s.wip_limit
    LIMIT $3::integer + 1
)
SELECT i.id,
       q.work_item_id IS NOT NULL AS queued,
       q.work_item_id IS NOT NULL AND CASE
           WHEN (SELECT count(*) FROM room) <= $3::integer THEN EXISTS (
               SELECT 1
               FROM room r
               WHERE cardinality(q.required_skills) = 0
                  OR $2::integer = 0
                  OR (r.skills && q.required_skills
                      AND (SELECT count(*) FROM unnest(r.skills) AS k
                           WHERE k = ANY (q.required_skills))
                          >= least($2::integer, cardinality(q.required_skills)))
           )
           ELSE EXISTS (
               SELECT 1
               FROM staff s
               JOIN staff_load l ON l.staff_id = s.id
               WHERE s.availability IN ('available', 'busy')
                 AND s.wip_limit > 0
                 AND l.active_count < s.wip_limit
                 AND (cardinality(q.required_skills) = 0
                      OR $2::integer = 0
                      OR (s.skills && q.required_skills
                          AND (SELECT count(*) FROM unnest(s.skills) AS k
                               WHERE k = ANY (q.required_skills))
                              >= least($2::integer, cardinality(q.required_skills))))
           )
       END AS takeable
FROM unnest($1::uuid[]) AS i (id)
LEFT JOIN queue_entries q ON q.work_item_id = i.id

-- name: anyone_has_room
-- Whether any eligible person is under their WIP limit.
SELECT EXISTS (
    SELECT 1 FROM staff s JOIN staff_load l ON l.staff_id = s.id
    WHERE s.availability IN ('available', 'busy') AND s.wip_limit > 0
      AND l.active_count < s.wip_limit
)

-- name: lock_work_item
-- Lock a work item; every change of an item or its assignment takes this lock
-- first, so they never deadlock. $1 work item.
SELECT id, type, external_id, title, required_skills, target_unit_id, priority,
       received_at, state
FROM work_items WHERE id = $1
FOR UPDATE

-- name: find_work_item
-- $1 type, $2 external id.
SELECT id, type, external_id, title, required_skills, target_unit_id, priority,
       received_at, state
FROM work_items WHERE type = $1 AND external_id = $2

-- name: get_work_item
-- $1 work item.
SELECT id, type, external_id, title, required_skills, target_unit_id, priority,
       received_at, state
FROM work_items WHERE id = $1

-- name: assignment_work_item
-- The work item of an assignment. $1 assignment.
SELECT work_item_id FROM assignments WHERE id = $1

-- name: lock_item_of_assignment
-- Lock the work item of an assignment, as lock_work_item does. Returns nothing for
-- an unknown assignment. $1 assignment.
SELECT w.id FROM work_items w
WHERE w.id = (SELECT a.work_item_id FROM assignments a WHERE a.id = $1)
FOR UPDATE OF w

-- name: get_assignment
-- An assignment with its work item, SLA deadline and the assignee's unit.
-- $1 assignment.
SELECT a.id, a.work_item_id, a.assignee_id, a.status, a.score, a.assigned_at,
       a.started_at, a.ended_at, c.deadline, s.unit_id AS assignee_unit_id,
       w.type, w.external_id, w.title, w.required_skills, w.target_unit_id, w.priority,
       w.received_at, w.state
FROM assignments a
JOIN work_items w ON w.id = a.work_item_id
JOIN staff s ON s.id = a.assignee_id
LEFT JOIN sla_clocks c ON c.work_item_id = a.work_item_id
WHERE a.id = $1

-- name: latest_assignment_of_item
-- The active assignment of an item, else its most recent one. $1 work item.
SELECT a.id
FROM assignments a
WHERE a.work_item_id = $1
ORDER BY a.status IN ('assigned', 'in_progress', 'on_hold') DESC, a.assigned_at DESC
LIMIT 1

-- name: active_assignment_of_item
-- $1 work item.
SELECT id, assignee_id, status FROM assignments
WHERE work_item_id = $1 AND status IN ('assigned', 'in_progress', 'on_hold')

-- name: start_assignment
-- $1 assignment. Returns nothing unless the assignment was assigned.
UPDATE assignments SET status = 'in_progress', started_at = now()
WHERE id = $1 AND status = 'assigned'
RETURNING id, work_item_id, assignee_id

-- name: end_assignment
-- Complete or cancel an active assignment whose work item this transaction has
-- locked: release the assignee's load and write the assignment's event and
-- capacity.freed. When $4 is set, also close the work item in that state and stop
-- its SLA clock (a pause still open is counted). $1 assignment, $2 new status,
-- $3 reason, $4 closing state (nullable); the events' $5..$8 and $9..$12 (id,
-- subject, payload, headers). Returns the ended assignment as get_assignment does,
-- or nothing, and then writes nothing, unless it was active.
WITH ended AS (
    UPDATE assignments SET status = $2, ended_at = now(), end_reason = $3
    WHERE id = $1 AND status IN ('assigned', 'in_progress', 'on_hold')
    RETURNING id, work_item_id, assignee_id, status, score, assigned_at, started_at, ended_at
),
load AS (
    UPDATE staff_load SET active_count = active_count - 1
    WHERE staff_id = (SELECT assignee_id FROM ended)
),
item AS (
    UPDATE work_items SET state = $4, updated_at = now()
    WHERE $4::text IS NOT NULL AND id = (SELECT work_item_id FROM ended)
),
clock AS (
    UPDATE sla_clocks
    SET stopped_at = now(),
        paused_total = paused_total + coalesce(now() - paused_since, interval '0'),
        paused_since = NULL
    WHERE $4::text IS NOT NULL AND stopped_at IS NULL
      AND work_item_id = (SELECT work_item_id FROM ended)
),
changed AS (
    INSERT INTO outbox (event_id, subject, payload, headers)
    SELECT $5::uuid, $6::text, $7::bytea, $8::jsonb FROM ended
    RETURNING id
),
-- Reading `changed` makes its row be inserted first, so the relay publishes the
-- assignment's event before capacity.freed.
freed AS (
    INSERT INTO outbox (event_id, subject, payload, headers)
    SELECT $9::uuid, $10::text, $11::bytea, $12::jsonb FROM changed
)
SELECT e.id, e.work_item_id, e.assignee_id, e.status, e.score, e.assigned_at,
       e.started_at, e.ended_at, c.deadline, s.unit_id AS assignee_unit_id,
       w.type, w.external_id, w.title, w.required_skills, w.target_unit_id, w.priority,
       w.received_at, coalesce($4::text, w.state) AS state
FROM ended e
JOIN work_items w ON w.id = e.work_item_id
JOIN staff s ON s.id = e.assignee_id
LEFT JOIN sla_clocks c ON c.work_item_id = e.work_item_id

-- name: assignment_status
-- $1 assignment.
SELECT status FROM assignments WHERE id = $1

-- name: stop_clock
-- Stop an item's SLA clock, counting a pause still open. $1 work item.
UPDATE sla_clocks
SET stopped_at = now(),
    paused_total = paused_total + coalesce(now() - paused_since, interval '0'),
    paused_since = NULL
WHERE work_item_id = $1 AND stopped_at IS NULL

-- name: staff_unit
-- $1 staff id.
SELECT unit_id FROM staff WHERE id = $1

-- name: list_decisions
-- Decisions of a work item, oldest first. $1 work item.
SELECT kind, decided_at, assignment_id, candidates, actor, reason
FROM assignment_decisions WHERE work_item_id = $1 ORDER BY id

-- name: clock_deadline
-- $1 work item.
SELECT deadline FROM sla_clocks WHERE work_item_id = $1

-- name: list_assignments
-- Assignments newest first, after a keyset position. $1 assignee or NULL,
-- $2 assignee's unit or NULL, $3 statuses or NULL, $4 and $5 the assigned_at and
-- id of the last row of the previous page (or NULL), $6 limit.
SELECT a.id, a.work_item_id, a.assignee_id, a.status, a.score, a.assigned_at,
       a.started_at, a.ended_at, c.deadline,
       w.type, w.external_id, w.title, w.required_skills, w.target_unit_id, w.priority,
       w.received_at, w.state
FROM assignments a
JOIN work_items w ON w.id = a.work_item_id
JOIN staff s ON s.id = a.assignee_id
LEFT JOIN sla_clocks c ON c.work_item_id = a.work_item_id
WHERE ($1::text IS NULL OR a.assignee_id = $1)
  AND ($2::text IS NULL OR s.unit_id = $2)
  AND ($3::text[] IS NULL OR a.status = ANY ($3::text[]))
  AND ($4::timestamptz IS NULL OR (a.assigned_at, a.id) < ($4::timestamptz, $5::uuid))
ORDER BY a.assigned_at DESC, a.id DESC
LIMIT $6

-- name: assignee_of
-- The work item, status and assignee of an assignment, and the assignee's unit.
-- $1 assignment.
SELECT a.work_item_id, a.status, a.assignee_id, s.unit_id AS assignee_unit_id
FROM assignments a
JOIN staff s ON s.id = a.assignee_id
WHERE a.id = $1

-- name: latest_assignee_of_item
-- The assignee of an item's active assignment, else of its most recent one, and
-- their unit. Returns nothing for an item never assigned. $1 work item.
SELECT a.work_item_id, a.assignee_id, s.unit_id AS assignee_unit_id
FROM assignments a
JOIN staff s ON s.id = a.assignee_id
WHERE a.work_item_id = $1
ORDER BY a.status IN ('assigned', 'in_progress', 'on_hold') DESC, a.assigned_at DESC
LIMIT 1

-- name: lock_assignment
-- Lock an assignment whose work item this transaction has locked. $1 assignment.
SELECT id, work_item_id, assignee_id, status
FROM assignments WHERE id = $1
FOR NO KEY UPDATE

-- name: lock_loads_of_pair
-- Lock the staff_load rows of two people in staff id order, and read their
-- profiles FOR SHARE. PostgreSQL sorts before it locks, so the rows are locked in
-- that order and two transactions locking the same pair wait for each other
-- instead of deadlocking. A staff id without a row returns nothing. $1 staff ids.
SELECT s.id, s.unit_id, s.availability, s.wip_limit, s.skills, l.active_count,
       l.last_assigned_at
FROM staff_load l
JOIN staff s ON s.id = l.staff_id
WHERE l.staff_id = ANY ($1::text[])
ORDER BY l.staff_id COLLATE "C"
FOR NO KEY UPDATE OF l
FOR SHARE OF s

-- name: set_assignee
-- Move an assignment to another person. Its id, status, times and SLA clock stay
-- as they are. $1 assignment, $2 new assignee, $3 the new assignee's score.
UPDATE assignments SET assignee_id = $2, score = $3 WHERE id = $1

-- name: insert_reassignment_decision
-- $1 work item, $2 assignment, $3 actor, $4 reason, $5 candidates (the new
-- assignee first, then the previous one), $6 previous assignee, $7 over limit.
INSERT INTO assignment_decisions (work_item_id, assignment_id, kind, actor, reason,
                                  candidates, previous_assignee_id, over_limit)
VALUES ($1, $2, 'reassigned', $3, $4, $5, $6, $7)
