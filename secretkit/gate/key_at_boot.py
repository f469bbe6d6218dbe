"""``host-readable``: the ssh key sops-nix derives a host's age key from is there when
sops-nix needs it.  sops-nix installs secrets while NixOS activates, which at boot runs
before systemd mounts any filesystem that is not ``neededForBoot`` (NixOS stage 2;
Mic92/sops-nix README, "impermanence": the key "must be in a persisted directory,
loaded early enough during boot").  A key under such a mount (``/persist`` of an
impermanence setup without ``fileSystems."/persist".neededForBoot = true``) is not
there then: no secret of the host is installed at boot."""

from __future__ import annotations

from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext


def keys_at_boot(ctx: CheckContext) -> list[CheckResult]:
    from secretkit.gate.option_values import option_bindings, values_by_host
    from secretkit.plan.hostkeys import HOST_KEY, UNREAD, key_file

    inventory = ctx.inventory()
    declaring = {d.file for d in ctx.nix().declarations}
    sources = ctx.nix_sources()
    out = []
    for name, host in sorted(inventory.hosts.items()):
        modules = sorted(m.as_posix() for m in host.modules - host.home_modules)
        if not declaring & set(modules):
            continue  # (no sops secret of its own to install)
        key = key_file(sources, modules) or HOST_KEY
        if key == UNREAD:
            continue  # (a path not read here)
        mounts: dict[str, str] = {}  # mount point -> the module declaring it
        for module in modules:
            if b"fileSystems" not in sources.get(module, b""):
                continue
            _tree, bindings = option_bindings(ctx, module)
            for _binding, path in bindings:
                if len(path) >= 2 and path[0] == "fileSystems" and path[1].startswith("/"):
                    mounts.setdefault(path[1].rstrip("/") or "/", module)
        under = [m for m in mounts if m != "/" and key.startswith(m + "/")]
        if not under:
            if "/" in mounts and _tmpfs_root(ctx, name, mounts["/"]):
                out.append(_on_tmpfs(name, key, mounts["/"]))
            continue
        mount = max(under, key=len)
        needed = values_by_host(ctx, ["fileSystems", mount, "neededForBoot"], at=mounts[mount])
        if needed.get(name, needed.get("", set())) == {"true"}:
            continue
        out.append(
            CheckResult(
                "host-readable",
                False,
                f"host {name}: sops-nix reads its key {key} while NixOS activates, which at "
                f'boot comes before systemd mounts {mount} (fileSystems."{mount}" is not '
                "neededForBoot): no secret of the host is installed at boot",
                f'set fileSystems."{mount}".neededForBoot = true; in {mounts[mount]} (the '
                "initrd mounts it before activation)",
                (mounts[mount],),
                group="a host key sops-nix cannot read at boot",
            )
        )
    return out


def _tmpfs_root(ctx: CheckContext, host: str, module: str) -> bool:
    """Whether ``host``'s root filesystem is a tmpfs (an impermanence setup's)."""
    from secretkit.gate.option_values import values_by_host

    kinds = values_by_host(ctx, ["fileSystems", "/", "fsType"], at=module)
    return kinds.get(host, kinds.get("", set())) == {"tmpfs"}


def _on_tmpfs(host: str, key: str, module: str) -> CheckResult:
    return CheckResult(
        "host-readable",
        False,
        f"host {host}: sops-nix reads its key {key} from the root filesystem, a tmpfs "
        f"({module}): it is empty at every boot, and sshd makes its keys only after "
        "activation, where sops-nix installs the secrets: none is installed at boot",
        "point sops.age.sshKeyPaths at the persisted key (the path services.openssh."
        "hostKeys names under a neededForBoot filesystem, such as /persist/etc/ssh/"
        "ssh_host_ed25519_key)",
        (module,),
        group="a host key sops-nix cannot read at boot",
    )
