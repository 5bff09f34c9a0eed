-- name: page_entries
-- Waiting items in queue order after a keyset position, with positions in the
-- whole queue. $1 target unit or NULL, $2 priority, $3 enqueued at, $4 work item
-- of the last row of the previous page (all NULL for the first page), $5 limit.
WITH ordered AS (
    SELECT q.work_item_id, q.priority, q.enqueued_at, q.target_unit_id,
           row_number() OVER (ORDER BY q.priority, q.enqueued_at, q.work_item_id) AS position
    FROM queue_entries q
)
SELECT o.position, o.enqueued_at, o.priority AS queue_priority,
       w.id, w.type, w.external_id, w.title, w.required_skills, w.target_unit_id,
       w.priority, w.received_at, w.state
FROM ordered o
JOIN work_items w ON w.id = o.work_item_id
WHERE ($1::text IS NULL OR o.target_unit_id = $1)
  AND ($2::smallint IS NULL
       OR (o.priority, o.enqueued_at, o.work_item_id) > ($2::smallint, $3::timestamptz, $4::uuid))
ORDER BY o.priority, o.enqueued_at, o.work_item_id
LIMIT $5

-- name: offer_ids
-- Ids of waiting items in queue order after a keyset position. $1 priority,
-- $2 enqueued at, $3 work item (all NULL to start), $4 limit.
SELECT work_item_id, priority, enqueued_at
FROM queue_entries
WHERE $1::smallint IS NULL
   OR (priority, enqueued_at, work_item_id) > ($1::smallint, $2::timestamptz, $3::uuid)
ORDER BY priority, enqueued_at, work_item_id
LIMIT $4

-- name: count_entries
-- Waiting items, optionally of one target unit. $1 unit or NULL.
SELECT count(*) FROM queue_entries WHERE $1::text IS NULL OR target_unit_id = $1

-- name: entry_position
-- One waiting item with its position in the whole queue. $1 work item.
SELECT (SELECT count(*) FROM queue_entries o
        WHERE (o.priority, o.enqueued_at, o.work_item_id) < (q.priority, q.enqueued_at, q.work_item_id)
       ) + 1 AS position,
       q.enqueued_at,
       w.id, w.type, w.external_id, w.title, w.required_skills, w.target_unit_id,
       w.priority, w.received_at, w.state
FROM queue_entries q
JOIN work_items w ON w.id = q.work_item_id
WHERE q.work_item_id = $1

-- name: drain_worthwhile
-- Whether anything waits while some eligible person has room.
SELECT EXISTS (SELECT 1 FROM queue_entries)
   AND EXISTS (
       SELECT 1 FROM staff s JOIN staff_load l ON l.staff_id = s.id
       WHERE s.availability IN ('available', 'busy') AND s.wip_limit > 0
         AND l.active_count < s.wip_limit
   )
