"""edits.py: byte-span edits applied from the end, overlap checks, re-parse guard."""

from __future__ import annotations

import random

import pytest

from secretkit.nix.edits import Edit, EditError, apply_edits, checked_apply

SOURCE = b'{ a = "x"; b = [ 1 2 ]; }\n'


def test_replacements_and_insertions_keep_everything_else() -> None:
    edits = [Edit(6, 9, '"yy"'), Edit(23, 23, " c = 3;")]
    assert apply_edits(SOURCE, edits) == b'{ a = "yy"; b = [ 1 2 ]; c = 3; }\n'


def test_order_of_the_list_does_not_matter() -> None:
    edits = [Edit(23, 23, " c = 3;"), Edit(0, 0, "# hi\n"), Edit(6, 9, '"yy"')]
    assert apply_edits(SOURCE, edits) == apply_edits(SOURCE, list(reversed(edits)))


def test_insertions_at_one_point_keep_their_order() -> None:
    out = apply_edits(SOURCE, [Edit(23, 23, " c = 1;"), Edit(23, 23, " d = 2;")])
    assert out == b'{ a = "x"; b = [ 1 2 ]; c = 1; d = 2; }\n'


@pytest.mark.parametrize(
    "edits",
    [
        [Edit(2, 8, ""), Edit(6, 9, "")],
        [Edit(2, 8, "x"), Edit(2, 8, "y")],
        [Edit(0, 100, "")],
    ],
)
def test_overlaps_and_out_of_range_are_refused(edits: list[Edit]) -> None:
    with pytest.raises(EditError):
        apply_edits(SOURCE, edits)


def test_invalid_span() -> None:
    with pytest.raises(EditError):
        Edit(5, 4, "")


def test_checked_apply_refuses_a_broken_result() -> None:
    with pytest.raises(EditError) as info:
        checked_apply(SOURCE, [Edit(6, 9, '"unterminated')], where="m.nix")
    assert "m.nix" in info.value.message
    assert "unterminated" not in info.value.one_line()


def test_checked_apply_returns_the_result() -> None:
    assert checked_apply(SOURCE, [Edit(6, 9, "null")]) == b"{ a = null; b = [ 1 2 ]; }\n"


def test_insertions_only_add_bytes() -> None:
    rng = random.Random(5)
    for _ in range(200):
        points = {
            (rng.randint(0, len(SOURCE)), "".join(rng.choice("ab{}; ") for _ in range(3)))
            for _ in range(rng.randint(0, 6))
        }
        out = apply_edits(SOURCE, [Edit(p, p, t) for p, t in points])
        assert len(out) == len(SOURCE) + sum(len(t) for _, t in points)
        kept = bytes(b for b in out if chr(b) not in "ab{}; ")
        assert kept == bytes(b for b in SOURCE if chr(b) not in "ab{}; ")


def test_identical_edits_count_once() -> None:
    assert apply_edits(SOURCE, [Edit(0, 0, "x"), Edit(0, 0, "x")]) == b"x" + SOURCE
