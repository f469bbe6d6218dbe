"""nix.conf's ``access-tokens``: ``host=token`` pairs, in ``nix.settings`` and in nix.conf
text.  A token of no vendor's format (a self-hosted Gitea's 40 hex digits, a GitLab
``PAT:`` one) was read whole as ``host=token`` and dismissed; each token is a finding
at its own span, and migrate moves the list form."""

from __future__ import annotations

import pytest

from secretkit.scan.one_file import scan_bytes
from tests.support import fake
from tests.support.nixfind import FakeFinding, plan_module

GITEA = fake.hex_key(20, "gitea")  # 40 hex digits, as Gitea hands them out
PAT = "PAT:" + fake.password("gitlab")
OTHER = fake.password("forgejo")


def _found(path: str, text: str) -> list[tuple[str, int, str]]:
    findings, skipped = scan_bytes(path, text.encode())
    assert skipped is None
    return [(f.secret.reveal(), f.line, f.rule) for f in findings]


def test_each_token_of_the_nix_settings_list_is_found() -> None:
    text = (
        "{ ... }:\n{\n  nix.settings.access-tokens = [\n"
        f'    "git.lan={GITEA}"\n    "gitlab.example.com={PAT}"\n  ];\n}}\n'
    )
    assert _found("h.nix", text) == [
        (GITEA, 4, "secret-attribute"),
        (PAT, 5, "secret-attribute"),
    ]


def test_several_pairs_in_one_string_are_found_whole() -> None:
    text = f'{{ nix.settings.access-tokens = "git.lan={GITEA} code.lan={OTHER}"; }}\n'
    ((value, _line, _rule),) = _found("h.nix", text)
    assert value == f"git.lan={GITEA} code.lan={OTHER}"


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("h.nix", "{{ nix.extraOptions = ''\n  access-tokens = git.lan={a} code.lan={b}\n''; }}\n"),
        (
            "nix.conf",
            "experimental-features = nix-command\naccess-tokens = git.lan={a} code.lan={b}\n",
        ),
        ("nix.conf", "extra-access-tokens = git.lan={a} code.lan={b}\n"),
    ],
)
def test_each_token_of_nix_conf_text_is_found(path: str, text: str) -> None:
    found = _found(path, text.format(a=GITEA, b=OTHER))
    assert [value for value, _line, _rule in found] == [GITEA, OTHER]


@pytest.mark.parametrize(
    "text",
    [
        '{ nix.settings.access-tokens = [ "github.com=${token}" ]; }\n',
        '{ nix.settings.access-tokens = [ "github.com=<your-token>" ]; }\n',
        '{ nix.settings.access-tokens = "!include /run/secrets/nix-tokens"; }\n',
        "{ nix.extraOptions = ''\n  access-tokens = github.com=changeme\n''; }\n",
    ],
)
def test_stand_ins_and_references_stay_quiet(text: str) -> None:
    assert _found("h.nix", text) == []


def test_migrate_moves_a_token_of_no_vendor_format() -> None:
    source = f'{{ ... }}: {{ nix.settings.access-tokens = [ "git.lan={GITEA}" ]; }}\n'.encode()
    findings, _ = scan_bytes("h.nix", source)
    (finding,) = findings
    assert source[finding.start : finding.end] == GITEA.encode()
    found = [FakeFinding("h.nix", finding.line, finding.start, finding.end, finding.secret)]
    plan = plan_module(source, "h.nix", findings=found)
    assert [m.new_option for m in plan.moves] == [
        "nix.extraOptions = !include (extra-access-tokens)"
    ]
