-- Scheduled leave, which the availability service's timer starts and ends, and
-- the deliveries of the HR system, each stored once by its delivery id.

CREATE TABLE leave_periods (
    id            uuid PRIMARY KEY,
    staff_id      text NOT NULL REFERENCES staff (id),
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL,
    reason        text NOT NULL DEFAULT '',
    source        text NOT NULL
                  CHECK (source IN ('manual', 'supervisor_override', 'hr_system', 'admin')),
    -- The HR system's id of the leave, for leave that came from HR.
    hr_leave_id   text UNIQUE,
    -- Version and event time of the last HR event applied to this leave; an
    -- older event is stored as stale.
    hr_version    bigint NOT NULL DEFAULT 0,
    hr_event_time timestamptz,
    state         text NOT NULL
                  CHECK (state IN ('scheduled', 'active', 'ended', 'cancelled')),
    activated_at  timestamptz,
    -- When the leave actually ended or was cancelled.
    ended_at      timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);

-- The timer's scans: scheduled leave by start, active leave by end.
CREATE INDEX leave_periods_start_due_idx ON leave_periods (starts_at)
    WHERE state = 'scheduled';
CREATE INDEX leave_periods_end_due_idx ON leave_periods (ends_at)
    WHERE state = 'active';
CREATE INDEX leave_periods_by_staff_idx ON leave_periods (staff_id, starts_at);

-- The leave whose start set the staff member's current on_leave availability.
-- Any other availability change clears it, so a leave that ends restores
-- availability only while it still holds it.
ALTER TABLE staff
    ADD COLUMN availability_leave_id uuid REFERENCES leave_periods (id);

CREATE TABLE hr_events (
    delivery_id     text PRIMARY KEY,
    received_at     timestamptz NOT NULL DEFAULT now(),
    event_type      text NOT NULL
                    CHECK (event_type IN ('leave_approved', 'leave_cancelled', 'employee_returned')),
    employee_id     text NOT NULL,
    -- The HR system's leave id; empty when the event names no leave.
    leave_id        text NOT NULL DEFAULT '',
    version         bigint NOT NULL DEFAULT 0,
    event_time      timestamptz NOT NULL,
    payload         jsonb NOT NULL,
    outcome         text NOT NULL CHECK (outcome IN ('accepted', 'stale', 'rejected')),
    reason          text NOT NULL DEFAULT '',
    staff_id        text REFERENCES staff (id),
    leave_period_id uuid REFERENCES leave_periods (id)
);

-- Cancellations of leave not known yet, which make an older approval stale.
CREATE INDEX hr_events_by_leave_idx ON hr_events (leave_id, event_type)
    WHERE leave_id <> '';
