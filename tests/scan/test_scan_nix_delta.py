"""A Nix file scanned from the scan of its previous version (scan.nix_delta) gives
exactly the hits of a whole scan (and so does a text file starting from what the scan
of its previous version learnt, scan.versions): on every version of generated histories (random
line and character edits of real-style modules, many of them breaking the syntax),
on the edits that change what an unchanged literal means (a binding renamed, a list
element inserted before it, a builder's file name, the function applied to it), and
through ``scan --history`` of a real git repository."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from secretkit.scan import nix_delta
from secretkit.scan.history import scan_history
from secretkit.scan.nix import scan_nix
from secretkit.scan.one_file import scan_bytes
from tests.conftest import commit_all
from tests.scan.test_scan_labelled_corpus import build
from tests.support import fake

ROOT = Path(__file__).resolve().parents[2]


def _bases() -> list[bytes]:
    corpus = build()
    files = [text.encode() for path, text in corpus.files.items() if path.endswith(".nix")]
    examples = sorted((ROOT / "examples").rglob("*.nix"))
    files += [path.read_bytes() for path in examples]
    assert len(files) >= 10
    return files


_NAMES = ["password", "token", "apiKey", "text", "name", "foo", "secret", "environmentFile"]
_NAMES += ["default"]
_CHARS = ['"', ";", "{", "}", "$", "\n", "a", " ", "#", "[", "]", "=", "'"]
_BINDING_LINE = re.compile(rb"^[ \t]*[A-Za-z_][\w.\"-]* = [^;{}\[\]]*;[ \t]*$")


def _mutate(data: bytes, pool: list[bytes], rng: random.Random) -> bytes:
    """One to three edits: mostly ones that keep the syntax (whole binding lines
    added, removed, commented out, names renamed, letters typed into strings), some
    that break it."""
    lines = data.split(b"\n")
    bindings = [line for line in pool if _BINDING_LINE.match(line)]
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(lines))
        op = rng.choices(range(9), weights=[2, 1, 1, 3, 3, 2, 1, 3, 3])[0]
        if op == 0 and len(lines) > 2 and _BINDING_LINE.match(lines[at]):
            del lines[at]
        elif op == 1:
            lines.insert(rng.randrange(len(lines) + 1), lines[at])
        elif op == 2:
            other = rng.randrange(len(lines))
            lines[at], lines[other] = lines[other], lines[at]
        elif op == 3:
            words = re.findall(rb"[A-Za-z_][A-Za-z0-9_]*", lines[at])
            if words:
                word = rng.choice(words)
                lines[at] = lines[at].replace(word, rng.choice(_NAMES).encode(), 1)
        elif op == 4:
            quote = lines[at].find(b'"')
            if quote >= 0:
                char = rng.choice(_CHARS if rng.random() < 0.2 else ["x", "k", "9"]).encode()
                lines[at] = lines[at][: quote + 1] + char + lines[at][quote + 1 :]
        elif op == 5 and _BINDING_LINE.match(lines[at].lstrip(b"# ")):
            line = lines[at]
            lines[at] = line.replace(b"# ", b"", 1) if b"# " in line else b"# " + line
        elif op == 6:
            lines.insert(at, rng.choice(pool))
        elif op == 7 and bindings and _BINDING_LINE.match(lines[at]):
            lines.insert(at, rng.choice(bindings))  # beside another binding line
        elif op == 8 and _BINDING_LINE.match(lines[at]):
            secret = fake.password(f"delta{rng.randrange(10**6)}")
            template = rng.choice(
                [
                    '  services.x.password = "{}";',
                    '  # token = "{}";',
                    '  apiKey = lib.mkDefault "{}";',
                    '  foo = [ "a" "{}" ];',
                    '  apiKey = lib.mkOverride 90 "{}";',
                    '  services.x.password = "ab" + "{}";',
                    '  options.x.token = lib.mkOption {{ default = "{}"; }};',
                    '  deployment.keys.db.text = "{}";',
                    '  passwordCommand = [ "echo" "{}" ];',
                    '  f = {{ smtpPassword ? "{}", ... }}: 1;',
                ]
            )
            lines.insert(at, template.format(secret).encode())
    return b"\n".join(lines)


def _next_version(data: bytes, pool: list[bytes], rng: random.Random) -> bytes:
    """A mutation of ``data``; one that breaks the syntax is kept one time in five
    (else the chain would stay broken: real histories mostly parse)."""
    from secretkit.nix import cst

    for _try in range(6):
        new = _mutate(data, pool, rng)
        if not cst.parse(new).has_errors or rng.random() < 0.2:
            return new
    return new


def test_every_version_of_generated_histories_gets_the_whole_scans_hits() -> None:
    rng = random.Random(15)
    bases = _bases()
    pool = [line for data in bases for line in data.split(b"\n") if line.strip()]
    compared = followed = with_hits = 0
    for base in bases:
        data, previous = base, None
        for _version in range(40):
            whole = scan_nix(data)
            if previous is not None:
                direct = nix_delta._rescan(previous, data, nix_delta.file_facts(data))
                if direct is not None:
                    followed += 1
                    assert direct[:2] == whole, data.decode(errors="replace")
            hits, errors, previous = nix_delta.scan(data, previous)
            assert (hits, errors) == whole
            compared += 1
            with_hits += bool(whole[0])
            data = _next_version(data, pool, rng)
    assert compared == 40 * len(bases)
    # the comparison is not vacuous: versions were scanned from the one before (most
    # edits here break the syntax or touch much of a small file: those are read
    # whole), and most had hits
    assert followed > compared // 4, (followed, compared)
    assert with_hits > compared // 2, (with_hits, compared)


def _follow(before: str, after: str) -> tuple[list[object], list[object]]:
    """(hits of ``after`` scanned from ``before``'s scan, hits of a whole scan)."""
    _hits, _errors, previous = nix_delta.scan(before.encode(), None)
    assert previous is not None
    hits, _errors, _next = nix_delta.scan(after.encode(), previous)
    return list(hits), list(scan_nix(after.encode())[0])


def _secret() -> str:
    return fake.password("delta-case")


FILLER = "".join(f'  services.s{i}.description = "service number {i}";\n' for i in range(30))


EDITS = [
    # the binding's name changes, its value does not
    ('{{\n  foo = "{s}";\n' + FILLER + "}}\n", '{{\n  password = "{s}";\n' + FILLER + "}}\n"),
    # a list element inserted before one with a hit: its attribute path moves
    (
        '{{\n  users.root.password = [\n    "a"\n    "{s}"\n  ];\n' + FILLER + "}}\n",
        '{{\n  users.root.password = [\n    "a"\n    "b"\n    "{s}"\n  ];\n' + FILLER + "}}\n",
    ),
    # the function applied to the literal changes
    (
        '{{\n  password = f\n    "{s}";\n' + FILLER + "}}\n",
        '{{\n  password = lib.mkDefault\n    "{s}";\n' + FILLER + "}}\n",
    ),
    # a builder's file name changes, its text does not
    (
        '{{\n  f = pkgs.writeTextFile {{\n    name = "notes";\n    text = "{s}";\n  }};\n'
        + FILLER
        + "}}\n",
        '{{\n  f = pkgs.writeTextFile {{\n    name = "api-token";\n    text = "{s}";\n  }};\n'
        + FILLER
        + "}}\n",
    ),
    (
        '{{\n  f = pkgs.writeText\n    "notes"\n    "{s}";\n' + FILLER + "}}\n",
        '{{\n  f = pkgs.writeText\n    "restic-password"\n    "{s}";\n' + FILLER + "}}\n",
    ),
    # a file some option reads from /etc/: its text is a secret wherever it is
    (
        '{{\n  services.x.passwordFile = "/etc/x-pass";\n'
        + FILLER
        + '  environment.etc."x-pass".text = "{s}";\n  a = "1";\n}}\n',
        '{{\n  services.x.passwordFile = "/etc/x-pass";\n'
        + FILLER
        + '  environment.etc."x-pass".text = "{s}";\n  a = "2";\n}}\n',
    ),
    (
        '{{\n  services.x.passwordFile = "/etc/notes";\n'
        + FILLER
        + '  environment.etc."x-pass".text = "{s}";\n}}\n',
        '{{\n  services.x.passwordFile = "/etc/x-pass";\n'
        + FILLER
        + '  environment.etc."x-pass".text = "{s}";\n}}\n',
    ),
    # a name bound to a builder's file, then given after a directive far below it
    (
        '{{\n  authFile = pkgs.writeText "login" "jdoe\\n{s}";\n'
        + FILLER
        + '  services.openvpn.servers.a.config = "ca ${{authFile}}";\n}}\n',
        '{{\n  authFile = pkgs.writeText "login" "jdoe\\n{s}";\n'
        + FILLER
        + '  services.openvpn.servers.a.config = "auth-user-pass ${{authFile}}";\n}}\n',
    ),
    # a secret option given a name bound to a string far above it
    (
        'let\n  nas = "{s}";\nin {{\n' + FILLER + "  services.x.user = nas;\n}}\n",
        'let\n  nas = "{s}";\nin {{\n' + FILLER + "  services.x.password = nas;\n}}\n",
    ),
    # a comment's binding, and a literal beside an edit on the same line
    ("{{\n" + FILLER + '  # foo = "{s}";\n}}\n', "{{\n" + FILLER + '  # token = "{s}";\n}}\n'),
    # the call an option's default is handed to, or the option's name, changes
    (
        '{{\n  options.x.token = lib.mkThing {{\n    default = "{s}";\n  }};\n' + FILLER + "}}\n",
        '{{\n  options.x.token = lib.mkOption {{\n    default = "{s}";\n  }};\n' + FILLER + "}}\n",
    ),
    (
        '{{\n  options.x.host = lib.mkOption {{\n    default = "{s}";\n  }};\n' + FILLER + "}}\n",
        '{{\n  options.x.token = lib.mkOption {{\n    default = "{s}";\n  }};\n' + FILLER + "}}\n",
    ),
    # another part of a concatenation changes: the parts are judged joined
    (
        '{{\n  password = "{s}"\n    + "/etc/x";\n' + FILLER + "}}\n",
        '{{\n  password = "{s}"\n    + "ab";\n' + FILLER + "}}\n",
    ),
    # a function argument's name changes in a function bound far from the file's top
    (
        "{{\n" + FILLER + '  f = {{ smtpHost ? "{s}", ... }}: 1;\n}}\n',
        "{{\n" + FILLER + '  f = {{ smtpPassword ? "{s}", ... }}: 1;\n}}\n',
    ),
    # a deployment key's parent name changes
    (
        '{{\n  deployment.notes = {{\n    db.text = "{s}";\n  }};\n' + FILLER + "}}\n",
        '{{\n  deployment.keys = {{\n    db.text = "{s}";\n  }};\n' + FILLER + "}}\n",
    ),
]


@pytest.mark.parametrize(("before", "after"), EDITS)
def test_an_edit_outside_a_literal_that_changes_its_meaning(before: str, after: str) -> None:
    s = _secret()
    got, want = _follow(before.format(s=s), after.format(s=s))
    assert got == want
    assert want, "the edit was meant to make a hit"


def test_some_of_those_edits_are_scanned_from_the_version_before() -> None:
    # (else the cases above compare two whole scans and prove nothing about the delta)
    s = _secret()
    followed = []
    for before, after in EDITS:
        _hits, _errors, previous = nix_delta.scan(before.format(s=s).encode(), None)
        assert previous is not None
        new = after.format(s=s).encode()
        followed.append(nix_delta._rescan(previous, new, nix_delta.file_facts(new)) is not None)
    assert len(followed) == len(EDITS) and sum(followed) >= 4, followed


MODULE = '{{\n  password = "{s}";\n' + FILLER + "}}\n"

# Edits above every binding: a function's formals, the space after its colon, a
# comment at the top of the file or between bindings.  No literal outside them reads
# them, so the version before is followed, with the whole scan's hits.
ABOVE_BINDINGS = [
    ("{{ pkgs, ... }}:\n" + MODULE, "{{ pkgs, lib, ... }}:\n" + MODULE),
    ("{{ pkgs, ... }}:\n" + MODULE, "{{ pkgs, ... }}:\n\n" + MODULE),
    # a formal's default is read with the formal's (new) name
    ('{{ smtpHost ? "{s}", ... }}:\n' + MODULE, '{{ smtpPassword ? "{s}", ... }}:\n' + MODULE),
    ("# notes\n{{ pkgs, ... }}:\n" + MODULE, '# token = "{s}"\n{{ pkgs, ... }}:\n' + MODULE),
    ('# foo = "{s}"\n' + MODULE, '# token = "{s}"\n' + MODULE),
    ("{{ pkgs, ... }}:\n# notes\n" + MODULE, '{{ pkgs, ... }}:\n# token = "{s}"\n' + MODULE),
    # an inherit holds names only
    (
        "let\n  inherit (lib) mkIf;\nin\n" + MODULE,
        "let\n  inherit (lib) mkIf mkDefault;\nin\n" + MODULE,
    ),
    (
        "{{ lib, ... }}:\n{{\n  inherit lib;\n" + FILLER + '  token = "{s}";\n}}\n',
        "{{ lib, ... }}:\n{{\n  inherit lib pkgs;\n" + FILLER + '  token = "{s}";\n}}\n',
    ),
    (
        "{{\n  a = 1;\n  # notes\n" + FILLER + "}}\n",
        '{{\n  a = 1;\n  # password = "{s}";\n' + FILLER + "}}\n",
    ),
]


@pytest.mark.parametrize(("before", "after"), ABOVE_BINDINGS)
def test_an_edit_above_every_binding_is_followed_with_the_whole_scans_hits(
    before: str, after: str
) -> None:
    s = _secret()
    old, new = before.format(s=s).encode(), after.format(s=s).encode()
    _hits, _errors, previous = nix_delta.scan(old, None)
    assert previous is not None
    followed = nix_delta._rescan(previous, new, nix_delta.file_facts(new))
    assert followed is not None, "read whole"
    assert followed[:2] == scan_nix(new)
    assert followed[0], "the file was meant to have hits"


def test_an_edit_in_a_binding_that_is_most_of_the_file_is_followed() -> None:
    # (home.packages = [ … ]; imports = [ … ]: the region grows to the whole binding)
    s = _secret()
    items = "".join(f'    "pkg{i}"\n' for i in range(60))
    before = f'{{\n  home.packages = [\n{items}  ];\n  token = "{s}";\n}}\n'
    after = before.replace('"pkg30"', '"pkg30"\n    "another"')
    _hits, _errors, previous = nix_delta.scan(before.encode(), None)
    assert previous is not None
    new = after.encode()
    followed = nix_delta._rescan(previous, new, nix_delta.file_facts(new))
    assert followed is not None, "read whole"
    assert followed[:2] == scan_nix(new)
    assert followed[0], "the file was meant to have hits"


def _texts() -> list[tuple[str, bytes]]:
    """Text files (over the 2 KiB from which a text's scan remembers what it asked) with
    secrets and the words the detectors' pre-filters look for."""
    corpus = build()
    out = [
        (path.rsplit("/", 1)[-1], text.encode())
        for path, text in corpus.files.items()
        if not path.endswith(".nix")
    ]
    lines = [
        f"export API_TOKEN={fake.password('t1')}",
        f"curl -u admin:{fake.password('t2')} https://example.invalid/api",
        'echo "hello world"',
        "machine example.invalid login me password " + fake.password("t3"),
        f'"password": "{fake.password("t4")}",',
        "# a comment line about nothing in particular",
        "aws_region = eu-west-1",
    ]
    body = "\n".join(lines[i % len(lines)] + f" # {i}" for i in range(120)) + "\n"
    out.append(("big.sh", body.encode()))
    out.append(("notes.txt", body.replace("export ", "").encode()))
    return out


def test_history_scan_finds_what_each_blob_scanned_whole_finds(tmp_git_repo: Path) -> None:
    rng = random.Random(7)
    bases = _bases()[:4]
    texts = _texts()
    pool = [line for data in bases for line in data.split(b"\n") if line.strip()]
    pool += [line for _name, data in texts for line in data.split(b"\n") if line.strip()]
    contents = list(bases)
    text_contents = [data for _name, data in texts]
    for step in range(25):
        for (name, _data), data in zip(texts, text_contents, strict=True):
            (tmp_git_repo / name).write_bytes(data)
        text_contents = [_mutate(data, pool, rng) for data in text_contents]
        for i, data in enumerate(contents):
            (tmp_git_repo / f"m{i}.nix").write_bytes(data)
        commit_all(tmp_git_repo, f"step {step}")
        contents = [_next_version(data, pool, rng) for data in contents]
    report = scan_history(tmp_git_repo, use_cache=False)
    got = sorted((f.path, f.start, f.end, f.rule, f.secret.reveal()) for f in report.findings)
    want = set()
    for path, data in _history_blobs(tmp_git_repo):  # every blob, scanned whole
        findings, _skipped = scan_bytes(path, data)
        want |= {(f.path, f.start, f.end, f.rule, f.secret.reveal()) for f in findings}
    assert sorted(set(got)) == sorted(want)
    assert len(want) > 20
    assert len({path for path, *_rest in want if not path.endswith(".nix")}) >= 4


def _history_blobs(repo: Path) -> list[tuple[str, bytes]]:
    from secretkit.git.objects import history_blobs, read_blobs

    blobs = history_blobs(repo)
    data = dict(read_blobs(repo, [b.oid for b in blobs]))
    return [(b.path, data[b.oid]) for b in blobs]
