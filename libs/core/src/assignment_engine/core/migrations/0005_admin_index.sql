-- The admins in id order, for the SLA monitor's fallback escalation recipient.
CREATE INDEX staff_admins_idx ON staff (id COLLATE "C") WHERE role = 'admin';
