"""Where migrate tells sops-nix to read each host's ssh key: the key a host's modules
say is in place at activation.  A stranger's run on JulienMalka/snowfield wrote
/etc/ssh/ssh_host_ed25519_key for hosts that persist it under /persistent (linked
into /etc/ssh by preservation, later than sops-nix reads it) and that told agenix so
in age.identityPaths."""

from __future__ import annotations

from secretkit.nix import cst
from secretkit.nix.host_key_paths import activation_key_paths
from secretkit.nix.wiring import wire_host_key

DEFAULT = b"{ ... }: { services.openssh.enable = true; }\n"
IMPERMANENCE = (
    b"{ ... }: {\n  services.openssh.enable = true;\n"
    b'  environment.persistence."/persist" = {\n'
    b'    directories = [ "/var/lib/nixos" ];\n'
    b'    files = [ "/etc/machine-id" "/etc/ssh/ssh_host_ed25519_key" ];\n  };\n}\n'
)
PRESERVATION = (
    b"{ ... }: {\n  services.openssh.enable = true;\n"
    b'  preservation.preserveAt."/persistent".files = [\n'
    b'    { file = "/etc/ssh/ssh_host_ed25519_key"; how = "symlink"; }\n  ];\n}\n'
)
AGENIX = (
    b"{ ... }: {\n  services.openssh.enable = true;\n  age.identityPaths = [\n"
    b'    "/persistent/etc/ssh/ssh_host_ed25519_key"\n    "/etc/ssh/ssh_host_ed25519_key"\n'
    b'    "/etc/ssh/ssh_host_rsa_key"\n  ];\n}\n'
)


def _paths(source: bytes) -> list[str] | None:
    return activation_key_paths({"m.nix": source}, ["m.nix"], cst.parse)


def test_the_key_a_host_keeps_under_its_persistent_directory() -> None:
    assert _paths(IMPERMANENCE) == ["/persist/etc/ssh/ssh_host_ed25519_key"]
    assert _paths(PRESERVATION) == ["/persistent/etc/ssh/ssh_host_ed25519_key"]


def test_agenix_identity_paths_say_it_first_its_ed25519_keys_only() -> None:
    both = {"a.nix": AGENIX, "b.nix": IMPERMANENCE}
    assert activation_key_paths(both, ["a.nix", "b.nix"], cst.parse) == [
        "/persistent/etc/ssh/ssh_host_ed25519_key",
        "/etc/ssh/ssh_host_ed25519_key",
    ]


def test_nothing_said_is_the_default() -> None:
    assert _paths(DEFAULT) is None


def test_the_wiring_names_each_hosts_own_key() -> None:
    sources = {
        "common.nix": b"{ ... }: { }\n",
        "hosts/a.nix": IMPERMANENCE,
        "hosts/b.nix": DEFAULT,
    }
    modules = {"a": ["common.nix", "hosts/a.nix"], "b": ["common.nix", "hosts/b.nix"]}
    entries = {"a": ["hosts/a.nix"], "b": ["hosts/b.nix"]}
    wiring = wire_host_key(sources, modules, entries, cst.parse)
    assert sorted(wiring.edits) == ["hosts/a.nix", "hosts/b.nix"]
    a = wiring.edits["hosts/a.nix"][0].text
    b = wiring.edits["hosts/b.nix"][0].text
    assert 'sops.age.sshKeyPaths = [ "/persist/etc/ssh/ssh_host_ed25519_key" ];' in a
    assert 'sops.age.sshKeyPaths = [ "/etc/ssh/ssh_host_ed25519_key" ];' in b
    # the same key for every host: one line in the module they share
    same = {**sources, "hosts/b.nix": IMPERMANENCE}
    shared = wire_host_key(same, modules, entries, cst.parse)
    assert sorted(shared.edits) == ["common.nix"]
    assert '"/persist/etc/ssh/ssh_host_ed25519_key"' in shared.edits["common.nix"][0].text


def test_impermanence_s_storage_path_and_a_persisted_ssh_directory() -> None:
    """A name that is no path (`environment.persistence.main`) keeps its files under
    persistentStoragePath: migrate wrote "main/etc/ssh/…", a relative path sops-nix never
    finds, and check passed it.  A persisted /etc/ssh directory keeps the key too."""
    storage = (
        b"{ ... }: { environment.persistence.main = {\n"
        b'  persistentStoragePath = "/nix/persist";\n'
        b'  files = [ "/etc/ssh/ssh_host_ed25519_key" ];\n}; }\n'
    )
    assert _paths(storage) == ["/nix/persist/etc/ssh/ssh_host_ed25519_key"]
    directory = b'{ ... }: { environment.persistence."/persist".directories = [ "/etc/ssh" ]; }\n'
    assert _paths(directory) == ["/persist/etc/ssh/ssh_host_ed25519_key"]
    unread = storage.replace(b'"/nix/persist"', b"cfg.dir")
    assert _paths(unread) == ["?"]
    sources = {"hosts/a.nix": unread}
    modules = {"a": ["hosts/a.nix"]}
    wiring = wire_host_key(sources, modules, modules, cst.parse)
    assert wiring.edits == {}  # (no path it cannot read is written)
    (note,) = wiring.notes
    assert note.startswith("host a: keeps its ssh host key in a persistent directory")
    assert 'sops.age.sshKeyPaths = [ "<that directory>/etc/ssh/ssh_host_ed25519_key" ];' in note


def test_hosts_sharing_their_first_module_get_the_line_in_their_own() -> None:
    """Three hosts whose first module is common.nix, one persisting its key: the
    per-host lines went to common.nix, the last host's key over the others' (a
    stranger's mkHost flake: hermes got /etc/ssh/…)."""
    sources = {
        "common.nix": b"{ ... }: { }\n",
        "hosts/a.nix": DEFAULT,
        "hosts/b.nix": IMPERMANENCE,
        "hosts/c.nix": DEFAULT,
    }
    modules = {h: ["common.nix", f"hosts/{h}.nix"] for h in "abc"}
    wiring = wire_host_key(sources, modules, modules, cst.parse)
    assert sorted(wiring.edits) == ["hosts/a.nix", "hosts/b.nix", "hosts/c.nix"]
    assert "/persist/etc/ssh/" in wiring.edits["hosts/b.nix"][0].text
    assert "/persist/" not in wiring.edits["hosts/a.nix"][0].text
