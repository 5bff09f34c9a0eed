"""The assigner service.

Owns work items, assignments, staff load (active count and last assigned time),
queue entries and the decision audit. A decision locks the chosen person's
staff_load row FOR UPDATE (skipping rows a concurrent decision holds), reads the
profile FOR SHARE, re-checks eligibility on the locked row and commits the
assignment, the load, the queue entry and the outbox event together. It also
starts and stops SLA clocks in the transactions that change assignments.
"""
