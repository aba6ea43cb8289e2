"""recru_emulator: a RECRU tenant in a box (JSON-RPC server, seeded generator, faults, test controls)."""

__version__ = "0.1.0"
