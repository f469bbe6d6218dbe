"""The one exception hierarchy and its exit codes.

Every failure a user can meet is a :class:`SecretkitError` subclass carrying an
``exit_code`` and a one-line ``hint``.  The boundary (:mod:`secretkit.boundary`)
catches it once and prints ``error: <message> (hint: <hint>)``.  Anything else
reaching the boundary is a bug (exit 5).  Messages never contain secret values:
build them from names and paths.

Exit codes (the CLI contract, README "Exit codes"):

====  ==========================================================================
0     ok / clean
1     findings (the hook blocks the commit)
2     usage error (bad flags, bad arguments)
3     user-fixable error with a hint (missing key, no such host, not a repo, ...)
4     integrity failure (MAC mismatch, no identity decrypts, tampered file)
5     internal bug
129   terminated by SIGHUP (cleaned up like Ctrl-C)
130   interrupted
143   terminated by SIGTERM (cleaned up like Ctrl-C)
====  ==========================================================================
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_USER = 3
EXIT_INTEGRITY = 4
EXIT_BUG = 5
EXIT_INTERRUPTED = 130
EXIT_SIGHUP = 129  # 128 + SIGHUP: the terminal or ssh session went away
EXIT_SIGTERM = 143  # 128 + SIGTERM

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "ok / clean",
    EXIT_FINDINGS: "secrets found (the hook blocks the commit)",
    EXIT_USAGE: "usage error",
    EXIT_USER: "user-fixable error (the message says what to do)",
    EXIT_INTEGRITY: "integrity failure: MAC mismatch, no identity decrypts, tampered file",
    EXIT_BUG: "internal bug (rerun with --verbose and report it)",
    EXIT_SIGHUP: "terminated by SIGHUP (cleaned up like Ctrl-C)",
    EXIT_INTERRUPTED: "interrupted",
    EXIT_SIGTERM: "terminated by SIGTERM (cleaned up like Ctrl-C)",
}


class SecretkitError(Exception):
    """Base of every user-facing failure."""

    exit_code: int = EXIT_USER

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def one_line(self) -> str:
        """The single line the CLI prints (newlines folded, hint appended)."""
        text = " ".join(self.message.split())
        if self.hint:
            text += f" (hint: {' '.join(self.hint.split())})"
        return text


class UsageError(SecretkitError):
    """Bad arguments or flags: exit 2."""

    exit_code = EXIT_USAGE


class UserError(SecretkitError):
    """Something the user can fix (missing key, no such host, not a repo): exit 3."""

    exit_code = EXIT_USER


class ConfigError(UserError):
    """A missing or malformed configuration file (``.sops.yaml``, allowlist)."""


class NotARepoError(UserError):
    """The command needs a git repository and there is none."""


class HistoryUnreadable(UserError):
    """git cannot walk the whole history (a ref or a worktree's HEAD names an object
    the repository lacks): what it would show was not read."""


class IntegrityError(SecretkitError):
    """MAC mismatch, tampered or truncated file, no identity decrypts: exit 4."""

    exit_code = EXIT_INTEGRITY


class NoIdentityError(IntegrityError):
    """No identity here opens the file's data key (the file itself may be fine): a
    caller that can go on without that file says so instead of stopping."""


class Interrupted(SecretkitError):
    """The user pressed Ctrl-C: exit 130."""

    exit_code = EXIT_INTERRUPTED


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the program is, so that it cleans up exactly as
    on Ctrl-C (children killed, temp files removed, transactions rolled back); the CLI
    exits 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
