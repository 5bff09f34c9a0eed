-- name: insert_warning_escalations
-- Insert the 'sla_warning' escalation (level 1) of each warned item unless the
-- item already has one to that recipient. The claim marks a warning once, and
-- the partial unique index on (work_item_id, escalated_to_id) rejects a second
-- row in any case. Warnings do not climb, so re_escalate_at stays NULL.
-- $1 ids, $2 work items, $3 assignments, $4 escalated-from staff, $5
-- escalated-to staff (parallel arrays). Returns the rows inserted.
INSERT INTO escalation_events (id, work_item_id, assignment_id, escalated_from_id,
                               escalated_to_id, reason, level)
SELECT e.id, e.work_item_id, e.assignment_id, e.escalated_from_id, e.escalated_to_id,
       'sla_warning', 1
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[])
     AS e (id, work_item_id, assignment_id, escalated_from_id, escalated_to_id)
ON CONFLICT (work_item_id, escalated_to_id) WHERE reason = 'sla_warning'
DO NOTHING
RETURNING id, work_item_id, escalated_to_id

-- name: claim_re_escalations
-- Claim open breach and re-escalation events whose re_escalate_at has passed
-- and clear it, oldest first, skipping events or work items another
-- transaction holds. Events of a paused clock are not claimed, so they climb
-- after the clock resumes. $1 batch size.
-- Returns each claimed event with its clock's state, the item's active
-- assignment (NULL when queued) and the recipient of the next level:
--   the recipient's escalates_to_id, else the supervisor of the recipient's
--   unit, skipping the active assignee and the recipient themself;
--   when that person already received a breach or re-escalation of this item,
--   or no one qualifies, the admin with the lowest id in "C" collation order
--   who is neither the assignee nor a previous recipient (cycle = true when a
--   previous recipient was skipped).
-- next_recipient_id is NULL when no staff member qualifies.
WITH due AS (
    SELECT e.id
    FROM escalation_events e
    JOIN work_items w ON w.id = e.work_item_id
    WHERE e.re_escalate_at <= now()
      AND e.acknowledged_at IS NULL
      AND e.resolved_at IS NULL
      AND NOT EXISTS (SELECT 1 FROM sla_clocks c
                      WHERE c.work_item_id = e.work_item_id
                        AND c.paused_since IS NOT NULL
                        AND c.stopped_at IS NULL)
    ORDER BY e.re_escalate_at
    LIMIT $1
    FOR UPDATE OF e SKIP LOCKED
    FOR KEY SHARE OF w SKIP LOCKED
),
cleared AS (
    UPDATE escalation_events e
    SET re_escalate_at = NULL
    FROM due
    WHERE e.id = due.id
    RETURNING e.id, e.work_item_id, e.escalated_to_id, e.level
),
chain AS (
    SELECT cl.id, cl.work_item_id, cl.escalated_to_id, cl.level,
           c.stopped_at IS NOT NULL AS clock_stopped,
           a.id AS assignment_id, a.assignee_id,
           coalesce(nullif(nullif(r.escalates_to_id, a.assignee_id), r.id),
                    nullif(nullif(home.supervisor_id, a.assignee_id), r.id))
               AS candidate_id,
           (SELECT array_agg(prior.escalated_to_id)
            FROM escalation_events prior
            WHERE prior.work_item_id = cl.work_item_id
              AND prior.reason IN ('sla_breach', 're_escalation')
              AND prior.level <= cl.level) AS used_ids
    FROM cleared cl
    LEFT JOIN sla_clocks c ON c.work_item_id = cl.work_item_id
    LEFT JOIN assignments a
           ON a.work_item_id = cl.work_item_id
          AND a.status IN ('assigned', 'in_progress', 'on_hold')
    LEFT JOIN staff r ON r.id = cl.escalated_to_id
    LEFT JOIN units home ON home.id = r.unit_id
)
SELECT ch.id, ch.work_item_id, ch.escalated_to_id, ch.level, ch.clock_stopped,
       ch.assignment_id, ch.assignee_id,
       coalesce(ch.candidate_id = ANY (ch.used_ids), false) AS cycle,
       CASE WHEN ch.candidate_id IS NOT NULL AND NOT ch.candidate_id = ANY (ch.used_ids)
            THEN ch.candidate_id
            ELSE (SELECT admin.id
                  FROM staff admin
                  WHERE admin.role = 'admin'
                    AND admin.id IS DISTINCT FROM ch.assignee_id
                    AND NOT admin.id = ANY (ch.used_ids)
                  ORDER BY admin.id COLLATE "C"
                  LIMIT 1)
       END AS next_recipient_id
FROM chain ch
ORDER BY ch.work_item_id, ch.level

-- name: insert_re_escalations
-- Insert the next level of each climbing escalation unless the item already
-- has that level. The partial unique index on (work_item_id, level) decides,
-- so no two monitors insert a level twice. The new row's re_escalate_at is now
-- plus the re_escalation_interval of the item's policy, or NULL at the maximum
-- level. The policy is that of the item's type, else of "*", at its priority,
-- and without one the interval is 1 hour.
-- $1 ids, $2 work items, $3 assignments, $4 escalated-from staff (the previous
-- level's recipient), $5 escalated-to staff, $6 levels (parallel arrays),
-- $7 the maximum level. Returns the rows inserted.
INSERT INTO escalation_events (id, work_item_id, assignment_id, escalated_from_id,
                               escalated_to_id, reason, level, re_escalate_at)
SELECT e.id, e.work_item_id, e.assignment_id, e.escalated_from_id, e.escalated_to_id,
       're_escalation', e.level,
       CASE WHEN e.level < $7::integer
            THEN now() + coalesce(p.re_escalation_interval, interval '1 hour') END
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::integer[])
     AS e (id, work_item_id, assignment_id, escalated_from_id, escalated_to_id, level)
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
RETURNING id, work_item_id, escalated_to_id, level
