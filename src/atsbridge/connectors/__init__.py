"""Connectors: one package per ATS, turning that ATS's API into the unified model's streams and actions."""
