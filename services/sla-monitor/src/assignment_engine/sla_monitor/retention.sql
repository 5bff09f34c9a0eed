-- name: purge_assignments
-- Delete up to $2 completed or cancelled assignments that ended more than $1
-- days ago, oldest first, skipping rows another transaction holds. An
-- assignment that an escalation references is kept for ever. Before the delete
-- the final assignee, status and end of each one are copied into its
-- assignment_summaries row, which the decisions reference. Returns the
-- assignments deleted.
WITH doomed AS (
    SELECT a.id, a.assignee_id, a.status, a.ended_at, a.end_reason
    FROM assignments a
    WHERE a.status IN ('completed', 'cancelled')
      AND a.ended_at < now() - make_interval(days => $1::integer)
      AND NOT EXISTS (SELECT 1 FROM escalation_events e WHERE e.assignment_id = a.id)
    ORDER BY a.ended_at
    LIMIT $2
    FOR UPDATE OF a SKIP LOCKED
),
summarised AS (
    UPDATE assignment_summaries s
    SET assignee_id = d.assignee_id,
        status = d.status,
        ended_at = d.ended_at,
        end_reason = d.end_reason,
        purged_at = now()
    FROM doomed d
    WHERE s.assignment_id = d.id
    RETURNING s.assignment_id
)
DELETE FROM assignments a
USING summarised s
WHERE a.id = s.assignment_id
RETURNING a.id
