""".sops.yaml editing (keys/sops_yaml_edits): golden files before/after each edit
(comments included), idempotency, the model after each edit, and the rules still loading
in the sops engine.

Regenerate the goldens after a deliberate format change with
``SECRETKIT_UPDATE_GOLDEN=1 python -m pytest tests/keys/test_sops_yaml_edits.py`` and review
the diff.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secretkit.errors import UserError
from secretkit.keys import sops_yaml
from secretkit.keys import sops_yaml_edits as sy
from secretkit.keys.sops_yaml_edits import Edit
from secretkit.layouts.sops_nix import host_secrets_path

GOLDEN = Path(__file__).parent / "golden"
P = Path("/repo/.sops.yaml")

ADMIN = "age1v8zjc47jmlqwefyu66s0d4ke98qr4vnuj3cpvs4z9npfdw833dxqwjrhzv"
OBSERVER = "age1hjm3aujg9e79f5yth8a2cejzdjg5n9vnu96l05p70uvfpeltnpms7yy3pp"
IMMICH = "age17044m9wgakla6pzftf4srtl3h5mcsr85jysgt5fg23zpnta8sfdqhzn452"
SYNCTHING = "age1a8pk4akrdamj7nvqy3zywgtny8dxz7t5xzu7u8v9mhrayp9freqsqatyrs"
SECOND_ADMIN = "age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw"


def before(name: str) -> bytes:
    return (GOLDEN / f"{name}.before.yaml").read_bytes()


Op = Callable[[bytes | None], Edit]

CASES: list[tuple[str, str | None, Op]] = [
    ("init-new", None, lambda d: sy.init_text(d, "stian", ADMIN, P)),
    (
        "init-then-add",
        "init-new.after",
        lambda d: sy.add_host_text(d or b"", "observer", OBSERVER, P),
    ),
    (
        "user-add-host",
        "user.before",
        lambda d: sy.add_host_text(d or b"", "syncthing", SYNCTHING, P),
    ),
    ("user-remove-host", "user.before", lambda d: sy.remove_host_text(d or b"", "immich", P)),
    (
        "user-remove-observer",
        "user.before",
        lambda d: sy.remove_host_text(d or b"", "observer", P),
    ),
    ("user-second-admin", "user.before", lambda d: sy.init_text(d, "bob", SECOND_ADMIN, P)),
    (
        "user-rotate-host",
        "user.before",
        lambda d: sy.set_host_key_text(d or b"", "immich", SYNCTHING, P),
    ),
    (
        "block-add-host",
        "block.before",
        lambda d: sy.add_host_text(d or b"", "db", SYNCTHING, P),
    ),
    ("block-remove-host", "block.before", lambda d: sy.remove_host_text(d or b"", "web", P)),
]


REMOVED = {
    "user-remove-host": "immich",
    "user-remove-observer": "observer",
    "block-remove-host": "web",
}


@pytest.mark.parametrize(("case", "start", "op"), CASES, ids=[c[0] for c in CASES])
def test_golden(case: str, start: str | None, op: Op) -> None:
    data = (GOLDEN / f"{start}.yaml").read_bytes() if start else None
    edit = op(data)
    assert edit.data is not None and edit.change.changed
    expected = GOLDEN / f"{case}.after.yaml"
    if os.environ.get("SECRETKIT_UPDATE_GOLDEN") == "1":
        expected.write_bytes(edit.data)
    assert edit.data.decode() == expected.read_text()
    # idempotent: the same edit on the result changes nothing
    again = op(edit.data)
    assert again.data is None and not again.change.changed
    # every comment line of the input survives the edit (removal keeps them too)
    if data is not None:
        gone = REMOVED.get(case)
        for line in data.decode().splitlines():
            if "#" not in line or (gone is not None and f"host_{gone}" in line):
                continue  # a same-line comment of a removed entry goes with it
            assert line.split("#", 1)[1] in edit.data.decode(), line


def test_no_op_edits_leave_the_file_byte_for_byte() -> None:
    # Edits splice spans of the text: nothing is re-printed, so a no-op is no write.
    for name in ("user.before", "block.before", "init-new.after"):
        data = (GOLDEN / f"{name}.yaml").read_bytes()
        assert sy.remove_host_text(data, "nobody", P).data is None
        admin = sops_yaml.model_of(P, sops_yaml.parse_tree(data)).admins
        for admin_name, key in admin.items():
            assert sy.init_text(data, admin_name, key, P).data is None


def test_add_host_change_record() -> None:
    edit = sy.add_host_text(before("user"), "syncthing", SYNCTHING, P)
    assert edit.change.added_keys == ("host_syncthing",)
    assert edit.change.added_rules == ("^secrets/syncthing\\.yaml$",)
    assert edit.change.new_recipient == SYNCTHING
    assert edit.data is not None
    model = sops_yaml.model_of(P, sops_yaml.parse_tree(edit.data))
    rule = model.host_rule("syncthing")
    assert rule is not None
    assert rule.groups == ((ADMIN, SYNCTHING),)
    # inserted before the catch-all, so it is the rule sops picks for the file
    assert model.rule_for("secrets/syncthing.yaml") == rule
    assert model.rules[-1].path_regex is None


def test_remove_host_change_record() -> None:
    edit = sy.remove_host_text(before("user"), "immich", P)
    change = edit.change
    assert change.removed_keys == ("host_immich",)
    assert change.removed_rules == ("^secrets/immich\\.yaml$",)
    assert change.changed_rules == ("^secrets/shared/[^/]+\\.yaml$",)
    assert change.old_recipient == IMMICH
    assert edit.data is not None and b"host_immich" not in edit.data


def test_rotate_keeps_aliases_and_reports_rules() -> None:
    edit = sy.set_host_key_text(before("user"), "immich", SYNCTHING, P)
    assert edit.change.old_recipient == IMMICH
    assert edit.change.changed_rules == (
        "^secrets/immich\\.yaml$",
        "^secrets/shared/[^/]+\\.yaml$",
    )
    assert edit.data is not None
    model = sops_yaml.model_of(P, sops_yaml.parse_tree(edit.data))
    assert model.hosts["immich"] == SYNCTHING
    assert IMMICH not in edit.data.decode()


def test_rules_load_in_the_sops_engine() -> None:
    from secretkit.sops.config import parse_config

    data = sy.init_text(None, "stian", ADMIN, P).data
    assert data is not None
    for name, key in (("observer", OBSERVER), ("immich", IMMICH)):
        edit = sy.add_host_text(data, name, key, P)
        assert edit.data is not None
        data = edit.data
    config = parse_config(data, P)
    rule = config.rule_for(Path("/repo/secrets/immich.yaml"))
    assert rule is not None
    assert [[str(k) for k in g] for g in rule.key_groups] == [[ADMIN, IMMICH]]
    assert config.rule_for(Path("/repo/secrets/other.yaml")) is None


def test_clashes_change_nothing() -> None:
    data = before("user")
    with pytest.raises(UserError) as clash:
        sy.add_host_text(data, "immich", SYNCTHING, P)
    assert clash.value.one_line() == (
        "host immich already has a different key in .sops.yaml "
        "(hint: to replace it run `secretkit rotate host immich --age …`)"
    )
    with pytest.raises(UserError, match="admin stian already has a different key"):
        sy.init_text(data, "stian", SECOND_ADMIN, P)
    with pytest.raises(UserError) as same_key:
        sy.init_text(data, "other", ADMIN, P)
    assert same_key.value.one_line() == (
        "this key is already admin stian in .sops.yaml "
        "(hint: run with --admin-name stian, or pass another key)"
    )
    with pytest.raises(UserError, match=r"no host nope in \.sops\.yaml"):
        sy.set_host_key_text(data, "nope", SYNCTHING, P)


def test_an_admin_key_already_under_a_hand_written_anchor_is_not_doubled() -> None:
    """wimpysworld/nix-config keeps its admin as &user_martin: init --admin with that key
    added &admin_admin beside it, a second copy in the rule, and said to run updatekeys."""
    data = (
        b"keys:\n  - &user_martin " + ADMIN.encode() + b"\n  - &host_a " + OBSERVER.encode()
        + b"\ncreation_rules:\n  - path_regex: ^secrets/a\\.yaml$\n"
        b"    key_groups:\n      - age:\n          - *user_martin\n          - *host_a\n"
    )  # fmt: skip
    with pytest.raises(UserError) as doubled:
        sy.init_text(data, "admin", ADMIN, P)
    assert doubled.value.one_line() == (
        "this key is already in .sops.yaml as &user_martin; secretkit reads admins from "
        "&admin_<name> anchors (hint: if it is your admin key, rename &user_martin to "
        "&admin_admin (and its aliases to *admin_admin) in .sops.yaml; nothing else changes)"
    )
    # the rename, as the hint says: then init has nothing to do
    renamed = data.replace(b"user_martin", b"admin_admin")
    assert sy.init_text(renamed, "admin", ADMIN, P).change.changed is False


def test_add_host_needs_an_admin_and_a_consistent_rule() -> None:
    no_admin = b"keys:\n  - &host_a " + OBSERVER.encode() + b"\ncreation_rules: []\n"
    with pytest.raises(UserError) as refused:
        sy.add_host_text(no_admin, "b", IMMICH, P)
    assert refused.value.one_line() == (
        ".sops.yaml has no admin key (hint: run `secretkit init --admin age1…` first)"
    )
    broken_rule = (
        b"keys:\n  - &admin_a " + ADMIN.encode() + b"\n"
        b"creation_rules:\n  - path_regex: ^secrets/b\\.yaml$\n    age: " + ADMIN.encode() + b"\n"
    )
    with pytest.raises(UserError, match=r"creation rule for secrets/b\.yaml does not list host b"):
        sy.add_host_text(broken_rule, "b", IMMICH, P)


@pytest.mark.parametrize("name", ["", "a.b", "-x", "a b", "x" * 64, "ümlaut", "../etc"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(UserError, match="invalid host name"):
        sy.add_host_text(before("user"), name, SYNCTHING, P)


def test_remove_absent_host_is_a_no_op() -> None:
    edit = sy.remove_host_text(before("user"), "jellyfin", P)
    assert edit.data is None and not edit.change.changed


def test_keys_as_a_mapping_of_lists() -> None:
    data = (
        "keys:\n"
        "  admins:\n"
        f"    - &admin_a {ADMIN}\n"
        "  hosts:\n"
        f"    - &host_x {OBSERVER}\n"
        "creation_rules: []\n"
    ).encode()
    edit = sy.add_host_text(data, "y", IMMICH, P)
    assert edit.data is not None
    model = sops_yaml.model_of(P, sops_yaml.parse_tree(edit.data))
    assert model.hosts == {"x": OBSERVER, "y": IMMICH}
    assert model.admins == {"a": ADMIN}


def test_a_keys_list_rules_use_by_alias_is_never_grown() -> None:
    """``keys: &all`` used as ``age: *all``: a key added to that list would be granted
    every file of those rules.  Refused, nothing written; a list of a mapping no rule
    aliases takes the key instead."""
    aliased = (
        f"keys: &all\n  - &admin_a {ADMIN}\n  - &host_x {OBSERVER}\n"
        "creation_rules:\n  - path_regex: ^hosts/.*$\n    age: *all\n"
    ).encode()
    with pytest.raises(UserError, match=r"anchored \(&all\) and creation rules use it") as err:
        sy.add_host_text(aliased, "y", IMMICH, P)
    assert "instead of *all" in str(err.value.hint)
    with pytest.raises(UserError, match="creation rules use it"):
        sy.init_text(aliased, "b", SECOND_ADMIN, P)
    mapped = (
        f"keys:\n  admins: &admins\n    - &admin_a {ADMIN}\n  hosts:\n    - &host_x {OBSERVER}\n"
        "creation_rules:\n  - path_regex: ^shared/.*$\n    age: *admins\n"
    ).encode()
    edit = sy.add_host_text(mapped, "y", IMMICH, P)
    assert edit.data is not None
    model = sops_yaml.model_of(P, sops_yaml.parse_tree(edit.data))
    assert model.hosts == {"x": OBSERVER, "y": IMMICH}
    assert edit.data.index(b"&host_y") > edit.data.index(b"hosts:")  # not under &admins
    unaliased = aliased.replace(b"age: *all", b"age: *admin_a")
    assert sy.add_host_text(unaliased, "y", IMMICH, P).data is not None


def _recipient(i: int) -> str:
    from secretkit.sops.keysources.bech32 import age_recipient

    return age_recipient(bytes([i]) * 32)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["add", "remove"]), st.sampled_from(["a", "b-1", "c_2", "d"])),
        max_size=12,
    ),
    st.sampled_from(["init-new.after", "user.before", "block.before"]),
)
def test_add_remove_sequences_keep_the_model_consistent(
    ops: list[tuple[str, str]], start: str
) -> None:
    data = (GOLDEN / f"{start}.yaml").read_bytes()
    expected = dict(sops_yaml.model_of(P, sops_yaml.parse_tree(data)).hosts)
    for op, name in ops:
        key = _recipient(ord(name[0]))
        edit = (
            sy.add_host_text(data, name, key, P)
            if op == "add"
            else sy.remove_host_text(data, name, P)
        )
        if op == "add":
            expected[name] = key
        else:
            expected.pop(name, None)
        if edit.data is not None:
            data = edit.data
        model = sops_yaml.model_of(P, sops_yaml.parse_tree(data))
        assert model.hosts == expected
        for host, recipient in expected.items():
            rule = model.rule_for(host_secrets_path(host))
            assert rule is not None and recipient in rule.recipients
        # the edit is a fixed point
        again = (
            sy.add_host_text(data, name, key, P)
            if op == "add"
            else sy.remove_host_text(data, name, P)
        )
        assert again.data is None
    assert data.decode().count("# ") >= (GOLDEN / f"{start}.yaml").read_text().count("# ") - 2


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_arbitrary_bytes_give_a_config_error_or_a_result(data: bytes) -> None:
    from secretkit.errors import SecretkitError

    try:
        sy.add_host_text(b"keys:\n  - &admin_a " + ADMIN.encode() + b"\n" + data, "h", IMMICH, P)
    except SecretkitError as exc:
        assert "\n" not in exc.one_line()


def test_remove_scrubs_written_out_keys_and_empty_rules() -> None:
    data = (
        "keys:\n"
        f"  - &admin_a {ADMIN}\n"
        f"  - &host_x {IMMICH}\n"
        "creation_rules:\n"
        "  - path_regex: ^secrets/only-x\\.yaml$\n"
        "    age: *host_x\n"
        "  - path_regex: ^secrets/raw\\.yaml$\n"
        f"    age: {ADMIN},{IMMICH}\n"
        "  - path_regex: ^secrets/list\\.yaml$\n"
        "    key_groups:\n"
        f"      - age: [{IMMICH}]\n"
        "        pgp: [0123456789ABCDEF0123456789ABCDEF01234567]\n"
        "  - path_regex: ^unrelated$\n"
        "    key_groups: []\n"
    ).encode()
    edit = sy.remove_host_text(data, "x", P)
    assert edit.data is not None
    text = edit.data.decode()
    assert IMMICH not in text
    assert edit.change.removed_rules == ("^secrets/only-x\\.yaml$",)
    assert edit.change.changed_rules == ("^secrets/raw\\.yaml$", "^secrets/list\\.yaml$")
    assert f"age: {ADMIN}\n" in text
    assert "pgp: [0123456789ABCDEF0123456789ABCDEF01234567]" in text
    assert "^unrelated$" in text  # a rule the host was never in is left alone


def test_add_refuses_a_shadowed_host_rule() -> None:
    data = (
        "keys:\n"
        f"  - &admin_a {ADMIN}\n"
        f"  - &host_x {IMMICH}\n"
        "creation_rules:\n"
        "  - age: *admin_a\n"
        "  - path_regex: ^secrets/x\\.yaml$\n"
        "    key_groups:\n"
        "      - age: [*admin_a, *host_x]\n"
    ).encode()
    with pytest.raises(UserError) as info:
        sy.add_host_text(data, "x", IMMICH, P)
    assert info.value.one_line() == (
        "creation rule 1 of .sops.yaml matches secrets/x.yaml before its own rule, so host x "
        "could not decrypt it (hint: move the rule for secrets/x.yaml above rule 1)"
    )


def test_a_key_that_is_already_another_hosts_or_an_admins_is_refused(tmp_path: Path) -> None:
    # a copied .pub file gave two hosts one key: each could read the other's secrets
    admin, first, second = ADMIN, OBSERVER, IMMICH
    sy.init(tmp_path, admin, "stian")
    sy.add_host(tmp_path, "observer", first)
    sy.add_host(tmp_path, "immich", second)
    before = (tmp_path / ".sops.yaml").read_bytes()
    refusals = [
        (lambda: sy.add_host(tmp_path, "jellyfin", first), "host observer"),
        (lambda: sy.set_host_key(tmp_path, "immich", first), "host observer"),
        (lambda: sy.add_host(tmp_path, "jellyfin", admin), "admin stian"),
    ]
    for call, whose in refusals:
        with pytest.raises(UserError) as info:
            call()
        assert info.value.message == (
            f"this key is already the key of {whose} in .sops.yaml; each host needs its own key"
        )
        assert (tmp_path / ".sops.yaml").read_bytes() == before
    assert not sy.add_host(tmp_path, "observer", first).changed  # same host: idempotent


def _big(n: int, five_space: bool) -> bytes:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "sops_yaml_bench", Path(__file__).parents[2] / "benchmarks" / "sops_yaml_bench.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    layout = bench.five_space_layout if five_space else bench.readme_layout
    return str(layout(n)).encode()


@pytest.mark.slow
@pytest.mark.parametrize("five_space", [False, True], ids=["readme", "five-space"])
def test_big_files_are_edited_by_lines_in_linear_time(five_space: bool) -> None:
    # The README layout took 135 s at 80 hosts when edits re-printed the file and
    # scored layouts with difflib; span edits touch only the lines they change.
    import difflib
    import time

    data = _big(300, five_space)
    started = time.monotonic()
    edits = {
        "add": sy.add_host_text(data, "newhost", SYNCTHING, P),
        "remove": sy.remove_host_text(data, "h3", P),
        "rotate": sy.set_host_key_text(data, "h7", SYNCTHING, P),
        "admin": sy.init_text(data, "bob", SECOND_ADMIN, P),
    }
    assert time.monotonic() - started < 30  # ~1 s on an idle machine
    changed = {}
    for name, edit in edits.items():
        assert edit.data is not None, name
        diff = difflib.unified_diff(
            data.decode().splitlines(), edit.data.decode().splitlines(), lineterm="", n=0
        )
        changed[name] = [ln for ln in diff if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]
    assert len(changed["add"]) == 6  # the key line and a five-line rule
    assert [ln[0] for ln in changed["remove"]] == ["-"] * 6  # comment lines around stay
    assert len(changed["rotate"]) == 2
    assert len(changed["admin"]) == 301  # the key, and one alias in each of the 300 rules
    added_rule = [ln[1:] for ln in changed["add"][1:]]
    indent = "     " if five_space else "  "
    assert added_rule[0] == f"{indent}- path_regex: ^secrets/newhost\\.yaml$"
    assert added_rule[-1].endswith("- *host_newhost")


def test_a_one_key_flow_list_does_not_set_the_style_of_new_rules() -> None:
    """The admins-only host-keys rule is written `age: [*admin_admin]`: new host rules
    followed it into flow style after the first, mixing styles in one file."""
    data = (
        "keys:\n"
        f"  - &admin_admin {ADMIN}\n"
        "creation_rules:\n"
        "  - path_regex: ^secrets/host-keys/[^/]+\\.yaml$\n"
        "    key_groups:\n"
        "      - age: [*admin_admin]\n"
    ).encode()
    for host, key in (("observer", OBSERVER), ("immich", IMMICH)):
        edit = sy.add_host_text(data, host, key, P)
        assert edit.data is not None
        data = edit.data
    text = data.decode()
    assert "      - age:\n          - *admin_admin\n          - *host_observer\n" in text
    assert "      - age:\n          - *admin_admin\n          - *host_immich\n" in text
    # a file whose rules list several keys in flow style keeps that style
    flow = data.replace(
        b"      - age:\n          - *admin_admin\n          - *host_observer\n",
        b"      - age: [*admin_admin, *host_observer]\n",
    )
    again = sy.add_host_text(flow, "syncthing", SYNCTHING, P)
    assert again.data is not None
    assert b"- age: [*admin_admin, *host_syncthing]" in again.data


def test_a_key_under_a_hand_written_anchor_is_refused_with_the_rename_that_adopts_it() -> None:
    data = (
        f"keys:\n  - &admin_a {ADMIN}\n  - &garage {IMMICH}\n"
        "creation_rules:\n  - path_regex: secrets/garage.yaml$\n    age: [*admin_a, *garage]\n"
    ).encode()
    with pytest.raises(UserError) as info:
        sy.add_host_text(data, "garage-ct", IMMICH, P)
    assert info.value.hint == (
        "if &garage is this host's key, rename it to &host_garage-ct in .sops.yaml (its aliases "
        "too); else use this host's own /etc/ssh/ssh_host_ed25519_key.pub "
        "(ssh-keyscan -t ed25519 HOST)"
    )
    renamed = data.replace(b"garage ", b"host_garage-ct ").replace(b"*garage]", b"*host_garage-ct]")
    assert sy.add_host_text(renamed, "garage-ct", IMMICH, P).change.changed  # now its rule is added


def _own_rule(ages: str) -> bytes:
    return (
        f"keys:\n  - &admin_a {ADMIN}\n"
        "creation_rules:\n"
        "  - path_regex: secrets/web.yaml$\n"
        f"    age: {ages}\n"
        "  - path_regex: secrets/[^/]+\\.yaml$\n"
        f"    age: {ADMIN}\n"
    ).encode()


def test_a_hand_written_rule_for_the_hosts_file_is_never_shadowed() -> None:
    # hosts add used to insert ^secrets/web\.yaml$ ahead of the user's own
    # secrets/web.yaml$ rule, which sops then never applied
    with pytest.raises(
        UserError, match=r"creation rule 1 of .* is the rule for secrets/web\.yaml"
    ) as err:
        sy.add_host_text(_own_rule(ADMIN), "web", IMMICH, P)
    assert IMMICH in (err.value.hint or "")
    # the fix it names works: with the key added to that rule, nothing is left to do
    done = sy.add_host_text(_own_rule(f"{ADMIN},{IMMICH}"), "web", IMMICH, P)
    assert done.data is None and not done.change.changed
    # a catch-all is not the host's own rule: the host's rule goes ahead of it
    edit = sy.add_host_text(_own_rule(ADMIN), "db", IMMICH, P)
    assert edit.data is not None
    model = sops_yaml.model_of(P, sops_yaml.parse_tree(edit.data))
    assert model.hosts == {"db": IMMICH}
    rules = edit.data.decode()
    assert rules.index("secrets/web.yaml$") < rules.index("^secrets/db\\.yaml$")
    assert rules.index("^secrets/db\\.yaml$") < rules.index("secrets/[^/]+")


def test_a_new_host_rule_lists_the_keys_every_rule_of_a_hand_written_file_lists() -> None:
    """A stranger's hand-written .sops.yaml named the owner's PGP key and an age key
    in every rule, with no &admin_ anchor; after `init --admin`, `hosts add` wrote a
    rule of the new admin and the host alone, so the owner could not open the host's
    new file.  Whoever every per-host rule lists is in the new rule too; no host key is."""
    from secretkit.sops.config import parse_config

    fpr = "0123456789ABCDEF0123456789ABCDEF01234567"

    def rule(regex: str, host: str) -> str:
        return (
            f"  - path_regex: {regex}\n    key_groups:\n      - pgp: [{fpr}]\n"
            f"        age: [*github, *{host}]\n"
        )

    data = (
        f"keys:\n  - &github {SECOND_ADMIN}\n  - &server_x {IMMICH}\n  - &server_y {SYNCTHING}\n"
        f"  - &admin_new {ADMIN}\ncreation_rules:\n"
        + rule("^secrets/x/[^/]+\\.yaml$", "server_x")
        + rule("^secrets/y/[^/]+\\.yaml$", "server_y")
    ).encode()
    edit = sy.add_host_text(data, "mtl0", OBSERVER, P)
    assert edit.data is not None
    added = parse_config(edit.data, P).rule_for(Path("/repo/secrets/mtl0.yaml"))
    assert added is not None
    keys = {(k.kind, k.ident.lower()) for g in added.key_groups for k in g}
    assert keys == {("pgp", fpr.lower()), ("age", SECOND_ADMIN), ("age", ADMIN), ("age", OBSERVER)}
    # the new admin's own key, listed by value in every rule as well: once
    listed = data.replace(b"*github", ADMIN.encode())
    edit = sy.add_host_text(listed, "mtl0", OBSERVER, P)
    assert edit.data is not None
    written = edit.data.decode().split("^secrets/mtl0")[1].split("path_regex")[0]
    assert written.count(ADMIN) + written.count("*admin_new") == 1, written
    # one host's rules alone: its own key is in every one of them, and stays out
    single = (
        f"keys:\n  - &github {SECOND_ADMIN}\n  - &server_x {IMMICH}\n  - &admin_new {ADMIN}\n"
        "creation_rules:\n" + rule("^secrets/x/[^/]+\\.yaml$", "server_x")
    ).encode()
    edit = sy.add_host_text(single, "mtl0", OBSERVER, P)
    assert edit.data is not None
    added = parse_config(edit.data, P).rule_for(Path("/repo/secrets/mtl0.yaml"))
    assert added is not None
    assert {k.ident.lower() for g in added.key_groups for k in g} == {ADMIN, OBSERVER}


def test_rotating_a_host_under_a_hand_written_anchor_replaces_that_anchor() -> None:
    """A stranger's hosts were `&bingbong` (no host_ prefix): `hosts list` showed them,
    `rotate host bingbong` said "no host bingbong", its hint added a second anchor, and
    --compromised then said the old key opened nothing, while it opened both files."""
    data = (
        f"keys:\n  - &owner {ADMIN}\n  - &bingbong {OBSERVER}\n  - &kiri {IMMICH}\n"
        "creation_rules:\n  - path_regex: secrets/secrets\\.yaml$\n    key_groups:\n"
        "      - age: [*owner, *bingbong, *kiri]\n"
    ).encode()
    edit = sy.set_host_key_text(data, "bingbong", SYNCTHING, P)
    assert edit.data is not None
    text = edit.data.decode()
    assert f"&bingbong {SYNCTHING}" in text and OBSERVER not in text
    assert "host_bingbong" not in text  # (no second anchor)
    assert edit.change.old_recipient == OBSERVER and edit.change.new_recipient == SYNCTHING
    assert edit.change.changed_rules == ("secrets/secrets\\.yaml$",)


def test_rotating_a_host_replaces_its_key_where_a_rule_names_it_by_value() -> None:
    """A rule listed the host's key by its value, not its anchor: rotate host left the
    old key a reader of that rule's files and said "the old key opens none of them"."""
    data = (
        f"keys:\n  - &me {ADMIN}\n  - &host_web {OBSERVER}\n"
        "creation_rules:\n  - path_regex: secrets/web\\.yaml$\n    key_groups:\n"
        "      - age: [*me, *host_web]\n"
        f"  - path_regex: backup/.*\\.yaml$\n    key_groups:\n      - age: [*me, {OBSERVER}]\n"
        f"  - path_regex: other/.*\\.yaml$\n    age: {ADMIN},{OBSERVER}\n"
    ).encode()
    edit = sy.set_host_key_text(data, "web", SYNCTHING, P)
    assert edit.data is not None
    text = edit.data.decode()
    assert OBSERVER not in text
    assert text.count(SYNCTHING) == 3
    assert set(edit.change.changed_rules) == {
        "secrets/web\\.yaml$",
        "backup/.*\\.yaml$",
        "other/.*\\.yaml$",
    }


def test_no_admin_key_beside_a_key_of_the_users_own_anchor_says_to_rename_it() -> None:
    """`&me` in every rule (a user's own spelling): "run init --admin" led to a second
    refusal by init; the rename it then asks for is said at once, and works."""
    data = (
        b"keys:\n  - &me " + ADMIN.encode() + b"\n  - &web " + OBSERVER.encode() + b"\n"
        b"creation_rules:\n  - path_regex: secrets/web\\.yaml$\n"
        b"    key_groups:\n      - age: [*me, *web]\n"
    )
    for add in (
        lambda: sy.add_host_text(data, "db", IMMICH, P),
        lambda: sy.add_rule_text(data, r"^secrets/db\.yaml$", ["host_web"], P),
    ):
        with pytest.raises(UserError) as refused:
            add()
        assert refused.value.one_line() == (
            ".sops.yaml has no admin key (secretkit reads admins from &admin_<name> "
            "anchors) (hint: if one of &me, &web is your own key, rename it in .sops.yaml "
            "(&me to &admin_me, and its aliases *me to *admin_me); otherwise run "
            "`secretkit init --admin age1…` first)"
        )
    renamed = data.replace(b"&me ", b"&admin_me ").replace(b"*me,", b"*admin_me,")
    added = sy.add_host_text(renamed, "db", IMMICH, P)
    assert added.change.changed and b"age: [*admin_me, *host_db]" in (added.data or b"")
