"""The gate's view of an agenix/ragenix repository (:mod:`secretkit.layouts.agenix`):
every ``.age`` file is listed in ``secrets.nix``, encrypted for the keys listed there,
and opens with a listed key held here (when one is)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from secretkit.gate.model import CheckResult
from secretkit.layouts.agenix import Agenix, age_stanzas, recipient_problem, relative_to_rules
from secretkit.sops.identities import Identities

if TYPE_CHECKING:
    from secretkit.gate.context import CheckContext

POINT = "agenix"


def check_agenix(ctx: CheckContext) -> list[CheckResult]:
    """agenix/ragenix files (only when the repository has ``secrets.nix`` + ``*.age``)."""
    from secretkit.layouts.agenix import read_agenix

    agenix = read_agenix(ctx.root, ctx.files())
    if agenix is None:
        ages = [f for f in ctx.files() if f.endswith(".age")]
        if not ages:
            return []
        return [
            CheckResult(
                POINT,
                True,
                f"warning: {len(ages)} age file(s) and no agenix rules file (a secrets.nix "
                'with "x.age".publicKeys): who can open them was not checked (agenix-rekey '
                "says it in age.rekey options, which need evaluating Nix)",
                warning=True,
            )
        ]
    return agenix_results(ctx.root, agenix, ctx.judge.identities()) + _missing_files(ctx)


def _missing_files(ctx: CheckContext) -> list[CheckResult]:
    """``age.secrets.<n>.file = ./x.age;`` naming a file that is not there: Nix copies
    it into the store when it evaluates, so the host does not build."""
    from secretkit.agenix.nixrewrite import age_file_of, option_path
    from secretkit.nix import cst

    present = set(ctx.files())
    results = []
    for module, data in sorted(ctx.nix_sources().items()):
        if b"age" not in data or b"file" not in data:
            continue
        tree = cst.parse(data)
        for binding in (n for n in cst.walk(tree.root) if n.type == "binding"):
            found = option_path(tree, binding)
            value = binding.child_by_field_name("expression")
            if found is None or found[0][:2] != ["age", "secrets"] or found[0][-1:] != ["file"]:
                continue
            if value is None:
                continue
            path, relative = age_file_of(tree, cst.unwrap(value), module)
            if not relative or not path.endswith(".age") or path in present:
                continue
            if "${" in path:
                continue  # (machines/${config.networking.hostName}/x.age: not one file)
            if (ctx.root / path).exists():
                continue  # (an ignored file is there for the build; plaintext-tree says)
            results.append(
                CheckResult(
                    POINT,
                    False,
                    f"{module}:{binding.start_point[0] + 1}: {'.'.join(found[0])} names "
                    f"{path}, which does not exist: the host does not build (Nix copies the "
                    "file into the store)",
                    f"restore {path} (git log -- {path} shows where it was) or delete that "
                    "declaration and what reads it",
                    (module,),
                )
            )
    return results


def agenix_results(root: Path, agenix: Agenix, identities: Identities) -> list[CheckResult]:
    results: list[CheckResult] = []
    opened = 0
    untold = 0  # files with age1 recipients whose identity is not held here
    built: dict[str, list[str]] = {}  # a secrets.nix that builds its rules → its files
    for path in agenix.unlisted:
        if (builder := agenix.built_for(path)) is not None:
            built.setdefault(builder, []).append(path)
    for builder, paths in sorted(built.items()):
        results.append(
            CheckResult(
                POINT,
                False,
                f"cannot verify: {builder} builds its rules with Nix code (not each "
                f'written out as "<file>.age".publicKeys = [ … ];), so who can open its '
                f"{len(paths)} age file(s) was not checked ({', '.join(paths[:3])}"
                f"{' …' if len(paths) > 3 else ''})",
                f'write its rules out in {builder}: one "<file>.age".publicKeys = [ … ]; per '
                "file (keys may be names a let binds or a file of keys it imports), then run "
                "check again",
                (builder, *paths),
            )
        )
    for path in agenix.unlisted:
        if agenix.built_for(path) is not None:
            continue
        rules_file = agenix.rules_file_for(path)
        listed = " or ".join(agenix.rules_files)
        fix = (
            f'add "{relative_to_rules(rules_file, path)}".publicKeys = [ … ]; to {rules_file}, '
            "or delete it"
            if rules_file is not None
            else f"no secrets.nix is above it: move it under the directory of {listed} and "
            "list it there, or delete it"
        )
        results.append(
            CheckResult(
                POINT,
                False,
                f"{path} is an age file that {rules_file or listed} does not list",
                fix,
                (path,),
                group="age files no secrets.nix lists",
            )
        )
    for path, rule in sorted(agenix.rules.items()):
        where = f"{rule.rules_file}:{rule.line}"
        edit = _in_rules_dir(
            rule.rules_file, f"agenix -e {relative_to_rules(rule.rules_file, path)}"
        )
        try:
            data = (root / path).read_bytes()
        except FileNotFoundError:
            results.append(
                CheckResult(
                    POINT,
                    False,
                    f"{path} is listed in {where} but does not exist",
                    f"create it: {edit} (or remove the rule)",
                    (path, rule.rules_file),
                )
            )
            continue
        except OSError as exc:
            results.append(CheckResult(POINT, False, f"cannot read {path}: {exc.strerror}", ""))
            continue
        stanzas = age_stanzas(data)
        if stanzas is None:
            results.append(
                CheckResult(
                    POINT,
                    False,
                    f"{path} is not an age file (no complete age header)",
                    f"restore it from git (git log -- {path}) or re-create it: {edit}",
                    (path,),
                )
            )
            continue
        if rule.keys is None:
            results.append(
                CheckResult(
                    POINT,
                    False,
                    f"cannot verify {path}: {where}: {rule.why}",
                    "write its publicKeys as a list of key strings, of names a let in "
                    f"{rule.rules_file} binds to them, or of names of a file of keys it "
                    "imports (keys = import ./keys.nix; then keys.alice, or with keys; [ alice ])",
                    (path, rule.rules_file),
                    group="cannot verify: publicKeys in secrets.nix need evaluating Nix",
                )
            )
            continue
        problem = recipient_problem(rule, stanzas)
        if problem is not None:
            results.append(
                CheckResult(
                    POINT,
                    False,
                    f"{path} is not encrypted for the keys {where} lists ({problem})",
                    _rekey(rule.rules_file),
                    (path,),
                    group="age files not encrypted for the keys secrets.nix lists",
                )
            )
            continue
        held = set(identities.recipients)
        if any(k.startswith("age1") and k not in held for k in rule.keys):
            untold += 1  # (an age header names no recipient: counted, not told apart)
        mine = [r for r in identities.recipients if r in rule.keys]
        if mine and identities.age:
            import pyrage

            try:
                pyrage.decrypt(_binary(data), identities.age)
                opened += 1
            except Exception:
                results.append(
                    CheckResult(
                        POINT,
                        False,
                        f"{path} does not open with {mine[0]}, which {where} lists",
                        "the file is damaged or was encrypted for other keys: "
                        f"{_rekey(rule.rules_file)}, or restore it from git",
                        (path,),
                    )
                )
    if results:
        return results
    several = len(agenix.rules_files) > 1
    listing = " and ".join(agenix.rules_files) + (" list" if several else " lists")
    if untold:
        return [
            CheckResult(
                POINT,
                True,
                f"warning: {len(agenix.rules)} age file(s): the ssh keys {listing} match each "
                f"header; in {untold} of them the age1 recipients match in number only (an "
                f"age header does not name them; {opened} opened with a key here)",
                "to tell them apart, open each file with each listed age key "
                "(age -d -i <its key file> <file> > /dev/null)",
                warning=True,
            )
        ]
    return [
        CheckResult(
            POINT,
            True,
            f"{len(agenix.rules)} age file(s) encrypted for the keys {listing} ({opened} "
            "opened with a key here)",
        )
    ]


def _binary(data: bytes) -> bytes:
    from secretkit.layouts.agenix import _ARMOR, _dearmor

    if data.startswith(_ARMOR):
        return _dearmor(data) or data
    return data


def _in_rules_dir(rules_file: str, command: str) -> str:
    """``command`` as it must be run: agenix reads ./secrets.nix, so in its directory."""
    directory = str(Path(rules_file).parent)
    return command if directory == "." else f"cd {directory} && {command}"


def _rekey(rules_file: str) -> str:
    directory = str(Path(rules_file).parent)
    where = "" if directory == "." else f" (in {directory}, where its secrets.nix is)"
    return f"re-encrypt for the listed keys{where}: agenix -r (ragenix: ragenix --rekey)"
