"""What this process runs, as the user typed it (``secretkit rotate host a``: the words
before the first option; no value ever comes on the command line).  Set once by the CLI;
the journal records it (:mod:`secretkit.atomic`), so that what reads an interrupted run
can say which command to run again."""

from __future__ import annotations

command: str | None = None
# interrupted runs rolled back before this one's own: (their command, the files) —
# said when the command ends (secretkit.atomic.rolled_back)
rolled_back: list[tuple[object, list[str]]] = []


def start(words: str) -> None:
    """A new command: what an earlier one in this process noted is forgotten."""
    global command
    command = words
    rolled_back.clear()


def command_words(args: list[str]) -> str:
    """``secretkit rotate host a``: the command's words, from its name to its first
    option (the group's own options, -C DIR and --engine E, left out)."""
    words = ["secretkit"]
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("-C", "--engine"):
            skip = True
        elif arg.startswith("-"):
            if len(words) > 1:
                break
        else:
            words.append(arg)
    return " ".join(words)
