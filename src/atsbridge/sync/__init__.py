"""Syncing a RECRU tenant into the store: one run (engine) and when runs happen (scheduler)."""
