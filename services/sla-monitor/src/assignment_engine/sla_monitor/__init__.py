"""The SLA monitor service.

Owns SLA policies, business calendars, warning and breach marks, escalation
events and daily capacity snapshots. It marks the warnings and breaches of
running clocks in batches claimed FOR UPDATE SKIP LOCKED, so several replicas
never handle one clock twice. In the same transaction it escalates each warning
once and each breach once per level. Escalations that stay unacknowledged climb
one level at a time. The monitor also records one capacity snapshot per unit
and day, purges expired assignments, and serves SLA status, policies,
calendars, capacity and escalations. The assigner starts and stops the clocks;
the monitor only marks them.
"""
