"""``python -m recru_emulator``: start a seeded RECRU tenant over HTTP."""

from recru_emulator.cli import main

if __name__ == "__main__":
    main()
