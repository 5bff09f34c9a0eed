-- Breaches that had no escalation recipient when the SLA monitor marked them.
-- The monitor escalates each one once a recipient exists, or drops it when its
-- clock stops, and deletes the row in the same transaction.
CREATE TABLE sla_unrouted_breaches (
    work_item_id uuid PRIMARY KEY REFERENCES sla_clocks (work_item_id),
    breached_at  timestamptz NOT NULL
);

-- Breaches of running clocks marked before this table existed, which no later
-- pass would otherwise route.
INSERT INTO sla_unrouted_breaches (work_item_id, breached_at)
SELECT c.work_item_id, c.breached_at
FROM sla_clocks c
WHERE c.breached_at IS NOT NULL
  AND c.stopped_at IS NULL
  AND NOT EXISTS (SELECT 1
                  FROM escalation_events e
                  WHERE e.work_item_id = c.work_item_id
                    AND e.level = 1
                    AND e.reason IN ('sla_breach', 're_escalation'));
