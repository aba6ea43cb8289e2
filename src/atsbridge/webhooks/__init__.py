"""Webhooks to the customer: event payloads (``events``), the transactional outbox (``outbox``), each environment's
endpoint and secret (``endpoint``), signatures (``signing``) and at-least-once delivery (``delivery``)."""
