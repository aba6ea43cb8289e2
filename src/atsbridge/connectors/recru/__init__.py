"""The RECRU connector: JSON-RPC transport, payload mapping, streams and actions for one RECRU tenant."""
