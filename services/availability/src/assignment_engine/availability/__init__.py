"""The availability service.

Owns units, staff profiles and availability, and creates each person's
staff_load row (the assigner keeps its counts). Every RPC that changes data runs
in one transaction and writes its events to the outbox in that transaction. An
availability change locks the staff row FOR NO KEY UPDATE, so it waits for any
assignment decision holding the row FOR SHARE. Changes that let someone take
more work also write capacity.freed, which starts a queue drain.

Scheduled leave is started and ended by a timer in every replica (leave_timer),
and HR system events arrive through RecordHrEvent from the HR webhook gateway
(hr_gateway), which runs as its own process.
"""
