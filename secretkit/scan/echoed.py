"""A command substitution that only prints a literal: ``$(echo X)``, ``$(echo -n "X")``,
``$(printf '%s' 'X')``, ``$(printf X)``, ``$(cat <<<"X")``, `` `echo X` `` (and the
same at the head of a pipe, ``$(echo 'X' | base64 -d)``; ``$(echo \\"X\\")`` inside a
double-quoted word prints X between quotes).  The shell's value is the
literal itself, or what the pipe makes of it: the literal is written in the repository
either way.

A value that starts such a substitution is that literal, judged as any other value;
any other substitution is a program's output (``filters.not_secret``: interpolation).
Read from the text alone: ``TOKEN=$(echo "…")`` in a script, in a Nix string, in a
``curl -u user:$(echo …)``.
"""

from __future__ import annotations

from secretkit.lazy_re import lazy

# echo's options (-n, -e, -E, together or apart), printf's format when it is only the
# one argument (%s, %s\n), or cat reading a here-string; then one literal, then the
# substitution's end or a pipe
_ECHOED = lazy(
    r"(?:\$\(|`)[ \t]*(?:(?:command|builtin)[ \t]+)?"
    r"(?:(?P<echo>echo)(?:[ \t]+-[neE]+)*[ \t]+|(?P<printf>printf)"
    r"(?:[ \t]+(?:'%s(?:\\n)?'|\"%s(?:\\n)?\"|%s(?:\\n)?)(?=[ \t]))?[ \t]+|cat[ \t]*<<<[ \t]*)"
    r"(?:'(?P<sq>[^'\n\\]+)'|\"(?P<dq>[^\"\n\\$`]+)\"|\\\"(?P<edq>[^\"\n\\$`]+)\\\""
    r"|(?P<bare>[^\s'\"`$;|&()<>\\]+))"
    r"[ \t]*(?P<end>\)|`|\|)"
)


def echoed_literal(text: str, at: int) -> tuple[int, int] | None:
    """``(start, end)`` in ``text`` of the literal the command substitution starting at
    ``at`` (``$(`` or a backquote) prints, or None when it runs anything else (another
    program, an expansion, several words, printf's own escapes or conversions)."""
    m = _ECHOED.match(text, at)
    if m is None:
        return None
    closer = m.group("end")
    if closer != "|" and (closer == "`") != (text[at] == "`"):
        return None  # ("$(echo x`" or "`echo x)": not one substitution)
    group = next(g for g in ("sq", "dq", "edq", "bare") if m.group(g) is not None)
    literal = m.group(group)
    if m.group("printf") is not None and "%" in literal:
        return None  # (a format of its own: printf prints something else)
    return m.start(group), m.end(group)


def substituted(text: str, start: int, end: int) -> tuple[int, int]:
    """The value ``text[start:end]`` stands for: the literal a substitution at its
    head prints (:func:`echoed_literal`, after blanks), else the span as it is."""
    at = start
    while at < end and text[at] in " \t":
        at += 1
    if at < end and text[at] in "$`":
        literal = echoed_literal(text, at)
        if literal is not None:
            return literal
    return start, end
