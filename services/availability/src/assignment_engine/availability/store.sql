-- name: get_unit
-- $1 unit id.
SELECT id, name, supervisor_id, timezone, default_calendar_id FROM units WHERE id = $1

-- name: list_units
-- Every unit, by id.
SELECT id, name, supervisor_id, timezone, default_calendar_id FROM units ORDER BY id

-- name: existing_unit_ids
-- The ids among $1 that name a unit.
SELECT id FROM units WHERE id = ANY ($1::text[])

-- name: existing_staff_ids
-- The ids among $1 that name a staff member.
SELECT id FROM staff WHERE id = ANY ($1::text[])

-- name: hr_employee_id_owners
-- Staff outside $2 (staff ids) who hold one of the HR employee ids $1.
SELECT id, hr_employee_id FROM staff
WHERE hr_employee_id = ANY ($1::text[]) AND NOT id = ANY ($2::text[])

-- name: lock_units
-- Lock the existing units among $1, in id order so concurrent writers queue
-- instead of deadlocking. Returns their ids.
SELECT id FROM units WHERE id = ANY ($1::text[]) ORDER BY id FOR NO KEY UPDATE

-- name: lock_staff
-- Lock the existing staff among $1 against assignment decisions (which read the
-- row FOR SHARE) and other writers, in id order. The order is by "C" collation,
-- as the assigner's reassignment locks a pair, whatever the database's
-- collation. Returns what an update compares.
-- NOTE: the tests run on "C" databases only, so no test shows that order on
-- another collation.
SELECT id, unit_id, wip_limit, availability FROM staff
WHERE id = ANY ($1::text[])
ORDER BY id COLLATE "C"
FOR NO KEY UPDATE

-- name: share_lock_staff
-- Keep the staff among $1 from being changed (for example moved to another
-- unit) until commit, in id order by "C" collation. Returns the ids that exist.
SELECT id FROM staff WHERE id = ANY ($1::text[]) ORDER BY id COLLATE "C" FOR SHARE

-- name: insert_units
-- Create units; ids that exist already are skipped. $1 ids, $2 names,
-- $3 supervisor ids (NULL for none), $4 time zones, $5 default calendars (NULL
-- for none). Returns the ids created.
INSERT INTO units (id, name, supervisor_id, timezone, default_calendar_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
ON CONFLICT (id) DO NOTHING
RETURNING id

-- name: update_units
-- Replace the fields of existing units; parameters as for insert_units.
UPDATE units AS u
SET name = x.name, supervisor_id = x.supervisor_id, timezone = x.timezone,
    default_calendar_id = x.default_calendar_id, updated_at = now()
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
     AS x (id, name, supervisor_id, timezone, default_calendar_id)
WHERE u.id = x.id

-- name: clear_changed_hr_employee_ids
-- Clear the HR employee id of each staff member in $1 whose new id ($2, same
-- position) differs, so ids can move between people of one request without
-- tripping the unique constraint on the way.
UPDATE staff AS s
SET hr_employee_id = NULL
FROM unnest($1::text[], $2::text[]) AS x (id, hr_employee_id)
WHERE s.id = x.id
  AND s.hr_employee_id IS NOT NULL
  AND s.hr_employee_id IS DISTINCT FROM x.hr_employee_id

-- name: insert_staff
-- Create staff members; ids that exist already are skipped. $1 ids, $2 unit
-- ids, $3 display names, $4 roles, $5 skill names (JSON array text per person),
-- $6 skill levels (JSON object text per person), $7 WIP limits, $8 HR employee
-- ids, $9 escalation targets (NULL for none). Returns the ids created. Skills
-- travel as JSON text because unnest flattens a two-dimensional text[].
INSERT INTO staff (id, unit_id, display_name, role, skills, skill_levels, wip_limit,
                   hr_employee_id, escalates_to_id)
SELECT x.id, x.unit_id, x.display_name, x.role,
       ARRAY(SELECT k.name FROM jsonb_array_elements_text(x.skills::jsonb)
                    WITH ORDINALITY AS k (name, position) ORDER BY k.position),
       x.skill_levels::jsonb, x.wip_limit, x.hr_employee_id, x.escalates_to_id
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
            $7::integer[], $8::text[], $9::text[])
     AS x (id, unit_id, display_name, role, skills, skill_levels, wip_limit,
           hr_employee_id, escalates_to_id)
ON CONFLICT (id) DO NOTHING
RETURNING id

-- name: update_staff
-- Replace the profile of existing staff members, keeping availability, load and
-- created_at; parameters as for insert_staff.
UPDATE staff AS s
SET unit_id = x.unit_id, display_name = x.display_name, role = x.role,
    skills = ARRAY(SELECT k.name FROM jsonb_array_elements_text(x.skills::jsonb)
                    WITH ORDINALITY AS k (name, position) ORDER BY k.position),
    skill_levels = x.skill_levels::jsonb, wip_limit = x.wip_limit,
    hr_employee_id = x.hr_employee_id, escalates_to_id = x.escalates_to_id,
    updated_at = now()
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
            $7::integer[], $8::text[], $9::text[])
     AS x (id, unit_id, display_name, role, skills, skill_levels, wip_limit,
           hr_employee_id, escalates_to_id)
WHERE s.id = x.id

-- name: insert_loads
-- Give new staff members an empty load row. $1 staff ids.
INSERT INTO staff_load (staff_id, active_count)
SELECT unnest($1::text[]), 0
ON CONFLICT (staff_id) DO NOTHING

-- name: supervisor_problems
-- Units among $1 (unit ids), or supervised by someone among $2 (staff ids),
-- whose supervisor does not exist or is not a member of the unit.
SELECT u.id AS unit_id, u.supervisor_id, s.id IS NOT NULL AS supervisor_exists,
       s.unit_id AS supervisor_unit_id
FROM units u
LEFT JOIN staff s ON s.id = u.supervisor_id
WHERE u.supervisor_id IS NOT NULL
  AND (u.id = ANY ($1::text[]) OR u.supervisor_id = ANY ($2::text[]))
  AND s.unit_id IS DISTINCT FROM u.id

-- name: check_deferred_constraints
-- Check the deferred foreign keys (unit supervisor, escalation target) now, so a
-- violation is raised inside the transaction body rather than at commit.
SET CONSTRAINTS ALL IMMEDIATE

-- name: get_staff
-- A staff member with their active assignment count. $1 staff id.
SELECT s.id, s.unit_id, s.display_name, s.role, s.skills, s.skill_levels, s.wip_limit,
       s.availability, s.unavailable_until, s.availability_reason,
       s.availability_source, s.hr_employee_id, s.escalates_to_id,
       coalesce(l.active_count, 0) AS active_count
FROM staff s
LEFT JOIN staff_load l ON l.staff_id = s.id
WHERE s.id = $1

-- name: list_staff
-- Staff by id after a keyset position. $1 unit id or NULL for every unit,
-- $2 the id of the last row of the previous page or NULL, $3 limit.
SELECT s.id, s.unit_id, s.display_name, s.role, s.skills, s.skill_levels, s.wip_limit,
       s.availability, s.unavailable_until, s.availability_reason,
       s.availability_source, s.hr_employee_id, s.escalates_to_id,
       coalesce(l.active_count, 0) AS active_count
FROM staff s
LEFT JOIN staff_load l ON l.staff_id = s.id
WHERE ($1::text IS NULL OR s.unit_id = $1)
  AND ($2::text IS NULL OR s.id > $2)
ORDER BY s.id
LIMIT $3

-- name: lock_availability
-- Lock a staff member's row for an availability change. NO KEY UPDATE conflicts
-- with the FOR SHARE lock an assignment decision holds on the row, so a change
-- and a decision never interleave, but not with the KEY SHARE locks that foreign
-- keys from new assignments take. $1 staff id.
SELECT id, unit_id, availability FROM staff WHERE id = $1 FOR NO KEY UPDATE

-- name: set_availability
-- $1 staff id, $2 availability, $3 unavailable until (nullable), $4 reason,
-- $5 source. Clears availability_leave_id, so no leave restores availability
-- over this change when it ends.
UPDATE staff
SET availability = $2, unavailable_until = $3, availability_reason = $4,
    availability_source = $5, availability_leave_id = NULL,
    availability_changed_at = now(), updated_at = now()
WHERE id = $1

-- name: existing_calendar_ids
-- The ids among $1 that name a business calendar, locked so none is removed
-- before commit.
SELECT id FROM business_calendars WHERE id = ANY ($1::text[]) FOR SHARE
