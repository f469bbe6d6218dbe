"""The migration plan as values: what a finding must offer (:class:`FindingLike`), a
secret moved (:class:`Move`), one left alone (:class:`Refused`), and the whole
:class:`Plan` (moves, refusals, the rewritten Nix, the values per host file) with its
redacted diff and table.  :mod:`secretkit.plan.build` computes it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from secretkit.layouts.sops_nix import host_secrets_path
from secretkit.lazy_re import lazy
from secretkit.plan.redaction import redact, redact_all, redact_spans
from secretkit.plan.targets import Targets
from secretkit.sensitive import Sensitive


class FindingLike(Protocol):
    """What migrate needs from a scanner finding."""

    @property
    def path(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def secret(self) -> Sensitive[str]: ...


@dataclass(frozen=True)
class Move:
    """One secret moved: where from, under which name, into which files."""

    module: str
    line: int
    attrpath: str
    name: str
    hosts: tuple[str, ...]
    files: tuple[str, ...]
    new_option: str
    entry: str


@dataclass(frozen=True)
class Refused:
    """A finding left alone, why, and the steps that move it by hand."""

    module: str
    line: int
    attrpath: str
    reason: str
    route: tuple[str, ...] = ()
    builder: str | None = None  # the literal is this builder's text (refusals.builder_of)
    # the module the steps go in, when not the finding's own (it cannot read the NixOS
    # config: refusals.Elsewhere)
    declare_in: str | None = None
    # the route is the catalogue entry's own: no sops secret can hold the value
    # (catalogue.base.Refusal.steps), so the generic steps do not apply
    own: bool = False

    def message(self) -> str:
        head = f"{self.module}:{self.line}: cannot migrate safely: {self.reason}"
        return "\n".join([head, *(f"  by hand: {step}" for step in self.route)])


# "line 12", "lines 12" in a step (the module's own lines)
_LINE = lazy(r"\b(lines? )(\d+)\b")


def _moved_lines(old: bytes, new: bytes) -> dict[int, int]:
    """Old line number → new line number, for the lines a rewrite moved unchanged."""
    import difflib  # (only after a run that rewrote a file holding a refused finding)

    a, b = old.split(b"\n"), new.split(b"\n")
    out: dict[int, int] = {}
    for tag, i1, i2, j1, _j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal" and i1 != j1:
            out.update({i + 1: j1 + (i - i1) + 1 for i in range(i1, i2)})
    return out


def _option(path: Sequence[str]) -> tuple[str, ...]:
    """An option path as a module sets it (``config.x`` is ``x``)."""
    return tuple(path[1:] if tuple(path[:1]) == ("config",) else path)


@dataclass
class Plan:
    """What migrate will do: the moves, the refusals, and the files it writes."""

    moves: list[Move] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    nix: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)  # path → (old, new)
    sops: dict[str, dict[tuple[str, ...], Sensitive[str]]] = field(default_factory=dict)
    wiring: list[str] = field(default_factory=list)
    originals: list[Sensitive[str]] = field(default_factory=list)  # found values, for redaction
    notes: list[str] = field(default_factory=list)  # what a route leaves to do by hand
    targets: Targets = field(default_factory=Targets)  # host → the sops file it writes
    spans: dict[str, set[tuple[int, int]]] = field(default_factory=dict)  # found byte spans
    # the options the moves so far write, per host: (host, option path) → "module:line"
    defined: dict[tuple[str, tuple[str, ...]], str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.nix and not self.sops

    def define(self, hosts: Sequence[str], options: Sequence[Sequence[str]], where: str) -> None:
        """A move at ``where`` ("module:line") writes ``options`` for ``hosts``."""
        for host in hosts:
            for option in options:
                self.defined.setdefault((host, _option(option)), where)

    def defined_elsewhere(
        self, hosts: Sequence[str], module: str, options: Sequence[Sequence[str]]
    ) -> tuple[str, str] | None:
        """``(option, "module:line")`` for the first of ``options`` a move of this run
        in another module of ``hosts`` writes already (a second definition of a
        single-valued option does not evaluate), else None."""
        for host in hosts:
            for option in options:
                where = self.defined.get((host, _option(option)))
                if where is not None and not where.startswith(module + ":"):
                    return ".".join(_option(option)), where
        return None

    def secret_file(self, host: str) -> str:
        return self.targets.file(host)

    def diff(self) -> str:
        """The unified diff of the Nix changes, secret values redacted."""
        import difflib  # (only a shown plan needs it: not loaded by the hook)

        chunks: list[str] = []
        values = self.values()
        written = set(values)  # and each value as the source writes it (escapes: "a\\nb")
        for path, (old, _new) in self.nix.items():
            spans = self.spans.get(path, set())
            written.update(old[a:b].decode("utf-8", "replace") for a, b in spans)
        forms = sorted(written, key=len, reverse=True)
        for path, (old, new) in sorted(self.nix.items()):
            # Both sides redacted alike, so that a line holding a secret that stays
            # (a refused finding) is not shown as changed - nor its short value leaked.
            shown_old = redact_all(redact_spans(old, self.spans.get(path, set())), forms)
            shown_new = redact_all(new, forms)
            chunks.extend(
                difflib.unified_diff(
                    shown_old.splitlines(keepends=True),
                    shown_new.splitlines(keepends=True),
                    fromfile=f"a/{path}",
                    tofile=f"b/{path}",
                )
            )
        text = "".join(line if line.endswith("\n") else line + "\n" for line in chunks)
        return redact(text, forms)

    def values(self) -> list[str]:
        found = {v.reveal() for v in self.originals}
        stored = {v.reveal() for per in self.sops.values() for v in per.values()}
        return sorted(found | stored, key=len, reverse=True)

    def moved_lines(self) -> str:
        """Where the lines the refusals name are once the rewrite is written (the steps
        name them as they were: the dry run's and the question's view), as
        ``flake.nix line 8 is now 12, …``; empty when none moved."""
        said: list[str] = []
        for r in self.refused:
            if r.module not in self.nix:
                continue
            moved = _moved_lines(*self.nix[r.module])
            numbers = [r.line] + [int(n) for s in r.route for _w, n in _LINE.findall(s)]
            for n in dict.fromkeys(numbers):
                if n in moved:
                    text = f"{r.module} line {n} is now {moved[n]}"
                    if text not in said:
                        said.append(text)
        return ", ".join(said)

    def table(self) -> list[tuple[str, str, str, str]]:
        """Rows secret → hosts → file(s) → new option (no values)."""
        rows = []
        for m in self.moves:
            hosts = ",".join(m.hosts) if len(m.hosts) <= 3 else f"{len(m.hosts)} hosts"
            files = m.files[0] if len(set(m.files)) == 1 else host_secrets_path("<host>")
            if len(set(m.files)) > 1 and any(self.targets.own(h) for h in m.hosts):
                files = f"{len(set(m.files))} files"
            rows.append((m.name, hosts, files, f"{m.module}: {m.new_option}"))
        return rows
