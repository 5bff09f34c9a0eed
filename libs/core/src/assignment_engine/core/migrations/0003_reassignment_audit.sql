-- Reassignments in the decision audit: who held the assignment before, and
-- whether the new assignee took it past their WIP limit or while away (an
-- admin's allow_over_limit). Both columns are set only on 'reassigned' rows.
ALTER TABLE assignment_decisions
    ADD COLUMN previous_assignee_id text REFERENCES staff (id),
    ADD COLUMN over_limit boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT assignment_decisions_previous_assignee_check
        CHECK ((kind = 'reassigned') = (previous_assignee_id IS NOT NULL)),
    ADD CONSTRAINT assignment_decisions_over_limit_check
        CHECK (kind = 'reassigned' OR NOT over_limit);
