"""The config forms a ``key: value`` line does not show (:mod:`secretkit.scan.config_forms`):
where each one's value starts and ends, and the shapes that are not one value."""

from __future__ import annotations

import pytest

from secretkit.scan.text_files import scan_text
from tests.support import fake


def _values(template: str, path: str) -> list[str]:
    value = fake.password("forms-" + template)
    text = template.replace("@V@", value)
    return [
        "@V@" if text[h.start : h.end] == value else text[h.start : h.end]
        for h in scan_text(text, path)
    ]


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("c.yaml", "token: >-\n  @V@"),  # no final line break
        ("c.yaml", "token: |2\n    @V@\n"),  # an indentation indicator
        ("c.yaml", "token: |  # the api token\n  @V@\n\n\nnext: 1\n"),
        ("c.yaml", "token: !!str >\n  @V@\n"),
        ("c.yaml", "password: &pw '@V@'\n"),
        ("c.yaml", "x: [1, { password: '@V@' }]\n"),
        ("c.toml", "x = { a = 1, 'password' = '@V@' }\n"),
        ("c.xml", '<password type="plain">@V@</password>\n'),
        ("c.xml", "<ns:apiKey>@V@</ns:apiKey>\n"),
        ("pgpass", "h\\:v6:5432:db:app:@V@\n"),  # an escaped ":" in the host
        (".npmrc", '//r.example/:_authToken="@V@"\n'),
        # a stranger's homelab: an Ansible inventory's host line, a Terraform output
        # marked sensitive, a notebook's printed line (each missed: check said "safe")
        ("inventory.ini", "[web]\nalpha ansible_host=10.0.0.2 ansible_become_pass=@V@\n"),
        ("hosts.ini", "beta ansible_user=me ansible_password='@V@' ansible_port=22\n"),
        (
            "terraform.tfstate",
            '{\n  "outputs": {\n    "db_conn": {\n      "value": "@V@",\n'
            '      "type": "string",\n      "sensitive": true\n    }\n  }\n}\n',
        ),
        ("nb.ipynb", '{\n "text": [\n  "DB_PASSWORD=@V@\\n",\n  "done\\n"\n ]\n}\n'),
    ],
)
def test_the_value_alone_is_found(path: str, template: str) -> None:
    assert _values(template, path) == ["@V@"]


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("c.yaml", "token: |\n  @V@\n  @V@\n"),  # two lines: not one value
        ("c.yaml", "token: >\nnext: @V@\n"),  # an empty block
        ("c.yaml", "token: &t\n  inner: @V@\n"),  # an anchored mapping
        ("c.yaml", "token: !include |\n  @V@\n"),  # a local tag: what the app makes of it
        ("c.xml", "<!-- <password>changeme</password> -->\n"),
        ("c.xml", "<password>@V@</Password>\n"),  # not one element
        ("app.py", 'block = "<token>\\n@V@\\n</token>"\n'),  # code writing XML
        ("notes.md", "the pgpass line is host:port:db:user:@V@\n"),  # not a .pgpass file
    ],
)
def test_shapes_that_are_not_one_value(path: str, template: str) -> None:
    assert _values(template, path) == []


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # an output not marked sensitive; an inventory's plain host variables
        ("terraform.tfstate", '{ "outputs": { "ip": { "value": "Zq8vR2mX9kL4pW7n" } } }\n'),
        ("inventory.ini", "[web]\nalpha ansible_host=10.0.0.2 ansible_port=2222\n"),
        # a program's string with an escape inside the value: no assignment
        ("gen.py", 'data = b"API_KEY=Zq8vR2mX\\nB=c"\n'),
    ],
)
def test_nothing_else_in_those_forms_is_a_secret(path: str, text: str) -> None:
    assert scan_text(text, path) == []
