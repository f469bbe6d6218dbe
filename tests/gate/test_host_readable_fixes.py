"""host-readable's fixes where a host reads another host's own sops file (a shared
module pointing at secrets/a.yaml): each works when followed (helper-129)."""

from __future__ import annotations

from pathlib import Path

from secretkit.gate.host_readable import _host_problem
from secretkit.keys.sops_yaml import read_keys
from secretkit.nix.sops_refs import Declaration


def _recipient() -> str:
    import pyrage

    return str(pyrage.x25519.Identity.generate().to_public())


A, B, ADMIN = _recipient(), _recipient(), _recipient()


def _keys(root: Path, *, with_b: bool) -> object:
    lines = [
        "keys:",
        f"  - &admin_me {ADMIN}",
        f"  - &host_a {A}",
        *([f"  - &host_b {B}"] if with_b else []),
        "creation_rules:",
        "  - path_regex: ^secrets/a\\.yaml$",
        "    key_groups:",
        "      - age:",
        "          - *admin_me",
        "          - *host_a",
    ]
    (root / ".sops.yaml").write_text("\n".join(lines) + "\n")
    return read_keys(root)


class _Entry:
    sops = object()


def test_a_keyless_host_reading_another_hosts_file_is_not_sent_to_updatekeys(
    tmp_path: Path,
) -> None:
    """`hosts add b, then updatekeys secrets/a.yaml` left b unable to read a's file (its
    rule never names b): the fix says b needs a copy of its own."""
    decl = Declaration("tailscale/authkey", "modules/common.nix", 0, "secrets/a.yaml")
    problem = _host_problem(
        _keys(tmp_path, with_b=False), "b", "secrets/a.yaml", decl,  # type: ignore[arg-type]
        {"secrets/a.yaml": _Entry()}, lambda sops: [[ADMIN, A]],  # type: ignore[dict-item]
    )  # fmt: skip
    assert problem is not None and "updatekeys" not in problem.fix
    assert "secrets/a.yaml is a's own file, so b needs a copy of its own" in problem.fix
    # with b's key: its own copy, with the very command to store it
    problem = _host_problem(
        _keys(tmp_path, with_b=True), "b", "secrets/a.yaml", decl,  # type: ignore[arg-type]
        {"secrets/a.yaml": _Entry()}, lambda sops: [[ADMIN, A]],  # type: ignore[dict-item]
    )  # fmt: skip
    assert problem is not None
    assert 'secretkit set secrets/b.yaml \'["tailscale"]["authkey"]\'' in problem.fix


def test_a_missing_key_in_another_hosts_file_is_not_stored_there(tmp_path: Path) -> None:
    """helper-130 repro-5: b's module reads secrets/a.yaml; nix-secret-refs said "add it:
    secretkit set secrets/a.yaml …" — a value there is a's alone, b cannot read it."""
    from secretkit.gate.context import CheckContext
    from secretkit.gate.nix_checks import another_hosts_file
    from secretkit.gate.sops_verify import SopsJudge

    _keys(tmp_path, with_b=True)
    ctx = CheckContext(root=tmp_path, judge=SopsJudge(), walk=True)
    assert another_hosts_file(ctx, "secrets/a.yaml", ["b"]) == "a"
    assert another_hosts_file(ctx, "secrets/a.yaml", ["a"]) is None
    assert another_hosts_file(ctx, "secrets/shared.yaml", ["a", "b"]) is None
