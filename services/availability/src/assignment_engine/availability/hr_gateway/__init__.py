"""The HR webhook gateway: receives signed HR deliveries over HTTP.

Deliveries follow Standard Webhooks (webhook-id, webhook-timestamp and
webhook-signature headers, HMAC-SHA256). The gateway verifies each one, parses
its JSON body and stores it through the availability service's RecordHrEvent
with the service identity `hr-gateway`. It responds with 2xx only after
RecordHrEvent has stored the delivery, so a sender that retries until it gets a
2xx loses no delivery. It runs as its own process (`ae-hr-gateway`), so the webhook endpoint can
face the HR system while the gRPC services stay internal.
"""
