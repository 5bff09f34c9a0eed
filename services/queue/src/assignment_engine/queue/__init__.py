"""The queue service.

Owns the drain: which waiting work item is offered to the assigner next, and
when. It reads queue_entries (the assigner writes them, in the transaction that
decides an item) and never writes them itself, so it takes no locks; the
assigner locks each offered entry FOR UPDATE SKIP LOCKED, so several queue
replicas draining at once never assign an item twice.
"""
