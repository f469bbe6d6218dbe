"""What this process runs, as the user typed it (``secretkit rotate host a``: the words
before the first option; no value ever comes on the command line).  Set once by the CLI;
the journal records it (:mod:`secretkit.atomic`), so that what reads an interrupted run
can say which command to run again."""

from __future__ import annotations

command: str | None = None
