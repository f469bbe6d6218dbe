"""Whether a file that should be a sops file is a valid one: what ``hook`` judges in
the index and ``check`` judges in the tree.

:class:`SopsJudge` parses the bytes once, opens the data key with an identity here
when one can, and verifies MAC and values; without an identity only the structure
is checked (:func:`unencrypted_values`) and :meth:`SopsJudge.notes` says so.
:func:`names_a_secrets_file` is which files a ``.sops.yaml`` creation rule makes
secrets files.  Imports are lazy: the hook loads the engine only when needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secretkit.sensitive import Sensitive

if TYPE_CHECKING:
    from secretkit.sops.config import SopsConfig
    from secretkit.sops.document import SopsFile
    from secretkit.sops.identities import Identities


# A value of a sops file this long or longer is looked for in the other files (a shorter
# one, "admin" or "8080", is in many by chance).
MIN_COPIED = 8


def secret_like(name: str, text: str) -> bool:
    """Whether a value a sops file holds under ``name`` is a secret to look for in other
    files: its name says so (as the scanner reads ``NAME=value``), or it looks generated
    or is a passphrase of words.  A whole encrypted dotenv or JSON file holds settings
    too (``TZ=Europe/Berlin``, a database user's name): the same setting in a Nix file
    is no decrypted copy."""
    from secretkit.scan.named_values import env_key_kind
    from secretkit.scan.value_shapes import generated_hex, random_looking

    if env_key_kind(name, text) is not None or random_looking(text) or generated_hex(text):
        return True
    return len(text) >= 16 and len(text.split()) >= 3


@dataclass(frozen=True)
class SopsProblem:
    """A secrets file that must not be committed (or published) as it is."""

    path: str
    reason: str
    fix: str


def names_a_secrets_file(config: SopsConfig, path: Path) -> bool:
    """Whether a creation rule with a ``path_regex`` says ``path`` is a secrets file.

    A catch-all rule (no ``path_regex``, or ``.*``) only gives defaults for files
    encrypted by hand: it does not make every file of the repository a secret.
    """
    if path.name == ".sops.yaml":
        return False
    rule = config.rule_for(path)
    if rule is None or rule.path_regex is None:
        return False
    return rule.path_regex.strip() not in ("", ".*", "^.*", "^.*$", ".*$", ".+", "^")


class SopsJudge:
    """Decides whether the bytes of a rule-matched file are a valid sops file.

    Identities are loaded once, on first need.  A file no identity here opens gets
    the structural checks only; :meth:`notes` then says so (once).
    """

    def __init__(self, identities: Identities | None = None, root: Path | None = None) -> None:
        self._identities = identities
        self.root = root  # a git work tree: the fix names the last version that verifies
        self.unverified: list[str] = []
        self.open_hints: dict[str, str] = {}  # unverified file -> how to provide its key
        self.load_error: str | None = None
        # the values of the files that verified: value -> (sops file, key path); kept in
        # memory only, for decrypted-copy's search of the other files
        self.values: dict[Sensitive[str], tuple[str, str]] = {}
        self.judged: set[str] = set()  # the files :meth:`judge` was asked of
        self.opened: set[str] = set()  # … and those whose values are in ``values``

    def identities(self) -> Identities:
        if self._identities is None:
            from secretkit.errors import SecretkitError
            from secretkit.sops.identities import Identities, load_identities

            try:
                self._identities = load_identities()
            except SecretkitError as exc:  # a broken key file must not hide the checks
                self.load_error = exc.one_line()
                self._identities = Identities()
        return self._identities

    def notes(self) -> list[str]:
        if not self.unverified:
            return []
        why = f" ({self.load_error})" if self.load_error else ""
        hints = {self.open_hints.get(path, "") for path in self.unverified}
        how = hints.pop() if len(hints) == 1 else ""  # follows the files' key kinds
        return [
            f"cannot verify the MAC of {', '.join(self.unverified)}: no identity here opens "
            f"it{why}; checked the structure only ({how or 'give a key of each file'} to verify)"
        ]

    def judge(self, path: str, data: bytes) -> SopsProblem | None:
        from secretkit.errors import IntegrityError, SecretkitError
        from secretkit.sops import document, operations

        self.judged.add(path)
        fmt = document.format_for_path(path)
        try:
            sops = document.load_encrypted(data, fmt)  # parsed once (is_sops_file parses too)
        except SecretkitError:
            return SopsProblem(
                path,
                "matches a .sops.yaml creation rule but is not encrypted (no valid sops "
                "metadata): a decrypted secrets file",
                f"put the encrypted version back in the index (git restore --staged {path}; "
                f"a new file: git rm --cached {path}), encrypt the copy in the work tree "
                f"(secretkit encrypt -i {path}) before staging it again",
            )
        try:
            key = operations.data_key_of(sops, self.identities(), source=path)
        except operations.DamagedKeyBlock as exc:
            return SopsProblem(path, f"does not open: {exc.message}", self.restore(path))
        except IntegrityError as exc:
            self.unverified.append(path)
            self.open_hints[path] = exc.hint or ""
            return self.structure(path, sops)
        try:
            plain = document.decrypt(sops, key)
        except SecretkitError as exc:
            return SopsProblem(path, f"does not verify: {exc.message}", self.restore(path))
        self._keep_values(path, plain.docs, sops.docs)
        self.opened.add(path)
        return None

    def _keep_values(self, path: str, docs: list[Any], encrypted: list[Any]) -> None:
        """Each value worth looking for elsewhere: one the file holds encrypted (not one
        its crypt rule leaves in clear, a Kubernetes manifest's ``kind``: public in the
        file itself) and a secret by its shape (long enough, not a placeholder, path or
        word list)."""
        from secretkit.scan.filters import not_secret
        from secretkit.sops.cipher import is_encrypted
        from secretkit.sops.tree import leaves

        hidden = {
            (i, where)
            for i, doc in enumerate(encrypted)
            for where, value in leaves(doc)
            if isinstance(value, str) and is_encrypted(value)
        }
        for i, doc in enumerate(docs):
            for where, value in leaves(doc):
                if (i, where) not in hidden:
                    continue
                text = value.strip() if isinstance(value, str) else ""
                key = "/".join(str(part) for part in where)
                if "\n" in text or (not text.isascii() and not _encodable(text)):
                    # a file's whole text (an env file, a keytab's bytes): found as it is,
                    # and each generated token of its lines on its own
                    if len(text) >= MIN_COPIED:
                        self.values.setdefault(Sensitive(text), (path, key))
                    for token in _generated_tokens(text):
                        self.values.setdefault(Sensitive(token), (path, key))
                    continue
                named = str(where[-1]) if where else ""
                if len(text) < MIN_COPIED or not_secret(text) is not None:
                    continue
                if secret_like(named, text):
                    self.values.setdefault(Sensitive(text), (path, key))

    def structure(self, path: str, sops: SopsFile) -> SopsProblem | None:
        """Without a key: the MAC is present and encrypted, and every value the file's
        crypt rule says is encrypted is an ``ENC[…]`` string (what ``check
        --source-only`` verifies of a sops file)."""
        clear = unencrypted_values(sops)
        if clear:
            names = ", ".join(clear[:5]) + (" …" if len(clear) > 5 else "")
            return SopsProblem(
                path,
                f"values its sops rule says are encrypted are in clear: {names}",
                self.restore(path),
            )
        return None

    def restore(self, path: str) -> str:
        """The way out for a sops file edited without sops: its newest committed version
        that verifies (HEAD's may be the tampered one: checking HEAD out changed
        nothing then), judged as this file is; never removing it (Nix reads it).  Outside
        git (a flake's source copy) no commit can be named here."""
        if self.root is None:
            return (
                "a value was added to this sops file without sops: restore its last version "
                "that verifies (secretkit check in its git repository names it)"
            )
        from secretkit.git.objects import path_versions

        versions = path_versions(self.root, path)
        for n, (commit, data) in enumerate(versions):
            if SopsJudge(self.identities()).judge(path, data) is None:
                return _restore(path, "HEAD" if n == 0 else commit[:12])
        return _restore(path, None if not versions else "")


def _restore(path: str, good: str | None) -> str:
    """The fix naming ``good``, the commit whose version verifies ("": no committed
    version does; None: none is committed)."""
    import shlex

    quoted = shlex.quote(path)
    edit = f"change values with secretkit edit {quoted}"
    if good:
        return (
            f"it was edited without sops: restore the last version that verifies "
            f"(git checkout {good} -- {quoted}) and {edit}"
        )
    if good == "":
        return (
            "it was edited without sops and no committed version of it verifies: restore "
            f"the file from a backup or the person who encrypted it, then {edit}"
        )
    return (
        f"it was edited without sops, a file HEAD does not hold: git rm -q --cached {quoted} "
        f"&& rm {quoted}, then create it again with secretkit edit {quoted}"
    )


def unencrypted_values(sops: SopsFile) -> list[str]:
    """Key paths (``a/b``) of values that should be ``ENC[…]`` but are not; ``sops/mac``
    when the MAC is missing or in clear.  Needs no key."""
    from secretkit.sops.cipher import is_encrypted
    from secretkit.sops.rules import Rule
    from secretkit.sops.tree import Value, walk

    rule = Rule.of(sops.metadata.crypt_rule)
    clear: list[str] = []
    if not is_encrypted(sops.metadata.mac):
        clear.append("sops/mac")

    def leaf(value: Value, path: tuple[str, ...], stack: list[list[str]], comment: bool) -> Value:
        if comment or not rule.should_encrypt(path, stack, comment):
            return value
        if not (isinstance(value, str) and is_encrypted(value)):
            clear.append("/".join(path) or "(document)")
        return value

    for doc in sops.docs:
        walk(doc, leaf)
    return list(dict.fromkeys(clear))


def _generated_tokens(text: str) -> list[str]:
    """The generated-looking tokens of a multi-line text's lines (``psk=<token>``)."""
    import re

    from secretkit.scan.value_shapes import random_looking

    if not _encodable(text):
        return []
    tokens = re.findall(r"[^\s=:;,\"'`]{12,}", text)
    return [t for t in dict.fromkeys(tokens) if random_looking(t)]


def _encodable(text: str) -> bool:
    """Whether ``text`` is text (not bytes that were read with surrogate escapes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
