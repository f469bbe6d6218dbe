"""Rotation plans (secretkit.keys.rotation): which files a host change touches, what
recipients each one gets, the exposed names, and how failures are classified."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretkit.errors import IntegrityError, UserError
from secretkit.keys import rotation
from secretkit.sops import document, operations
from secretkit.sops.config import parse_config
from tests.commands.rotate_support import Key, age_key
from tests.conftest import commit_all


def _write(root: Path, rel: str, body: bytes, recipients: str, fmt: str = "yaml") -> Path:
    rule = parse_config(
        f"creation_rules:\n  - age: {recipients}\n".encode(), root / ".sops.yaml"
    ).rules[0]
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(operations.encrypt_new(document.load_plain(body, fmt), rule))
    return path


def _config(root: Path, admin: Key, hosts: dict[str, Key], extra: str = "") -> None:
    lines = ["keys:", f"  - &admin_a {admin.public}"]
    lines += [f"  - &host_{name} {key.public}" for name, key in hosts.items()]
    lines.append("creation_rules:")
    for name in hosts:
        lines += [
            f"  - path_regex: ^secrets/{name}\\.yaml$",
            "    key_groups:",
            f"      - age: [*admin_a, *host_{name}]",
        ]
    (root / ".sops.yaml").write_text("\n".join(lines) + "\n" + extra)


@pytest.fixture
def keys() -> tuple[Key, dict[str, Key]]:
    return age_key(), {"web": age_key(), "db": age_key()}


def test_find_sops_files_by_content_in_git(
    tmp_git_repo: Path, keys: tuple[Key, dict[str, Key]]
) -> None:
    admin, _ = keys
    _write(tmp_git_repo, "secrets/a.yaml", b"k: v\n", admin.public)
    _write(tmp_git_repo, "odd/name.txt", b"raw\n", admin.public, fmt="binary")
    _write(tmp_git_repo, "ignored/x.yaml", b"k: v\n", admin.public)
    (tmp_git_repo / ".gitignore").write_text("ignored/\n")
    (tmp_git_repo / "plain.yaml").write_text("sops:\n  not: metadata\n")
    (tmp_git_repo / "broken.yaml").write_text("sops: [\n")
    commit_all(tmp_git_repo)
    _write(tmp_git_repo, "new/untracked.json", b'{"k": "v"}', admin.public, fmt="json")
    found = {info.rel: info for info in rotation.sops_file_infos(tmp_git_repo)}
    assert sorted(found) == ["new/untracked.json", "odd/name.txt", "secrets/a.yaml"]
    assert found["odd/name.txt"].fmt == "binary"
    assert found["secrets/a.yaml"].recipients == ((admin.public,),)
    only = rotation.sops_file_infos(tmp_git_repo, relevant=lambda p, _: p.suffix == ".json")
    assert [info.rel for info in only] == ["new/untracked.json"]


def test_find_sops_files_outside_git_walks_the_directory(tmp_path: Path) -> None:
    admin = age_key()
    _write(tmp_path, "s/a.yaml", b"k: v\n", admin.public)
    _write(tmp_path, ".hidden/b.yaml", b"k: v\n", admin.public)
    assert [i.rel for i in rotation.sops_file_infos(tmp_path)] == ["s/a.yaml"]


def test_exposed_names_are_the_encrypted_key_paths(tmp_path: Path) -> None:
    admin = age_key()
    body = (
        b"alertmanager:\n  pushover:\n    token: t\n    user_key: u\n"
        b"list:\n  - a\n  - nested: b\nport_unencrypted: 80\n"
    )
    path = _write(tmp_path, "s.yaml", body, admin.public)
    sops = document.load_encrypted(path.read_bytes(), "yaml")
    assert rotation.exposed_names(sops) == (
        "alertmanager/pushover/token",
        "alertmanager/pushover/user_key",
        "list/0",
        "list/1/nested",
    )
    multi = _write(tmp_path, "m.yaml", b"a: 1\n---\nb: 2\n", admin.public)
    sops = document.load_encrypted(multi.read_bytes(), "yaml")
    assert rotation.exposed_names(sops) == ("[0]/a", "[1]/b")
    env = _write(tmp_path, "x.env", b"API_KEY=k\n", admin.public, fmt="dotenv")
    assert rotation.exposed_names(document.load_encrypted(env.read_bytes(), "dotenv")) == (
        "API_KEY",
    )


def test_readable_by_respects_shamir(tmp_path: Path) -> None:
    a, b = age_key(), age_key()
    config = parse_config(
        (
            "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n"
            f"      - age: [{a.public}]\n      - age: [{b.public}]\n"
        ).encode(),
        tmp_path / ".sops.yaml",
    )
    path = tmp_path / "shamir.yaml"
    path.write_bytes(
        operations.encrypt_new(document.load_plain(b"k: v\n", "yaml"), config.rules[0])
    )
    _write(tmp_path, "single.yaml", b"k: v\n", f"{a.public},{b.public}")
    found = {info.rel: info for info in rotation.sops_file_infos(tmp_path)}
    shamir, single = found["shamir.yaml"], found["single.yaml"]
    assert shamir.lists(a.public) and shamir.lists(b.public.upper())
    assert not shamir.readable_by(a.public)  # one share of two is not enough
    assert single.readable_by(a.public) and single.readable_by(b.public)
    assert not single.readable_by(age_key().public)


def test_plan_rotate_host(tmp_git_repo: Path, keys: tuple[Key, dict[str, Key]]) -> None:
    admin, hosts = keys
    web, db = hosts["web"], hosts["db"]
    _config(tmp_git_repo, admin, hosts)
    _write(tmp_git_repo, "secrets/web.yaml", b"a: {b: 1}\n", f"{admin.public},{web.public}")
    _write(tmp_git_repo, "secrets/db.yaml", b"c: 2\n", f"{admin.public},{db.public}")
    # a file no rule matches that still lists the web key: kept for its recipients,
    # the old key replaced by the new one
    _write(tmp_git_repo, "old/legacy.yaml", b"d: 3\n", f"{admin.public},{web.public},{db.public}")
    new = age_key()
    plan = rotation.plan_rotate_host(tmp_git_repo, "web", new.public)
    assert plan.old_recipient == web.public and plan.new_recipient == new.public
    assert plan.edit.data is not None and new.public.encode() in plan.edit.data
    ops = {op.file.rel: op for op in plan.ops}
    assert sorted(ops) == ["old/legacy.yaml", "secrets/web.yaml"]
    assert ops["secrets/web.yaml"].target == ((admin.public, new.public),)
    assert ops["secrets/web.yaml"].added == (new.public,)
    assert ops["secrets/web.yaml"].removed == (web.public,)
    assert ops["old/legacy.yaml"].target == ((admin.public, new.public, db.public),)
    assert {e.rel: e.names for e in plan.exposed} == {
        "secrets/web.yaml": ("a/b",),
        "old/legacy.yaml": ("d",),
    }
    # nothing was written by planning
    assert web.public in (tmp_git_repo / ".sops.yaml").read_text()
    with pytest.raises(UserError, match="no host mail"):
        rotation.plan_rotate_host(tmp_git_repo, "mail", new.public)


def test_plan_remove_host(tmp_git_repo: Path, keys: tuple[Key, dict[str, Key]]) -> None:
    admin, hosts = keys
    web, db = hosts["web"], hosts["db"]
    catch_all = "  - key_groups:\n      - age: [*admin_a, *host_web, *host_db]\n"
    _config(tmp_git_repo, admin, hosts, extra=catch_all)
    _write(tmp_git_repo, "secrets/web.yaml", b"a: 1\n", f"{admin.public},{web.public}")
    _write(tmp_git_repo, "secrets/db.yaml", b"c: 2\n", f"{admin.public},{db.public}")
    _write(tmp_git_repo, "shared.yaml", b"s: 3\n", f"{admin.public},{web.public},{db.public}")
    plan = rotation.plan_remove_host(tmp_git_repo, "web")
    ops = {op.file.rel: op for op in plan.ops}
    assert sorted(ops) == ["secrets/web.yaml", "shared.yaml"]
    # the host's own file now matches the catch-all, but is not widened to db
    assert ops["secrets/web.yaml"].orphan
    assert ops["secrets/web.yaml"].target == ((admin.public,),)
    assert not ops["shared.yaml"].orphan
    assert ops["shared.yaml"].target == ((admin.public, db.public),)
    assert plan.orphans == ("secrets/web.yaml",)
    assert {e.rel for e in plan.exposed} == {"secrets/web.yaml", "shared.yaml"}
    nothing = rotation.plan_remove_host(tmp_git_repo, "mail")
    assert nothing.ops == () and nothing.edit.data is None


def test_plan_updatekeys_and_rekey(tmp_path: Path, keys: tuple[Key, dict[str, Key]]) -> None:
    admin, hosts = keys
    web = hosts["web"]
    config = parse_config(
        f"creation_rules:\n  - path_regex: ^s/\n    age: {admin.public},{web.public}\n".encode(),
        tmp_path / ".sops.yaml",
    )
    _write(tmp_path, "s/same.yaml", b"a: 1\n", f"{web.public},{admin.public}")
    _write(tmp_path, "s/short.yaml", b"a: 1\n", admin.public)
    _write(tmp_path, "s/webonly.yaml", b"a: 1\n", web.public)
    _write(tmp_path, "other/x.yaml", b"a: 1\n", admin.public)
    ops = {
        op.file.rel: op
        for op in rotation.plan_updatekeys(config, rotation.sops_file_infos(tmp_path))
    }
    assert {rel: op.action for rel, op in ops.items()} == {
        "s/same.yaml": "up to date",
        "s/short.yaml": "updatekeys",
        "s/webonly.yaml": "updatekeys",
        "other/x.yaml": "no rule",
    }
    result = rotation.rekey(ops.values(), admin.identities())
    assert [op.file.rel for op, _ in result.outputs] == ["s/short.yaml"]
    assert result.unopened == ("s/webonly.yaml",) and result.broken == ()
    with pytest.raises(UserError, match=r"opens 1 file\(s\): s/webonly.yaml "):
        rotation.require_all_opened(result, admin.identities())
    # a tampered value is an integrity failure, not a missing key
    short = tmp_path / "s/short.yaml"
    short.write_bytes(short.read_bytes().replace(b"ENC[AES256_GCM,data:", b"ENC[AES256_GCM,data:A"))
    op = ops["s/short.yaml"]
    tampered = rotation.FileOp(
        rotation.sops_file_infos(tmp_path, relevant=lambda p, _: p.name == "short.yaml")[0],
        "rotate",
        op.rule,
    )
    result = rotation.rekey([tampered], admin.identities())
    assert result.broken and result.broken[0][0] == "s/short.yaml"
    with pytest.raises(IntegrityError, match=r"cannot re-key s/short\.yaml"):
        rotation.require_all_opened(result, admin.identities())
