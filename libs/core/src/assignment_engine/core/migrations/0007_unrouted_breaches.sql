-- Breaches that had no escalation recipient when the SLA monitor marked them.
-- The monitor tries them again, never-tried first and then least recently
-- tried, escalates each one once a recipient exists, or drops it when its
-- clock stops, and deletes the row in the same transaction.
CREATE TABLE sla_unrouted_breaches (
    work_item_id uuid PRIMARY KEY REFERENCES sla_clocks (work_item_id),
    breached_at  timestamptz NOT NULL,
    -- When the monitor last looked for a recipient; NULL before the first try.
    tried_at     timestamptz
);

CREATE INDEX sla_unrouted_breaches_next_try_idx
    ON sla_unrouted_breaches (tried_at NULLS FIRST, breached_at);

-- Breached clocks that still run, for the monitor's sweep that records the
-- breaches a monitor marked without recording them here.
CREATE INDEX sla_clocks_breached_running_idx ON sla_clocks (work_item_id)
    WHERE breached_at IS NOT NULL AND stopped_at IS NULL;

-- Breaches of running clocks marked before this table existed.
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
