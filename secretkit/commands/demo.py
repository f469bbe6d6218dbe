"""``secretkit demo``: the whole flow on a copy of the example homelab.

Copies ``examples/homelab`` (shipped as package data ``secretkit._examples``)
into a fresh git repository, fills its ``@PLACEHOLDER@`` fake secrets with
generated values of the right shape, generates demo keys (an admin age
identity, an ssh ed25519 host key per host, converted with ssh-to-age), and
runs ``init`` → ``hosts add`` → ``scan`` → ``migrate --yes`` → ``scan``.  The
result says what happened; no value is ever part of it.  The migrate step runs
:mod:`secretkit.plan.migration` with the demo admin key as the identities to use
(added to the user's own, as sops reads a ``SOPS_AGE_KEY_FILE`` next to them).

``keys`` may name a directory of existing demo keys (``admin.agekey`` and
``hosts/<name>.pub``); missing ones are generated there.  That is how the
committed top-level ``.sops.yaml`` and ``secrets/`` are made reproducibly
under the committed test-only key.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import shutil
import string
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.commands import Line, Shown, err, out, table_lines
from secretkit.errors import UserError
from secretkit.lazy_re import lazy
from secretkit.sensitive import Sensitive

if TYPE_CHECKING:
    pass

# The example file whose diff the demo shows (the first 40 lines from its header):
# the monitoring host's module, where every kind of rewrite appears.
EXCERPT_FILE = "monitoring.nix"

_ALNUM = string.ascii_letters + string.digits
_LOWER = string.ascii_lowercase + string.digits
_PLACEHOLDER = lazy(rb"@([A-Z][A-Z0-9_]*)@")


def _chars(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _wg_public() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import x25519

    key = x25519.X25519PrivateKey.generate().public_key()
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


# Generated values of the right shape for each placeholder of the example.
GENERATORS: dict[str, Callable[[], str]] = {
    "PUSHOVER_TOKEN": lambda: "a" + _chars(_LOWER, 29),
    "PUSHOVER_USER_KEY": lambda: "u" + _chars(_LOWER, 29),
    "SYNCTHING_API_KEY": lambda: _chars(_ALNUM, 32),
    "GRAFANA_ADMIN_PASSWORD": lambda: _chars(_ALNUM, 20),
    "GRAFANA_SECRET_KEY": lambda: _chars(_ALNUM, 32),
    "BORG_PASSPHRASE": lambda: "-".join(_chars(string.ascii_lowercase, 6) for _ in range(4)),
    "SYNC_BORG_PASSPHRASE": lambda: "-".join(_chars(string.ascii_lowercase, 6) for _ in range(4)),
    "SYNCTHING_GUI_PASSWORD": lambda: _chars(_ALNUM, 18),
    "TAILSCALE_AUTHKEY": lambda: "tskey-auth-" + _chars(_ALNUM, 12) + "-" + _chars(_ALNUM, 32),
    "STIAN_PASSWORD": lambda: _chars(_ALNUM, 16),
    "HOME_WIFI_PSK": lambda: _chars(_ALNUM, 20),
    "WIREGUARD_PRIVATE_KEY": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
    "WIREGUARD_PEER_PUBLIC_KEY": _wg_public,
    "DDCLIENT_PASSWORD": lambda: _chars(_ALNUM, 40),
}
PUBLIC = frozenset({"WIREGUARD_PEER_PUBLIC_KEY"})  # filled, but not secrets


@dataclass
class DemoResult(Shown):
    directory: Path
    kept: bool
    hosts: list[str]
    findings_before: int
    findings_after: int
    table: list[tuple[str, str, str, str]]
    diff: str
    refused: list[str]
    wiring: list[str]
    leaked: list[str]  # files still holding a generated value (must be empty)
    host_access: dict[str, list[str]] = field(default_factory=dict)  # host → secrets it opens
    # the generated values, for the tests' "nothing leaked" checks; never printed
    secrets: list[Sensitive[str]] = field(default_factory=list, repr=False)

    @property
    def exit_code(self) -> int:
        return 1 if self.leaked or self.findings_after else 0

    def lines(self) -> list[Line]:
        shown = [
            out(f"example homelab with fake secrets: {len(self.hosts)} hosts"),
            out(f"scan: {self.findings_before} finding(s)"),
        ]
        shown += [out(line) for line in table_lines(self.table)]
        shown += [out(f"sops-nix: {note}") for note in self.wiring]
        shown += [out(line) for line in self.refused]
        excerpt = self.diff.splitlines()
        start = next((i for i, line in enumerate(excerpt) if EXCERPT_FILE in line), 0)
        shown.append(out("diff (excerpt):"))
        shown += [out("  " + line) for line in excerpt[start : start + 40]]
        for host, names in sorted(self.host_access.items()):
            shown.append(out(f"{host} can decrypt: {', '.join(names) if names else '(nothing)'}"))
        after = self.findings_after
        shown.append(out(f"scan: {'clean' if after == 0 else f'{after} finding(s) left'}"))
        if self.leaked:
            shown.append(err(f"values still in: {', '.join(self.leaked)}"))
        if self.kept:
            shown.append(out(f"repository: {self.directory}"))
        return shown


def example_source() -> Path:
    """The example homelab: package data when installed, the repo copy in a checkout."""
    try:
        packaged = resources.files("secretkit._examples").joinpath("homelab")
        if packaged.is_dir():
            return Path(str(packaged))
    except ModuleNotFoundError:
        pass
    here = Path(__file__).resolve().parents[2] / "examples" / "homelab"
    if here.is_dir():
        return here
    raise UserError("the example homelab is not installed", hint="reinstall secretkit")


def fill(data: bytes, values: dict[str, str]) -> bytes:
    def sub(match: re.Match[bytes]) -> bytes:
        name = match[1].decode()
        if name not in values:
            values[name] = GENERATORS[name]() if name in GENERATORS else _chars(_ALNUM, 24)
        return values[name].encode()

    return _PLACEHOLDER.sub(sub, data)


def demo_admin_key(keys: Path) -> tuple[Path, str]:
    import pyrage

    path = keys / "admin.agekey"
    if not path.exists():
        identity = pyrage.x25519.Identity.generate()
        keys.mkdir(parents=True, exist_ok=True)
        from secretkit.atomic import write_atomic

        text = f"# secretkit demo admin key (test only)\n# public key: {identity.to_public()}\n"
        write_atomic(path, (text + str(identity) + "\n").encode(), 0o600)
    from secretkit.keys.ssh_to_age import age_public_of_identity

    secret = next(
        line.strip() for line in path.read_text().splitlines() if line.startswith("AGE-SECRET-KEY-")
    )
    return path, age_public_of_identity(secret)


def demo_host_key(keys: Path, host: str) -> tuple[str, Path | None]:
    """(ssh public key line, private key path or None) for a demo host.

    A committed ``hosts/<name>.pub`` without its private key is used as it is
    (the committed demo output); otherwise a new ed25519 key pair is made.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from secretkit.atomic import write_atomic

    pub = keys / "hosts" / f"{host}.pub"
    private = keys / "hosts" / f"{host}_ed25519"
    if pub.exists():
        return pub.read_text().strip(), private if private.exists() else None
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    line = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    write_atomic(private, pem, 0o600)
    write_atomic(pub, line + f" root@{host}\n".encode())
    return pub.read_text().strip(), private


def demo(
    directory: Path | None = None,
    *,
    keep: bool = False,
    keys: Path | None = None,
) -> DemoResult:
    """Run the demo; the work directory is removed afterwards unless kept or given."""
    from secretkit.git import run_git
    from secretkit.keys import sops_yaml_edits
    from secretkit.keys.ssh_to_age import ssh_private_key_to_age, ssh_pubkey_to_age
    from secretkit.layouts.sops_nix import host_secrets_path
    from secretkit.nix.hosts import discover
    from secretkit.plan import migration
    from secretkit.scan.worktree import scan_tree
    from secretkit.sops import operations
    from secretkit.sops.identities import load_identities

    base = Path(tempfile.mkdtemp(prefix="secretkit-demo-")) if directory is None else directory
    kept = keep or directory is not None
    repo = base / "homelab"
    if repo.exists():
        raise UserError(f"{repo} exists already", hint="choose another --dir")
    key_dir = keys if keys is not None else base / "keys"
    try:
        shutil.copytree(
            example_source(), repo, ignore=shutil.ignore_patterns("keys", "__pycache__")
        )
        values: dict[str, str] = {}
        for file in sorted(repo.rglob("*.nix")):
            file.write_bytes(fill(file.read_bytes(), values))
        run_git(repo, "init", "-q", "-b", "main")
        run_git(repo, "add", "-A")
        run_git(
            repo,
            "-c", "user.name=secretkit demo",
            "-c", "user.email=demo@example.invalid",
            "-c", "commit.gpgsign=false",
            "commit", "-q", "--no-verify", "-m", "homelab with hardcoded (fake) secrets",
        )  # fmt: skip

        admin_path, admin_public = demo_admin_key(key_dir)
        sops_yaml_edits.init(repo, admin_public, "demo")
        hosts = sorted(discover(repo).hosts)
        host_private: dict[str, Path] = {}
        for host in hosts:
            line, private = demo_host_key(key_dir, host)
            sops_yaml_edits.add_host(repo, host, ssh_pubkey_to_age(line))
            if private is not None:
                host_private[host] = private

        before = scan_tree(repo)
        # the user's own identities, and the demo admin key on top (as sops reads a
        # SOPS_AGE_KEY_FILE next to them)
        admin = load_identities({**os.environ, "SOPS_AGE_KEY_FILE": str(admin_path)})
        prepared = migration.prepare(repo, identities=admin)
        written = migration.apply(prepared)
        # as migrate's summary says: git must see the new files before a flake can (the
        # Nix edits stay unstaged, for `git diff` to show them)
        tracked = set(run_git(repo, "ls-files", "-z").stdout.decode().split("\0"))
        new = [p for p in [".sops.yaml", *written] if p not in tracked]
        if new:
            run_git(repo, "add", "--", *new)
        plan = prepared.plan
        after = scan_tree(repo)

        generated = [v for k, v in values.items() if k not in PUBLIC]
        leaked = []
        for file in sorted(p for p in repo.rglob("*") if p.is_file() and ".git" not in p.parts):
            data = file.read_bytes()
            if any(v.encode() in data for v in generated):
                leaked.append(file.relative_to(repo).as_posix())

        access: dict[str, list[str]] = {}
        for host in hosts:
            path = repo / host_secrets_path(host)
            if host not in host_private:
                continue
            if not path.exists():
                access[host] = []
                continue
            # as sops-nix does on the host: the ssh host key converted to an X25519 identity
            age_key = ssh_private_key_to_age(host_private[host].read_bytes())
            identities = load_identities({"SOPS_AGE_KEY": age_key.reveal()})
            plain = operations.decrypt_bytes(
                path.read_bytes(), "yaml", identities, source=path.name
            )
            access[host] = ["/".join(str(k) for k in keys_) for keys_, _ in plain.leaves()]

        return DemoResult(
            directory=repo,
            kept=kept,
            hosts=hosts,
            findings_before=len(before.findings),
            findings_after=len(after.findings),
            table=plan.table(),
            diff=plan.diff(),
            refused=[r.message() for r in plan.refused],
            wiring=list(plan.wiring),
            leaked=leaked,
            host_access=access,
            secrets=[Sensitive(v) for v in generated],
        )
    finally:
        if not kept:
            shutil.rmtree(base, ignore_errors=True)
