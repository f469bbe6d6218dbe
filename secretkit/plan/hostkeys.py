"""Will sops-nix find its key on each host's first boot?

sops-nix derives the host's age identity from ``sops.age.sshKeyPaths`` (migrate wires
``/etc/ssh/ssh_host_ed25519_key``).  NixOS only creates that file when
``services.openssh.enable`` is true and ``services.openssh.hostKeys`` (default: an
ed25519 key at that path) still lists it.  This looks at what each host's modules
set as plain values and says, per host, what to add when the key would be missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from secretkit.plan.hostvalues import HostValues

HOST_KEY = "/etc/ssh/ssh_host_ed25519_key"


def host_key_problems(
    hosts: Sequence[str],
    host_values: HostValues,
    sources: Mapping[str, bytes],
    host_modules: Mapping[str, Sequence[str]],
    key_path: str = HOST_KEY,
) -> list[str]:
    problems = []
    for host in sorted(hosts):
        enabled, _ = host_values.value([host], ("services", "openssh", "enable"))
        modules = [sources.get(m, b"") for m in host_modules.get(host, [])]
        sets_host_keys = any(b"hostKeys" in data for data in modules)
        lists_key = any(key_path.encode() in data for data in modules)
        if enabled != "true":
            state = "is not enabled" if enabled == "false" else "is not enabled in any module"
            problems.append(
                f"host {host}: sops.age.sshKeyPaths uses {key_path}, but services.openssh "
                f"{state}, so that key is never generated and no secret decrypts on boot; "
                f"add services.openssh.enable = true; to {host} (or set sops.age.keyFile "
                "to an age key you install)"
            )
        elif sets_host_keys and not lists_key:
            problems.append(
                f"host {host}: services.openssh.hostKeys is set without {key_path}; add "
                f'{{ path = "{key_path}"; type = "ed25519"; }} to it'
            )
    return problems
