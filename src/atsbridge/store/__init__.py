"""The unified store: schema (``tables``), engine and migrations (``db``), batched writes (``writer``)."""
