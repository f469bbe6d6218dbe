"""paperless's environmentFile is every paperless unit's EnvironmentFile and is also
sourced by bash (the ``paperless-manage`` script: ``source ${cfg.environmentFile}``):
a Django secret key with ``)`` or ``&`` broke the script or ran a command (a stranger's,
reproduced with bash).  Such a value is written between single quotes, which bash and
systemd both read as it is; the template restarts all four units."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from secretkit.sensitive import Sensitive
from tests.support import fake
from tests.support.nixfind import FakeFinding, plan_module

SOURCE = '{ config, ... }:\n{\n  services.paperless.settings.PAPERLESS_SECRET_KEY = "@V@";\n}\n'


def _planned(value: str) -> tuple[str, str]:
    """(the template's one line as sops-nix renders it, the whole new module)."""
    source = SOURCE.replace("@V@", value).encode()
    start = source.index(value.encode())
    found = [FakeFinding("h.nix", 3, start, start + len(value), Sensitive(value))]
    plan = plan_module(source, "h.nix", findings=found)
    assert plan.refused == [], plan.refused
    new = plan.nix["h.nix"][1].decode()
    (line,) = re.findall(r"^\s*(PAPERLESS_SECRET_KEY=.*)$", new, re.M)
    rendered = re.sub(r"\$\{config\.sops\.placeholder\.\"[^\"]+\"\}", lambda _m: value, line)
    return rendered, new


@pytest.mark.parametrize(
    "value",
    [
        fake.chars(fake._ALNUM, 30, "paperless-plain"),
        "k9x)ur^c0&w" + fake.chars(fake._ALNUM, 20, "paperless-shell"),
        "Pq7>tmpfile|zz;(" + fake.chars(fake._ALNUM, 12, "paperless-redirect"),
    ],
)
def test_bash_sourcing_the_file_reads_the_value(tmp_path: Path, value: str) -> None:
    rendered, _new = _planned(value)
    env = tmp_path / "paperless.env"
    env.write_text(rendered + "\n")
    ran = subprocess.run(
        ["bash", "-c", f'set -o allexport; source {env}; printf %s "$PAPERLESS_SECRET_KEY"'],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert ran.stdout == value and ran.stderr == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["paperless.env"]  # (nothing ran)


def test_the_template_restarts_every_unit_that_reads_it() -> None:
    _rendered, new = _planned(fake.chars(fake._ALNUM, 30, "paperless-units"))
    units = re.search(r"restartUnits = \[ ([^\]]*) \];", new)
    assert units is not None
    assert sorted(units[1].replace('"', "").split()) == [
        "paperless-consumer.service",
        "paperless-scheduler.service",
        "paperless-task-queue.service",
        "paperless-web.service",
    ]


def test_a_value_no_env_file_line_carries_as_it_is_gets_steps_that_quote_it() -> None:
    """A value with a space is refused; the steps said to write the same unquoted line
    the refusal was about (a stranger's)."""
    value = "two words " + fake.chars(fake._ALNUM, 16, "paperless-space")
    source = SOURCE.replace("@V@", value).encode()
    start = source.index(value.encode())
    found = [FakeFinding("h.nix", 3, start, start + len(value), Sensitive(value))]
    plan = plan_module(source, "h.nix", findings=found)
    (refused,) = plan.refused
    assert refused.reason == "the value has characters an environment file cannot carry"
    steps = " ".join(refused.route)
    assert "goes between single quotes, <VARIABLE>='${…}'" in steps
    assert value not in steps
