-- Business calendars for SLA clocks, re-escalation of unacknowledged
-- escalations, daily capacity snapshots per unit, and the summaries that let
-- old assignments be purged without breaking the decision audit.

CREATE TABLE business_calendars (
    id         text PRIMARY KEY,
    -- IANA time zone name in which the hours and holidays are local.
    timezone   text NOT NULL,
    -- [{"weekday": 1..7 (ISO, 1 is Monday), "start": "HH:MM", "end": "HH:MM" or "24:00"}]
    hours      jsonb NOT NULL DEFAULT '[]',
    -- [{"first": "YYYY-MM-DD", "last": "YYYY-MM-DD", "name": text}], inclusive
    holidays   jsonb NOT NULL DEFAULT '[]',
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- NULL means the item's target unit's default calendar, else 24x7.
ALTER TABLE sla_policies
    ADD COLUMN calendar_id text REFERENCES business_calendars (id);

ALTER TABLE units
    ADD COLUMN default_calendar_id text REFERENCES business_calendars (id);

-- The calendar whose working time the clock counts, fixed when the clock
-- starts; NULL means 24x7.
ALTER TABLE sla_clocks
    ADD COLUMN calendar_id text REFERENCES business_calendars (id);

-- Per-day counts of warnings and breaches in capacity snapshots.
CREATE INDEX sla_clocks_warned_at_idx ON sla_clocks (warned_at)
    WHERE warned_at IS NOT NULL;
CREATE INDEX sla_clocks_breached_at_idx ON sla_clocks (breached_at)
    WHERE breached_at IS NOT NULL;

-- When an open breach or re-escalation climbs one level unless acknowledged
-- or resolved first. It is set at insert to escalated_at plus the policy's
-- re_escalation_interval, and NULL at the maximum level. It is cleared once the
-- escalation has climbed, is acknowledged or resolved, or its clock stopped.
-- Escalations raised before this migration have none and do not climb.
ALTER TABLE escalation_events
    ADD COLUMN re_escalate_at timestamptz;

CREATE INDEX escalation_events_re_escalate_due_idx ON escalation_events (re_escalate_at)
    WHERE re_escalate_at IS NOT NULL AND acknowledged_at IS NULL AND resolved_at IS NULL;
-- The retention purge keeps assignments that an escalation references, and a
-- delete from assignments checks this foreign key.
CREATE INDEX escalation_events_by_assignment_idx ON escalation_events (assignment_id)
    WHERE assignment_id IS NOT NULL;

-- The guard of 0001 with one addition: re_escalate_at may change, but only to
-- NULL, so the climb bookkeeping never rewrites the recorded escalation.
CREATE OR REPLACE FUNCTION escalation_events_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'escalation events cannot be deleted'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id
       OR NEW.work_item_id IS DISTINCT FROM OLD.work_item_id
       OR NEW.assignment_id IS DISTINCT FROM OLD.assignment_id
       OR NEW.escalated_from_id IS DISTINCT FROM OLD.escalated_from_id
       OR NEW.escalated_to_id IS DISTINCT FROM OLD.escalated_to_id
       OR NEW.reason IS DISTINCT FROM OLD.reason
       OR NEW.level IS DISTINCT FROM OLD.level
       OR NEW.escalated_at IS DISTINCT FROM OLD.escalated_at THEN
        RAISE EXCEPTION 'escalation event % cannot be rewritten', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.re_escalate_at IS NOT NULL
       AND NEW.re_escalate_at IS DISTINCT FROM OLD.re_escalate_at THEN
        RAISE EXCEPTION 're_escalate_at of escalation event % can only be cleared', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.acknowledged_at IS NOT NULL
       AND (NEW.acknowledged_at IS DISTINCT FROM OLD.acknowledged_at
            OR NEW.acknowledged_by IS DISTINCT FROM OLD.acknowledged_by) THEN
        RAISE EXCEPTION 'escalation event % is already acknowledged', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.resolved_at IS NOT NULL
       AND (NEW.resolved_at IS DISTINCT FROM OLD.resolved_at
            OR NEW.resolved_by IS DISTINCT FROM OLD.resolved_by
            OR NEW.notes IS DISTINCT FROM OLD.notes) THEN
        RAISE EXCEPTION 'escalation event % is already resolved', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;

-- One row per unit and day, written once by the SLA monitor after the day
-- ended in the organisation's time zone (AE_ORG_TIMEZONE). warnings and
-- breaches are the marks of that day. The other counts are the live values at
-- recorded_at, which for a back-filled day is later than the day's end.
CREATE TABLE capacity_snapshots (
    unit_id            text NOT NULL REFERENCES units (id),
    day                date NOT NULL,
    staff              integer NOT NULL,
    available_staff    integer NOT NULL,
    wip_capacity       integer NOT NULL,
    active_assignments integer NOT NULL,
    utilisation        double precision NOT NULL,
    queue_length       integer NOT NULL,
    warnings           integer NOT NULL,
    breaches           integer NOT NULL,
    recorded_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (unit_id, day)
);

CREATE INDEX capacity_snapshots_by_day_idx ON capacity_snapshots (day, unit_id);

-- Live capacity of each unit: its staff, those available or busy, the WIP
-- limits of those, their active assignments, and the items queued for it.
CREATE VIEW unit_capacity AS
SELECT u.id AS unit_id,
       coalesce(s.staff, 0) AS staff,
       coalesce(s.available_staff, 0) AS available_staff,
       coalesce(s.wip_capacity, 0) AS wip_capacity,
       coalesce(s.active_assignments, 0) AS active_assignments,
       CASE WHEN coalesce(s.wip_capacity, 0) > 0
            THEN s.active_assignments::float8 / s.wip_capacity
            ELSE 0 END AS utilisation,
       coalesce(q.queue_length, 0) AS queue_length
FROM units u
LEFT JOIN (
    SELECT st.unit_id,
           count(*)::integer AS staff,
           (count(*) FILTER (WHERE st.availability IN ('available', 'busy')))::integer
               AS available_staff,
           (coalesce(sum(st.wip_limit) FILTER (WHERE st.availability IN ('available', 'busy')), 0))::integer
               AS wip_capacity,
           (coalesce(sum(l.active_count), 0))::integer AS active_assignments
    FROM staff st
    LEFT JOIN staff_load l ON l.staff_id = st.id
    GROUP BY st.unit_id
) s ON s.unit_id = u.id
LEFT JOIN (
    SELECT target_unit_id, count(*)::integer AS queue_length
    FROM queue_entries
    GROUP BY target_unit_id
) q ON q.target_unit_id = u.id;

-- Retention. Every assignment the assigner creates is referenced by an
-- assignment_decisions row, and that table is append-only. So the decisions
-- now reference a compact summary of each assignment instead of the
-- assignment itself, and the SLA monitor may delete old ended assignments
-- while every decision keeps a valid reference. A trigger writes the summary
-- when the assignment is inserted. The purge copies the final assignee,
-- status and end time into it before it deletes the assignment row.
CREATE TABLE assignment_summaries (
    assignment_id uuid PRIMARY KEY,
    work_item_id  uuid NOT NULL,
    assigned_at   timestamptz NOT NULL,
    -- The columns below are NULL until the assignment row is purged, because a
    -- reassignment changes the assignee of a live row. Read assignments before.
    assignee_id   text,
    status        text CHECK (status IN ('completed', 'cancelled')),
    ended_at      timestamptz,
    end_reason    text,
    purged_at     timestamptz,
    CHECK ((purged_at IS NULL) = (status IS NULL)),
    CHECK ((purged_at IS NULL) = (assignee_id IS NULL))
);

-- Who held an item at a given time, for the per-unit counts of snapshots.
CREATE INDEX assignment_summaries_by_item_idx ON assignment_summaries (work_item_id, assigned_at);

INSERT INTO assignment_summaries (assignment_id, work_item_id, assigned_at)
SELECT id, work_item_id, assigned_at FROM assignments;

CREATE FUNCTION assignment_summaries_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO assignment_summaries (assignment_id, work_item_id, assigned_at)
    VALUES (NEW.id, NEW.work_item_id, NEW.assigned_at);
    RETURN NEW;
END;
$$;

CREATE TRIGGER assignments_summary_row
    AFTER INSERT ON assignments
    FOR EACH ROW EXECUTE FUNCTION assignment_summaries_insert();

-- Summaries are kept for ever. An update may only record the purge, once, and
-- never changes the columns copied at insert.
CREATE FUNCTION assignment_summaries_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'assignment summaries cannot be deleted'
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF OLD.purged_at IS NOT NULL
       OR NEW.assignment_id IS DISTINCT FROM OLD.assignment_id
       OR NEW.work_item_id IS DISTINCT FROM OLD.work_item_id
       OR NEW.assigned_at IS DISTINCT FROM OLD.assigned_at THEN
        RAISE EXCEPTION 'assignment summary % cannot be rewritten', OLD.assignment_id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER assignment_summaries_guard_row
    BEFORE UPDATE OR DELETE ON assignment_summaries
    FOR EACH ROW EXECUTE FUNCTION assignment_summaries_guard();
CREATE TRIGGER assignment_summaries_guard_truncate
    BEFORE TRUNCATE ON assignment_summaries
    FOR EACH STATEMENT EXECUTE FUNCTION assignment_summaries_guard();

ALTER TABLE assignment_decisions
    DROP CONSTRAINT assignment_decisions_assignment_id_fkey,
    ADD CONSTRAINT assignment_decisions_assignment_id_fkey
        FOREIGN KEY (assignment_id) REFERENCES assignment_summaries (assignment_id);

-- The retention purge's scan: ended assignments by end time.
CREATE INDEX assignments_ended_idx ON assignments (ended_at)
    WHERE status IN ('completed', 'cancelled');
