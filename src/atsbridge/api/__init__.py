"""The HTTP API: Kombo-compatible unified ATS endpoints, integrations, the connect flow."""
