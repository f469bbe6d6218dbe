"""What a plan shows never holds a value, and a short value does not garble the rest:
a root password of nixos turned every `nixosModules` of migrate's dry-run diff into
`<redacted>Modules`, so the lines it adds could not be reviewed."""

from __future__ import annotations

from secretkit.plan.redaction import redact, redact_all

SHORT = "nix" + "os"


def test_a_short_value_is_redacted_where_it_stands_alone() -> None:
    text = (
        f'users.users.root.password = "{SHORT}";\n'
        "imports = [ sops-nix.nixosModules.sops ];\n"
        'url = "github:NixOS/nixpkgs/nixos-24.11";\n'
        f"x = {SHORT};\n"
    )
    shown = redact_all(text.encode(), [SHORT])
    assert shown == (
        'users.users.root.password = "<redacted>";\n'
        "imports = [ sops-nix.nixosModules.sops ];\n"
        'url = "github:NixOS/nixpkgs/nixos-24.11";\n'
        "x = <redacted>;\n"
    )
    assert redact(text, [SHORT]) == shown


def test_a_long_value_is_redacted_everywhere_and_a_tiny_one_by_spans_only() -> None:
    long = "Zk3LrXUtnFEMI7K7"
    assert redact(f"a{long}b {long}", [long]) == "a<redacted>b <redacted>"
    assert redact("abc abcd", ["abc"]) == "abc abcd"  # (under four: never by value)
