-- name: unit_capacity
-- Live capacity of every unit, or of one, by unit id in "C" collation order.
-- $1 unit or NULL.
SELECT unit_id, staff, available_staff, wip_capacity, active_assignments,
       utilisation, queue_length
FROM unit_capacity
WHERE ($1::text IS NULL OR unit_id = $1)
ORDER BY unit_id COLLATE "C"

-- name: unit_exists
-- $1 unit. Returns nothing for an unknown unit.
SELECT 1 FROM units WHERE id = $1

-- name: list_snapshots
-- Capacity snapshots of days $1 to $2 inclusive, by day, then unit id in "C"
-- collation order. $3 unit or NULL, $4 limit.
SELECT unit_id, day, staff, available_staff, wip_capacity, active_assignments,
       utilisation, queue_length, warnings, breaches, recorded_at
FROM capacity_snapshots
WHERE day BETWEEN $1 AND $2
  AND ($3::text IS NULL OR unit_id = $3)
ORDER BY day, unit_id COLLATE "C"
LIMIT $4

-- name: try_snapshot_lock
-- Take the transaction-level advisory lock of the snapshot pass unless another
-- transaction holds it. $1 lock key. Returns whether it was taken.
SELECT pg_try_advisory_xact_lock($1)

-- name: latest_snapshot_day
-- The most recent day that has a snapshot of any unit, or NULL.
SELECT max(day) FROM capacity_snapshots

-- name: insert_snapshots
-- Record the snapshot of day $1 for every unit that has none yet: the live
-- capacity now, and the warnings and breaches marked in [$2, $3), the day's
-- bounds as instants. A mark counts for the unit of the staff member who held
-- the item then, else for the item's target unit. The holder is the assignee
-- of the assignment begun at or before the mark and not yet ended at it. It is
-- read through assignment_summaries, so purged assignments count too. A mark
-- of a queued item without a target unit counts for no unit. Returns the units
-- recorded.
WITH marks AS (
    SELECT work_item_id, warned_at AS marked_at, 'warning' AS kind
    FROM sla_clocks
    WHERE warned_at >= $2 AND warned_at < $3
    UNION ALL
    SELECT work_item_id, breached_at AS marked_at, 'breach' AS kind
    FROM sla_clocks
    WHERE breached_at >= $2 AND breached_at < $3
),
attributed AS (
    SELECT coalesce(holder.unit_id, w.target_unit_id) AS unit_id, m.kind
    FROM marks m
    JOIN work_items w ON w.id = m.work_item_id
    LEFT JOIN LATERAL (
        SELECT st.unit_id
        FROM assignment_summaries s
        LEFT JOIN assignments a ON a.id = s.assignment_id
        JOIN staff st ON st.id = coalesce(a.assignee_id, s.assignee_id)
        WHERE s.work_item_id = m.work_item_id
          AND s.assigned_at <= m.marked_at
          AND coalesce(a.ended_at, s.ended_at, 'infinity'::timestamptz) > m.marked_at
        ORDER BY s.assigned_at DESC
        LIMIT 1
    ) holder ON true
),
counts AS (
    SELECT unit_id,
           (count(*) FILTER (WHERE kind = 'warning'))::integer AS warnings,
           (count(*) FILTER (WHERE kind = 'breach'))::integer AS breaches
    FROM attributed
    WHERE unit_id IS NOT NULL
    GROUP BY unit_id
)
INSERT INTO capacity_snapshots (unit_id, day, staff, available_staff, wip_capacity,
                                active_assignments, utilisation, queue_length,
                                warnings, breaches)
SELECT u.unit_id, $1::date, u.staff, u.available_staff, u.wip_capacity,
       u.active_assignments, u.utilisation, u.queue_length,
       coalesce(c.warnings, 0), coalesce(c.breaches, 0)
FROM unit_capacity u
LEFT JOIN counts c ON c.unit_id = u.unit_id
ON CONFLICT (unit_id, day) DO NOTHING
RETURNING unit_id
