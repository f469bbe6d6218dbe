"""Does ``migrate`` accept a finding, or refuse it — and what then?

The one public question the scanner's messages (``check``, the hook) need answered
so that they never send the user to ``migrate`` for a secret it would refuse:
:func:`decide` plans the migration of one finding in one module, exactly as
``migrate`` would, and returns an :class:`Accepted` (the catalogue entry, secret
name and new option) or a :class:`Refusal` (the true reason and the manual steps).
Nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from secretkit.plan.build import build_plan
from secretkit.plan.hostvalues import HostValues
from secretkit.plan.model import FindingLike


@dataclass(frozen=True)
class Accepted:
    entry: str
    name: str
    new_option: str


@dataclass(frozen=True)
class Refusal:
    reason: str
    route: tuple[str, ...]

    def message(self) -> str:
        return "\n".join([self.reason, *(f"  by hand: {step}" for step in self.route)])


def decide(
    source: bytes,
    finding: FindingLike,
    hosts: Sequence[str],
    *,
    host_values: HostValues | None = None,
) -> Accepted | Refusal:
    """What ``migrate`` does with ``finding`` (a secret in the ``.nix`` file whose bytes
    are ``source``, used by ``hosts``)."""
    from secretkit.nix import cst

    table: dict[int, str] = {}

    def literal_of(tree: object, node: object) -> str:
        if not table:
            table.update({s.start: s.value for s in cst.strings(tree)})  # type: ignore[arg-type]
        return table.get(node.start_byte, "")  # type: ignore[attr-defined]

    if not hosts:
        return Refusal(
            "no host configuration imports this file",
            ("import it from a host (flake nixosConfigurations / colmena), then run migrate",),
        )
    plan = build_plan(
        {finding.path: source},
        [finding],
        lambda _path: list(hosts),
        parse=cst.parse,
        literal_of=literal_of,
        host_values=host_values,
    )
    if plan.moves:
        move = plan.moves[0]
        return Accepted(move.entry, move.name, move.new_option)
    if plan.refused:
        refused = plan.refused[0]
        return Refusal(refused.reason, refused.route)
    return Refusal("nothing to migrate at that position", ())
