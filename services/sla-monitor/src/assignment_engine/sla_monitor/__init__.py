"""The SLA monitor service.

Owns SLA policies, warning and breach marks and escalation events. It marks the
warnings and breaches of running clocks in batches claimed FOR UPDATE SKIP LOCKED,
so several replicas never handle one clock twice, escalates each breach once per
level in the same transaction, and serves SLA status, policies and escalations.
The assigner starts and stops the clocks; the monitor only marks them.
"""
