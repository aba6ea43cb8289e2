"""``python -m atsbridge.cli``: the ``atsbridge`` command."""

from atsbridge.cli import main

main()
