-- name: items_with_two_active_assignments
-- Work items with more than one active assignment (the partial unique index
-- should make this impossible).
SELECT work_item_id, count(*) AS active
FROM assignments
WHERE status IN ('assigned', 'in_progress', 'on_hold')
GROUP BY work_item_id
HAVING count(*) > 1

-- name: staff_over_wip_limit
-- Staff whose active assignments exceed their WIP limit.
-- NOTE: the API can reach this state on purpose, by lowering a WIP limit below
-- the active count or reassigning with allow_over_limit, and it is listed then too.
SELECT s.id, s.wip_limit, count(a.id) AS active
FROM staff s
JOIN assignments a ON a.assignee_id = s.id AND a.status IN ('assigned', 'in_progress', 'on_hold')
GROUP BY s.id, s.wip_limit
HAVING count(a.id) > s.wip_limit

-- name: counters_off
-- Staff whose staff_load.active_count differs from their active assignments.
SELECT l.staff_id, l.active_count,
       (SELECT count(*) FROM assignments a
        WHERE a.assignee_id = l.staff_id AND a.status IN ('assigned', 'in_progress', 'on_hold')) AS actual
FROM staff_load l
WHERE l.active_count <> (SELECT count(*) FROM assignments a
                         WHERE a.assignee_id = l.staff_id
                           AND a.status IN ('assigned', 'in_progress', 'on_hold'))

-- name: ranking_copy_off
-- Staff whose staff_rank row, the ranking's copy, is missing or differs from
-- their staff and staff_load rows.
SELECT s.id AS staff_id
FROM staff s
JOIN staff_load l ON l.staff_id = s.id
LEFT JOIN staff_rank r ON r.staff_id = s.id
WHERE r.staff_id IS NULL
   OR (r.unit_id, r.skills, r.availability, r.wip_limit, r.active_count, r.last_assigned_at)
      IS DISTINCT FROM
      (s.unit_id, s.skills, s.availability, s.wip_limit, l.active_count, l.last_assigned_at)

-- name: breaches_not_escalated_once
-- Breached clocks without exactly one level-1 breach escalation. Clocks with no
-- possible recipient are listed too; the monitor logs each of them as an error.
SELECT c.work_item_id, count(e.id) AS escalations
FROM sla_clocks c
LEFT JOIN escalation_events e
       ON e.work_item_id = c.work_item_id AND e.reason = 'sla_breach' AND e.level = 1
WHERE c.breached_at IS NOT NULL
GROUP BY c.work_item_id
HAVING count(e.id) <> 1

-- name: items_both_queued_and_assigned
-- Work items with a queue entry and an active assignment at once.
SELECT q.work_item_id
FROM queue_entries q
JOIN assignments a ON a.work_item_id = q.work_item_id
WHERE a.status IN ('assigned', 'in_progress', 'on_hold')

-- name: queued_while_someone_has_room
-- Waiting items that some eligible person with room could take. $1 minimum
-- matched skills (capped at the number required).
SELECT q.work_item_id, s.id AS staff_id
FROM queue_entries q
JOIN work_items w ON w.id = q.work_item_id
JOIN LATERAL (
    SELECT s.id
    FROM staff s JOIN staff_load l ON l.staff_id = s.id
    WHERE s.availability IN ('available', 'busy')
      AND s.wip_limit > 0
      AND l.active_count < s.wip_limit
      AND (SELECT count(*) FROM unnest(s.skills) k WHERE k = ANY (w.required_skills))
          >= least($1::integer, cardinality(w.required_skills))
    LIMIT 1
) s ON true
