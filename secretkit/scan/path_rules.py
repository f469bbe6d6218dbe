"""What the text reader reads of a file's path besides its format: whether its text
is prose (notes, READMEs, messages: a secret written in a sentence), and whether a
one-line file is a secret by its name or its directory (``restic-password.txt``,
``secrets/nas``).  :func:`path_reading` is all of it, so that copies of one content
are scanned once only where their paths read alike (:func:`secretkit.scan.one_file.reading`)."""

from __future__ import annotations

from secretkit.scan.hits import Hit

_PROSE_SUFFIXES = (".md", ".markdown", ".txt", ".rst", ".org", ".adoc", ".text")


def prose_file(path: str) -> bool:
    """Notes, READMEs and messages (commit and tag messages' paths are in parentheses):
    where a secret is written in a sentence.  Source code has identifiers after names."""
    name = path.rsplit("/", 1)[-1].lower()
    return path.startswith("(") or name.endswith(_PROSE_SUFFIXES) or "." not in name


# A file that is one secret: named for one (`restic-password.txt`, `wifi-psk`) or kept
# in a `secrets/` directory, holding one line (a passphrase: a few words at most).
SECRET_FILE_MAX = 512
_NOT_SECRET_FILES = (".pub", ".md", ".sig")
# Named as ciphertext: age, OpenPGP (binary or armored) and `openssl enc` output is never
# one short printable line but for OpenSSL's base64 ("Salted__…"): a one-line value in
# `restic-password.age` or `secrets/wifi.gpg` is the plaintext the name promises is not.
_OPENSSL_BASE64 = "U2FsdGVkX1"
_CIPHERTEXT_NAMES = (".age", ".gpg", ".enc", ".asc")


def _generated(value: str) -> bool:
    """A digit, or upper and lower case mixed (two of each), as generators write."""
    upper = sum(c.isupper() for c in value)
    lower = sum(c.islower() for c in value)
    return any(c.isdigit() for c in value) or (upper >= 2 and lower >= 2)


def secret_file_hits(text: str, path: str) -> list[Hit]:
    """The whole text of a one-line file its path names as a secret (a
    ``passwordFile = ./restic-password.txt`` committed next to the configuration)."""
    value = text.strip()
    if not value or len(value) > SECRET_FILE_MAX or "\n" in value:
        return []
    if len(value.split()) > 8 or not value.isprintable():
        return []
    if len(value) < 16 and not _generated(value):
        return []  # a word ("Done." in a test's post-body-pass.txt), not a generated secret
    traits = _secret_file_traits(path)
    if traits is None:
        return []
    named, kept_in_secrets = traits
    if named is None and " " in value:
        return []  # words in a file only its directory calls secret: prose, as likely
    kind = named or ("secret" if kept_in_secrets else None)
    if kind is None or value.startswith(_OPENSSL_BASE64):
        return []
    start = text.find(value)
    return [Hit(start, start + len(value), "secret-file-text", kind, "high")]


def may_be_secret_file(text: str) -> bool:
    """Whether :func:`secret_file_hits` could report ``text`` at some path: its
    conditions on the text (one short printable line, a generated value), and a value
    the report keeps (``filters.not_secret`` drops it either way otherwise); False only
    where no path makes a finding of it.  A text holding ciphertext is blanked before
    the rule reads it: always True."""
    from secretkit.scan import filters

    if "ENC[" in text or "-----BEGIN" in text:
        return True
    value = text.strip()
    if not value or len(value) > SECRET_FILE_MAX or "\n" in value:
        return False
    if len(value.split()) > 8 or not value.isprintable():
        return False
    if len(value) < 16 and not _generated(value):
        return False
    return not (filters.not_secret(value, token=True) and filters.not_secret(value, token=False))


def _secret_file_traits(path: str) -> tuple[str | None, bool] | None:
    """What a one-line file's path says of it: the kind of secret its name names and
    whether a ``secrets/`` directory holds it; None for a name that is never one."""
    from secretkit.scan.nix_positions import name_kind

    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith(_NOT_SECRET_FILES):
        return None
    if name.split(".")[0] in ("readme", "license", "notes", "todo", "changelog", "copying"):
        return None
    if name.startswith("."):
        # `.vault_pass`, `.borg-passphrase` by their names; a `secrets/.gitignore` is not
        # one for its directory
        kind = name_kind(path.lower())
        return (kind, False) if kind is not None else None
    parts = path.lower().split("/")[:-1]
    # named as ciphertext (wifi.gpg, db.enc): a plaintext line in it is what was to be hidden
    hidden = name.endswith(_CIPHERTEXT_NAMES)
    return name_kind(path.lower()), hidden or bool({"secrets", "secret"} & set(parts))


def path_reading(path: str, one_line: bool = True) -> tuple[object, ...]:
    """All that :func:`scan_text` reads of a path besides its format: whether its text
    is prose, and (for a text :func:`may_be_secret_file`, ``one_line``) what a
    one-line file's name and directory say.  Equal texts at paths that read alike
    give the same hits."""
    return prose_file(path), _secret_file_traits(path) if one_line else None
