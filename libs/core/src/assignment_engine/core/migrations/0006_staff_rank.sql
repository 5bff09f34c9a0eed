-- staff_rank: what ranking reads of each person, their profile fields from
-- staff and their load from staff_load, in one narrow row. Ranking then scans
-- the skill holders through one GIN index without joining the two tables.
-- Triggers keep the copy in the transaction that changes staff or staff_load.
-- They lock a staff_rank row only after the staff or staff_load row they
-- copy, and nothing locks staff_rank first, so the copy adds no lock cycle.

-- No change to staff or staff_load may commit between the copy below and the
-- triggers that keep it, or the copy would miss it. This is the lock that
-- CREATE TRIGGER takes anyway, taken before the copy.
LOCK TABLE staff, staff_load IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE staff_rank (
    staff_id         text PRIMARY KEY REFERENCES staff_load (staff_id) ON DELETE CASCADE,
    unit_id          text NOT NULL,
    skills           text[] NOT NULL,
    availability     text NOT NULL,
    wip_limit        integer NOT NULL,
    active_count     integer NOT NULL,
    last_assigned_at timestamptz
) WITH (fillfactor = 70);

-- Every assignment and completion updates active_count; the free space that
-- fillfactor leaves lets those updates stay HOT, so the GIN index is not
-- touched. fastupdate is off so scans never read a pending list.
CREATE INDEX staff_rank_skills_idx ON staff_rank USING gin (skills) WITH (fastupdate = off);

INSERT INTO staff_rank (staff_id, unit_id, skills, availability, wip_limit, active_count,
                        last_assigned_at)
SELECT s.id, s.unit_id, s.skills, s.availability, s.wip_limit, l.active_count,
       l.last_assigned_at
FROM staff s
JOIN staff_load l ON l.staff_id = s.id;

CREATE FUNCTION staff_rank_copy_load() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO staff_rank (staff_id, unit_id, skills, availability, wip_limit,
                                active_count, last_assigned_at)
        SELECT s.id, s.unit_id, s.skills, s.availability, s.wip_limit, NEW.active_count,
               NEW.last_assigned_at
        FROM staff s
        WHERE s.id = NEW.staff_id;
    ELSE
        UPDATE staff_rank
        SET active_count = NEW.active_count, last_assigned_at = NEW.last_assigned_at
        WHERE staff_id = NEW.staff_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER staff_load_copy_to_rank
AFTER INSERT ON staff_load
FOR EACH ROW EXECUTE FUNCTION staff_rank_copy_load();

CREATE TRIGGER staff_load_changes_copy_to_rank
AFTER UPDATE ON staff_load
FOR EACH ROW
WHEN ((OLD.active_count, OLD.last_assigned_at)
      IS DISTINCT FROM (NEW.active_count, NEW.last_assigned_at))
EXECUTE FUNCTION staff_rank_copy_load();

CREATE FUNCTION staff_rank_copy_profile() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE staff_rank
    SET unit_id = NEW.unit_id, skills = NEW.skills, availability = NEW.availability,
        wip_limit = NEW.wip_limit
    WHERE staff_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER staff_changes_copy_to_rank
AFTER UPDATE ON staff
FOR EACH ROW
WHEN ((OLD.unit_id, OLD.skills, OLD.availability, OLD.wip_limit)
      IS DISTINCT FROM (NEW.unit_id, NEW.skills, NEW.availability, NEW.wip_limit))
EXECUTE FUNCTION staff_rank_copy_profile();
