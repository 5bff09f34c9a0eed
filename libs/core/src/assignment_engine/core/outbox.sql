-- name: insert_event
-- Add an event to the outbox. $1 event id, $2 subject without prefix,
-- $3 serialized protobuf, $4 headers (jsonb).
INSERT INTO outbox (event_id, subject, payload, headers) VALUES ($1, $2, $3, $4)

-- name: claim_batch
-- Lock the oldest unsent events that no other relay holds. $1 batch size.
SELECT id, event_id, subject, payload, headers
FROM outbox
ORDER BY id
LIMIT $1
FOR UPDATE SKIP LOCKED

-- name: delete_events
-- Remove published events. $1 outbox ids.
DELETE FROM outbox WHERE id = ANY($1::bigint[])

-- name: count_pending
-- Number of events waiting to be published.
SELECT count(*) FROM outbox
