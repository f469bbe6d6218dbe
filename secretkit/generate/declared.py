"""``secrets/generators.toml``: the secrets ``secretkit generate --all`` makes.

Each table is one secret.  Its key is ``"HOST/NAME"`` (one host), or ``"NAME"``
with a ``hosts`` list (a shared secret: one value written to each host's file)::

    ["observer/grafana/admin_password"]
    kind = "password"
    length = 40

    ["wireguard/observer/private_key"]        # written to secrets/observer.yaml
    hosts = ["observer"]
    kind = "wireguard"
    public_out = "hosts/observer/wireguard.pub"

    ["syncthing/api_key"]                     # the same value on both hosts
    hosts = ["syncthing", "observer"]
    kind = "alnum"

    ["immich/users/stian/hashed_password"]
    kind = "hashed-password"
    also_plain = "users/stian/password"

Options: ``kind`` (required), ``length``, ``words``, ``public_out`` (a file for
the public half, relative to the repository), ``also_plain`` (hashed-password:
the clear text under a second name).  The file is data only: nothing in it is run.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from secretkit.errors import ConfigError, SecretkitError, UsageError, UserError
from secretkit.generate.kinds import kind_for
from secretkit.generate.model import Options
from secretkit.generate.store import split_name
from secretkit.keys.sops_yaml import validate_name
from secretkit.layouts.sops_nix import SECRETS_DIR

GENERATORS = f"{SECRETS_DIR}/generators.toml"
_KEYS = {"kind", "length", "words", "hosts", "public_out", "also_plain"}


@dataclass(frozen=True)
class Declared:
    key: str  # the table key, what --force names
    name: str  # the key path in each host's file
    hosts: tuple[str, ...]
    kind: str
    options: Options
    public_out: str | None = None
    also_plain: str | None = None

    def public_file(self, root: Path) -> Path | None:
        """The file ``public_out`` names (None without one); UserError when it leads
        outside the repository (through a symlink)."""
        if self.public_out is None:
            return None
        target = root / self.public_out
        if not target.resolve().is_relative_to(root.resolve()):
            raise UserError(
                f"public_out of [{self.key!r}] leads outside the repository (a symlink)",
                hint="point public_out at a plain file inside the repository",
            )
        return target


def public_text(path: Path, public: str) -> str:
    """The public half as written to ``path``: a Nix string literal for a ``.nix``
    file (``publicKey = import ./wg0.pub.nix;``), else the bare line."""
    return f'"{public}"\n' if path.suffix == ".nix" else public + "\n"


def _fail(key: str, problem: str) -> ConfigError:
    return ConfigError(
        f"{GENERATORS}: [{key!r}]: {problem}",
        hint="see `secretkit generate --help` for the file's format",
    )


def _int(key: str, table: dict[str, object], field: str) -> int | None:
    value = table.get(field)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _fail(key, f"{field} must be a whole number")
    return value


def _str(key: str, table: dict[str, object], field: str) -> str | None:
    value = table.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise _fail(key, f"{field} must be a non-empty string")
    return value


def parse(text: str) -> list[Declared]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{GENERATORS}: {exc}", hint="fix the TOML syntax") from None
    out: list[Declared] = []
    for key, table in doc.items():
        if not isinstance(table, dict):
            raise _fail(key, 'expected a table: ["host/name"] with kind = "…"')
        unknown = sorted(set(table) - _KEYS)
        if unknown:
            raise _fail(key, f"unknown option(s) {', '.join(unknown)}")
        kind = _str(key, table, "kind")
        if kind is None:
            raise _fail(key, "kind is missing")
        try:
            kind_for(kind)
        except UsageError:
            raise _fail(key, f"unknown kind {kind!r}") from None
        hosts_value = table.get("hosts")
        if hosts_value is None:
            host, _, name = key.partition("/")
            if not name:
                raise _fail(key, 'name it "HOST/NAME", or give hosts = [...]')
            hosts: tuple[str, ...] = (host,)
        else:
            if not isinstance(hosts_value, list) or not hosts_value:
                raise _fail(key, "hosts must be a non-empty list of host names")
            if not all(isinstance(h, str) for h in hosts_value):
                raise _fail(key, "hosts must be a list of strings")
            hosts = tuple(dict.fromkeys(str(h) for h in hosts_value))
            name = key
        try:
            for host in hosts:
                validate_name(host)
            split_name(name)
        except SecretkitError as exc:
            raise _fail(key, exc.message) from None
        also_plain = _str(key, table, "also_plain")
        if also_plain is not None and kind != "hashed-password":
            raise _fail(key, "also_plain is for kind = 'hashed-password' only")
        if kind == "hashed-password" and also_plain is None:  # (as `generate --kind` says)
            raise _fail(key, "a hashed-password needs also_plain: kept only as its hash, "
                        "nobody could log in with the password")  # fmt: skip
        options = Options(
            length=_int(key, table, "length"), words=_int(key, table, "words"), comment=name
        )
        public_out = _str(key, table, "public_out")
        if public_out is not None:
            parts = PurePosixPath(public_out).parts
            if PurePosixPath(public_out).is_absolute() or ".." in parts or parts[0] == ".git":
                raise _fail(key, "public_out must be a path inside the repository")
        out.append(Declared(key, name, hosts, kind, options, public_out, also_plain))
    return out


def load(root: Path) -> list[Declared]:
    """The declared secrets; [] when the file does not exist."""
    path = root / GENERATORS
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {GENERATORS}: {exc}") from None
    return parse(text)
