-- Units, staff and their load; work items with their SLA clocks, assignments,
-- queue entries and decisions; escalations; the outbox and consumer bookkeeping.

CREATE TABLE units (
    id            text PRIMARY KEY,
    name          text NOT NULL,
    supervisor_id text,
    timezone      text NOT NULL DEFAULT 'UTC',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE staff (
    id                      text PRIMARY KEY,
    unit_id                 text NOT NULL REFERENCES units (id),
    display_name            text NOT NULL DEFAULT '',
    role                    text NOT NULL DEFAULT 'staff'
                            CHECK (role IN ('staff', 'supervisor', 'admin')),
    skills                  text[] NOT NULL DEFAULT '{}',
    -- skill name to proficiency level, for the skills that have one
    skill_levels            jsonb NOT NULL DEFAULT '{}',
    wip_limit               integer NOT NULL CHECK (wip_limit >= 0),
    availability            text NOT NULL DEFAULT 'available'
                            CHECK (availability IN ('available', 'busy', 'unavailable', 'on_leave')),
    unavailable_until       timestamptz,
    availability_reason     text NOT NULL DEFAULT '',
    availability_source     text NOT NULL DEFAULT 'manual'
                            CHECK (availability_source IN ('manual', 'supervisor_override', 'hr_system', 'admin')),
    availability_changed_at timestamptz NOT NULL DEFAULT now(),
    hr_employee_id          text UNIQUE,
    escalates_to_id         text REFERENCES staff (id) DEFERRABLE INITIALLY DEFERRED,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE units
    ADD CONSTRAINT units_supervisor_fk FOREIGN KEY (supervisor_id)
    REFERENCES staff (id) DEFERRABLE INITIALLY DEFERRED;

CREATE INDEX staff_skills_idx ON staff USING gin (skills);
CREATE INDEX staff_unit_idx ON staff (unit_id, id);

-- The row an assignment locks. active_count always equals the person's
-- assignments in assigned, in_progress or on_hold.
CREATE TABLE staff_load (
    staff_id         text PRIMARY KEY REFERENCES staff (id),
    active_count     integer NOT NULL DEFAULT 0 CHECK (active_count >= 0),
    last_assigned_at timestamptz
);

CREATE TABLE sla_policies (
    work_item_type         text NOT NULL,
    priority               smallint NOT NULL CHECK (priority BETWEEN 1 AND 4),
    resolution_target      interval NOT NULL CHECK (resolution_target > interval '0'),
    warning_fraction       double precision NOT NULL DEFAULT 0.75
                           CHECK (warning_fraction > 0 AND warning_fraction < 1),
    re_escalation_interval interval NOT NULL DEFAULT interval '1 hour',
    updated_at             timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (work_item_type, priority)
);

-- Fallback policies for every type: P1 4 hours, P2 8 hours, P3 5 days, P4 14 days.
INSERT INTO sla_policies (work_item_type, priority, resolution_target) VALUES
    ('*', 1, interval '4 hours'),
    ('*', 2, interval '8 hours'),
    ('*', 3, interval '5 days'),
    ('*', 4, interval '14 days');

CREATE TABLE work_items (
    id              uuid PRIMARY KEY,
    type            text NOT NULL,
    external_id     text NOT NULL,
    title           text NOT NULL DEFAULT '',
    required_skills text[] NOT NULL DEFAULT '{}',
    target_unit_id  text REFERENCES units (id),
    priority        smallint NOT NULL CHECK (priority BETWEEN 1 AND 4),
    received_at     timestamptz NOT NULL,
    state           text NOT NULL
                    CHECK (state IN ('queued', 'assigned', 'completed', 'cancelled')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (type, external_id)
);

CREATE TABLE sla_clocks (
    work_item_id      uuid PRIMARY KEY REFERENCES work_items (id),
    resolution_target interval NOT NULL,
    warning_fraction  double precision NOT NULL,
    started_at        timestamptz NOT NULL,
    warning_at        timestamptz NOT NULL,
    deadline          timestamptz NOT NULL,
    paused_since      timestamptz,
    paused_total      interval NOT NULL DEFAULT interval '0',
    warned_at         timestamptz,
    breached_at       timestamptz,
    stopped_at        timestamptz
);

-- The monitor's scans: running clocks by their next due time.
CREATE INDEX sla_clocks_warning_due_idx ON sla_clocks (warning_at)
    WHERE warned_at IS NULL AND breached_at IS NULL AND stopped_at IS NULL AND paused_since IS NULL;
CREATE INDEX sla_clocks_breach_due_idx ON sla_clocks (deadline)
    WHERE breached_at IS NULL AND stopped_at IS NULL AND paused_since IS NULL;

CREATE TABLE assignments (
    id           uuid PRIMARY KEY,
    work_item_id uuid NOT NULL REFERENCES work_items (id),
    assignee_id  text NOT NULL REFERENCES staff (id),
    status       text NOT NULL
                 CHECK (status IN ('assigned', 'in_progress', 'on_hold', 'completed', 'cancelled')),
    score        double precision NOT NULL,
    assigned_at  timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    ended_at     timestamptz,
    end_reason   text NOT NULL DEFAULT ''
);

CREATE UNIQUE INDEX assignments_one_active_per_item_idx ON assignments (work_item_id)
    WHERE status IN ('assigned', 'in_progress', 'on_hold');
CREATE INDEX assignments_active_by_assignee_idx ON assignments (assignee_id)
    WHERE status IN ('assigned', 'in_progress', 'on_hold');
CREATE INDEX assignments_by_item_idx ON assignments (work_item_id, assigned_at);
CREATE INDEX assignments_by_assignee_idx ON assignments (assignee_id, assigned_at DESC, id);
CREATE INDEX assignments_recent_idx ON assignments (assigned_at DESC, id);
CREATE INDEX assignments_by_status_idx ON assignments (status, assigned_at DESC, id);

CREATE TABLE queue_entries (
    work_item_id    uuid PRIMARY KEY REFERENCES work_items (id),
    priority        smallint NOT NULL,
    enqueued_at     timestamptz NOT NULL DEFAULT now(),
    target_unit_id  text,
    required_skills text[] NOT NULL DEFAULT '{}'
);

CREATE INDEX queue_entries_order_idx ON queue_entries (priority, enqueued_at, work_item_id);

-- Append-only audit of assignments, reassignments and queueings.
CREATE TABLE assignment_decisions (
    id            bigserial PRIMARY KEY,
    work_item_id  uuid NOT NULL REFERENCES work_items (id),
    assignment_id uuid REFERENCES assignments (id),
    kind          text NOT NULL
                  CHECK (kind IN ('assigned', 'queued', 'assigned_from_queue', 'reassigned')),
    actor         text NOT NULL DEFAULT 'engine',
    reason        text NOT NULL DEFAULT '',
    candidates    jsonb NOT NULL DEFAULT '[]',
    decided_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX assignment_decisions_by_item_idx ON assignment_decisions (work_item_id, id);

CREATE TABLE escalation_events (
    id                uuid PRIMARY KEY,
    work_item_id      uuid NOT NULL REFERENCES work_items (id),
    assignment_id     uuid REFERENCES assignments (id),
    escalated_from_id text,
    escalated_to_id   text NOT NULL REFERENCES staff (id),
    reason            text NOT NULL
                      CHECK (reason IN ('sla_breach', 'sla_warning', 're_escalation', 'manual')),
    level             integer NOT NULL CHECK (level >= 1),
    escalated_at      timestamptz NOT NULL DEFAULT now(),
    acknowledged_at   timestamptz,
    acknowledged_by   text,
    resolved_at       timestamptz,
    resolved_by       text,
    notes             text NOT NULL DEFAULT '',
    CHECK (escalated_from_id IS DISTINCT FROM escalated_to_id)
);

-- Each work item escalates once per level.
CREATE UNIQUE INDEX escalation_events_once_per_level_idx ON escalation_events (work_item_id, level)
    WHERE reason IN ('sla_breach', 're_escalation');
CREATE UNIQUE INDEX escalation_events_one_warning_idx ON escalation_events (work_item_id, escalated_to_id)
    WHERE reason = 'sla_warning';
CREATE INDEX escalation_events_by_recipient_idx ON escalation_events (escalated_to_id, escalated_at DESC);
CREATE INDEX escalation_events_recent_idx ON escalation_events (escalated_at DESC, id);

-- Escalations are evidence: they are never deleted, and an update may only set
-- acknowledged_*, resolved_* and notes, each of the two stamps once.
CREATE FUNCTION escalation_events_guard() RETURNS trigger
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

CREATE TRIGGER escalation_events_guard_row
    BEFORE UPDATE OR DELETE ON escalation_events
    FOR EACH ROW EXECUTE FUNCTION escalation_events_guard();
CREATE TRIGGER escalation_events_guard_truncate
    BEFORE TRUNCATE ON escalation_events
    FOR EACH STATEMENT EXECUTE FUNCTION escalation_events_guard();

-- Decisions are an audit trail too: no update, no delete.
CREATE FUNCTION append_only_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER assignment_decisions_append_only
    BEFORE UPDATE OR DELETE ON assignment_decisions
    FOR EACH ROW EXECUTE FUNCTION append_only_guard();

-- Events waiting for the relay; a row is deleted once JetStream acknowledged it.
CREATE TABLE outbox (
    id         bigserial PRIMARY KEY,
    event_id   uuid NOT NULL UNIQUE,
    subject    text NOT NULL,
    payload    bytea NOT NULL,
    headers    jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Event ids a consumer has handled, so a redelivery changes nothing.
CREATE TABLE processed_events (
    consumer     text NOT NULL,
    event_id     uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
