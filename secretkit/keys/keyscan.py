"""``ssh-keyscan``: the only code that runs it.  Fetches a host's ed25519 key, and
finds where to reach a host from the deployment tool's settings in the Nix code
(colmena ``deployment.targetHost``/``targetPort``, deploy-rs ``nodes.<n>.hostname``
and ``sshOpts`` ``-p``) — read from the syntax tree, never evaluated.

Public API::

    parse_target(text) -> (host, port | None)            # HOST, HOST:PORT, [v6]:PORT
    deploy_target(root, name) -> Target | None
    scan(host, port=None, timeout=5) -> str               # one 'ssh-ed25519 AAAA…' line
    fingerprint(line) -> 'SHA256:…'                        # as ssh-keygen -lf shows it
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.errors import UsageError, UserError

if TYPE_CHECKING:
    from secretkit.nix.cst import NixTree, Node


@dataclass(frozen=True)
class Target:
    host: str
    port: int | None
    source: str  # "colmena deployment.targetHost in hosts/x.nix", "argument", …


def parse_target(text: str) -> tuple[str, int | None]:
    text = text.strip()
    host, port = text, None
    if text.startswith("["):
        inner, _, rest = text[1:].partition("]")
        host = inner
        if rest.startswith(":"):
            port = _port(rest[1:], text)
    elif text.count(":") == 1:
        host, _, raw = text.partition(":")
        port = _port(raw, text)
    if "@" in host:
        host = host.rsplit("@", 1)[1]  # user@host: ssh-keyscan wants the host
    if not host or host.startswith("-") or any(c.isspace() for c in host):
        raise UsageError(f"not a host name or address: {text!r}", hint="give HOST or HOST:PORT")
    return host, port


def _port(raw: str, text: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise UsageError(f"bad port in {text!r}", hint="give HOST:PORT with a port 1-65535")
    return int(raw)


def fingerprint(line: str) -> str:
    blob = base64.b64decode(line.split()[1])
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")
    return f"SHA256:{digest}"


def scan(host: str, port: int | None = None, timeout: int = 5) -> str:
    """The one ed25519 host key ``host`` presents, as ``ssh-ed25519 AAAA…``."""
    tool = shutil.which("ssh-keyscan")
    if tool is None:
        raise UserError(
            "ssh-keyscan is not installed", hint="install openssh-client, or use --ssh-pubkey-file"
        )
    args = [tool, "-T", str(timeout), "-t", "ed25519"]
    if port is not None:
        args += ["-p", str(port)]
    args += ["--", host]
    try:
        proc = subprocess.run(args, capture_output=True, timeout=timeout * 3 + 5, check=False)
    except subprocess.TimeoutExpired:
        raise UserError(
            f"ssh-keyscan {host} timed out", hint="is the host up and reachable?"
        ) from None
    keys = []
    for raw in proc.stdout.decode("utf-8", "replace").splitlines():
        fields = raw.split()
        if raw.startswith("#") or len(fields) < 3 or fields[1] != "ssh-ed25519":
            continue
        keys.append(f"{fields[1]} {fields[2]}")
    where = f"{host}:{port}" if port is not None else host
    if not keys:
        raise UserError(
            f"no ssh-ed25519 host key from {where} (ssh-keyscan exit {proc.returncode})",
            hint="check that sshd runs there and offers an ed25519 key, or use --ssh-pubkey-file",
        )
    if len(set(keys)) > 1:
        raise UserError(f"{where} presented {len(set(keys))} different ed25519 keys")
    return keys[0]


def _helper_hostname(tree: NixTree, call: Node) -> tuple[str, str] | None:
    """The ``hostname`` a deploy-rs node gets from a helper of the same file applied to
    string literals (``mkNode = host: hostname: { inherit hostname; … };`` then
    ``mkNode "vesta" "vesta.lan"``): (that literal, the helper's name), else None."""
    from secretkit.nix import cst

    args: list[cst.Node] = []
    head = call
    while head.type == "apply_expression":
        argument, function = (
            head.child_by_field_name("argument"),
            head.child_by_field_name("function"),
        )
        if argument is None or function is None:
            return None
        args.insert(0, argument)
        head = function
    helper = cst.dotted_name(tree, head)
    lambdas = [b.value for b in cst.bindings(tree) if b.full_path[-1:] == [helper]]
    if helper is None or len(lambdas) != 1:
        return None
    params: list[str] = []
    body = lambdas[0]
    while body.type == "function_expression":  # (curried: one name per argument)
        universal = body.child_by_field_name("universal")
        inner = body.child_by_field_name("body")
        if universal is None or body.child_by_field_name("formals") is not None or inner is None:
            return None
        params.append(cst.node_text(tree, universal))
        body = inner
    bound = dict(zip(params, args, strict=False))
    named: str | None = None  # the parameter `hostname` is set from
    for binding in cst.bindings(tree):
        if body.start_byte <= binding.start < body.end_byte and binding.full_path[-1:] == [
            "hostname"
        ]:
            named = cst.node_text(tree, binding.value) if binding.value is not None else None
    stack = [body]
    while stack and named is None:  # `inherit hostname;` (not `inherit (x) hostname;`)
        node = stack.pop()
        if node.type == "inherit" and "hostname" in cst.node_text(tree, node)[:-1].split()[1:]:
            named = "hostname"
        stack.extend(c for c in node.named_children if c.type != "function_expression")
    given = bound.get(named) if named is not None else None
    if given is not None and given.type in cst.STRING_TYPES:
        literal = cst.string_at(tree, given)
        if not literal.has_interpolation:
            return literal.value, helper
    return None


def deploy_target(root: Path, name: str) -> Target | None:
    """Where colmena or deploy-rs would deploy host ``name``, if a literal says so."""
    from secretkit.git.files import files_below
    from secretkit.nix import cst
    from secretkit.nix.hosts import discover

    inventory = discover(root)
    host: tuple[str, str] | None = None
    port: int | None = None
    for path in files_below(root):
        if path.suffix != ".nix":
            continue
        try:
            tree = cst.parse(path.read_bytes())
        except OSError:
            continue
        rel = path.relative_to(root).as_posix()
        for binding in cst.bindings(tree):
            full = binding.full_path
            ours = name in full[:-1] or name in inventory.hosts_at(rel, binding.start)
            ours = ours or full[-2:] == ["nodes", name]  # (deploy-rs: a node made by a helper)
            if not ours:
                continue
            value = binding.value
            text = (
                cst.string_at(tree, value).value
                if value.type in cst.STRING_TYPES
                else cst.node_text(tree, value)
            )
            if full[-2:] == ["deployment", "targetHost"] and value.type in cst.STRING_TYPES:
                host = (text, f"colmena deployment.targetHost in {rel}")
            elif full[-2:] == ["deployment", "targetPort"] and text.isdigit():
                port = int(text)
            elif full[-3:] == ["nodes", name, "hostname"] and value.type in cst.STRING_TYPES:
                host = host or (text, f"deploy-rs nodes.{name}.hostname in {rel}")
            elif full[-2:] == ["nodes", name] and value.type == "apply_expression":
                given = _helper_hostname(tree, value)  # vesta = mkNode "vesta" "vesta.lan";
                if given is not None:
                    where = f"deploy-rs nodes.{name} ({given[1]}'s hostname) in {rel}"
                    host = host or (given[0], where)
    if host is None or "${" in host[0]:
        return None
    target, _ = parse_target(host[0])
    return Target(target, port, host[1])
