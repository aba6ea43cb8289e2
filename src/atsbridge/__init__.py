"""atsbridge: a self-hostable unified ATS API, wire-compatible with Kombo's, with a RECRU connector."""

__version__ = "0.1.0"
