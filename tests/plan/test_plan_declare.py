"""secretkit.plan.declare: where new sops declarations go, read back by the gate's own
reader (secretkit.nix.sops_refs) and put to ``nix-instantiate --parse``."""

from __future__ import annotations

import subprocess
from pathlib import Path

from secretkit.nix import cst, emit
from secretkit.nix.edits import checked_apply
from secretkit.nix.sops_refs import nix_facts, option_path
from secretkit.plan.declare import declaration_edits
from tests.conftest import need_tool
from tests.support.harness import evaluate

GENERATED = (
    "{ config, lib, ... }:\n{\n"
    '  sops.secrets = lib.genAttrs [ "db" ] (_: { sopsFile = ../../secrets/h.yaml; });\n'
    '  sops.templates = lib.mapAttrs (n: _: { content = "x"; }) { "a.env" = 1; };\n'
    "  x = config.sops.secrets.up.path;\n"
    '  y = config.sops.templates."up.env".path;\n}\n'
)


def _declare(source: str) -> str:
    tree = cst.parse(source.encode())
    top = cst.module_body(tree)
    decls = [emit.SecretDecl("up", "../../secrets/h.yaml")]
    templates = [emit.TemplateDecl("up.env", [f"T={emit.placeholder('up')}"])]
    edits = declaration_edits(tree, top, decls, templates)
    assert not isinstance(edits, str), edits
    return checked_apply(tree.source, edits).decode()


def test_beside_computed_secrets_a_declaration_goes_in_through_mkmerge() -> None:
    text = _declare(GENERATED)
    assert (
        "  sops.secrets = lib.mkMerge [\n"
        '    (lib.genAttrs [ "db" ] (_: { sopsFile = ../../secrets/h.yaml; }))\n'
        "    {\n"
        '      "up" = {\n'
        "        sopsFile = ../../secrets/h.yaml;\n"
        "      };\n"
        "    }\n"
        "  ];\n"
    ) in text
    assert "    {\n      \"up.env\" = {\n        content = ''\n" in text
    nix = need_tool("nix-instantiate")
    proc = subprocess.run([nix, "--parse", "-E", text], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_the_gate_reads_what_an_element_of_mkmerge_declares() -> None:
    text = _declare(GENERATED)
    facts = nix_facts(["hosts/h/m.nix"], lambda _: text.encode())
    got = {d.name: d.sops_file for d in facts.declarations}
    assert got == {"db": "secrets/h.yaml", "up": "secrets/h.yaml"}  # (genAttrs' list read)
    assert facts.dynamic == []


def test_a_list_that_is_not_mkmerge_keeps_its_index() -> None:
    tree = cst.parse(b'{ services.prometheus.scrapeConfigs = [ { job_name = "x"; } ]; }')
    inner = [b for b in cst.bindings(tree) if b.attrpath == ["job_name"]]
    assert option_path(inner[0]) == ["services", "prometheus", "scrapeConfigs", "[0]", "job_name"]


def test_a_second_declaration_into_the_same_mkmerge_is_one_more_element() -> None:
    once = _declare(GENERATED)
    tree = cst.parse(once.encode())
    top = cst.module_body(tree)
    edits = declaration_edits(tree, top, [emit.SecretDecl("other", "../../secrets/h.yaml")], [])
    assert not isinstance(edits, str), edits
    twice = checked_apply(tree.source, edits).decode()
    assert '    }\n    {\n      "other" = {\n        sopsFile = ../../secrets/h.yaml;\n' in twice
    facts = nix_facts(["hosts/h/m.nix"], lambda _: twice.encode())
    assert sorted(d.name for d in facts.declarations) == ["db", "other", "up"]


def test_the_merged_declarations_evaluate_with_the_computed_ones(tmp_path: Path) -> None:
    need_tool("nix-instantiate")
    module = tmp_path / "hosts" / "h" / "m.nix"
    module.parent.mkdir(parents=True)
    module.write_text(_declare(GENERATED))
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "h.yaml").write_text("up: ENC[…]\n")  # (only its path is read)
    facts = evaluate(tmp_path, ["hosts/h/m.nix"], "h", tmp_path / "eval")
    assert sorted(facts["secrets"]) == ["db", "up"]
    assert sorted(facts["templates"]) == ["a.env", "up.env"]
    assert facts["templates"]["up.env"]["content"] == "T=<SOPS:up:PLACEHOLDER>\n"
