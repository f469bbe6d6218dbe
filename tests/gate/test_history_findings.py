"""How a secret found in history is named (``check``, ``purge``): by its attribute
paths and rules, each said once."""

from secretkit.gate.history_findings import ExposedSecret


def test_a_nix_secret_is_named_by_its_path_and_rule() -> None:
    secret = ExposedSecret(("services.x.password",), ("secret-attribute",), ("a.nix",), 2)
    assert secret.describe() == "services.x.password (secret-attribute) in a.nix"


def test_a_secret_without_attribute_path_names_its_rule_once() -> None:
    secret = ExposedSecret(("secret-attribute",), ("secret-attribute",), ("app.env",), 1)
    assert secret.describe() == "secret-attribute in app.env"


def test_rules_no_name_already_says_are_kept() -> None:
    secret = ExposedSecret(
        ("db.password", "secret-attribute"),
        ("secret-attribute", "generic-password"),
        ("a.nix", "b.env"),
        3,
    )
    assert secret.describe() == ("db.password, secret-attribute (generic-password) in a.nix, b.env")


def test_with_preview_two_values_of_one_name_in_one_file_differ() -> None:
    one = ExposedSecret(("secret-attribute",), ("secret-attribute",), ("g.toml",), 1, "ab…", "", 3)
    two = ExposedSecret(("secret-attribute",), ("secret-attribute",), ("g.toml",), 1, "cd…", "", 4)
    assert one.describe() == two.describe()  # purge's list: names and files only
    assert one.describe(preview=True) == "secret-attribute 'ab…' in g.toml:3"
    assert two.describe(preview=True) == "secret-attribute 'cd…' in g.toml:4"
