"""Which reader a file's path picks: ``nix``, or a text format (:func:`file_format`).
Its own module so that scanning only ``.nix`` files never loads the text readers."""

from __future__ import annotations

STRUCTURED = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".tfstate": "json",  # (Terraform's state; a sensitive output's value is a secret)
    ".toml": "toml",
    ".ini": "ini",
    ".cfg": "ini",
    ".conf": "ini",
    ".env": "env",
    ".properties": "ini",
    ".sh": "shell",
    ".bash": "shell",
    ".zsh": "shell",
    ".ksh": "shell",
}
# Shell start-up files and direnv's .envrc are shell too.
_SHELL_NAMES = frozenset(
    {".envrc", ".bashrc", ".bash_profile", ".profile", ".zshrc", ".zshenv", ".zprofile"}
)

# Files known by their name: npm's (an INI file whose keys can be scoped to a registry),
# PyPI's (INI, continuation lines included) and libpq's password file.
_NAMED = {
    ".npmrc": "npmrc",
    "npmrc": "npmrc",
    ".pypirc": "ini",
    ".pgpass": "pgpass",
    "pgpass": "pgpass",
    "pgpass.conf": "pgpass",  # (libpq's name for it on Windows, %APPDATA%\\postgresql)
}


def _numbered_pgpass(name: str) -> bool:
    """``pgpass2``, ``pgpass-replica``, ``app_pgpass``: the name holds ``pgpass`` and no
    extension follows it (``pgpass.md`` is about one; ``pgpass.nix`` makes one)."""
    _before, found, after = name.partition("pgpass")
    return bool(found) and "." not in after


def file_format(path: str) -> str:
    name = path.rsplit("/", 1)[-1].lower()
    if name == ".env" or name.startswith(".env.") or name.endswith(".env"):
        return "env"
    if name.endswith(".nix"):
        return "nix"
    if name in _SHELL_NAMES:
        return "shell"
    if name in _NAMED:
        return _NAMED[name]
    if name.endswith(".pgpass") or _numbered_pgpass(name):
        return "pgpass"  # (replication.pgpass, pgpass2, pgpass-replica: one per role or server)
    if name.startswith((".npmrc", "npmrc")):  # (npmrc-ci, .npmrc.ci: one per registry)
        return "npmrc"
    dot = name.rfind(".")
    return STRUCTURED.get(name[dot:], "text") if dot > 0 else "text"
