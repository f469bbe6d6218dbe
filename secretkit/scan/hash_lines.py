"""``user:<crypt hash>`` lines (and ``user:{SHA}<base64>``): an htpasswd file (nginx's
``basicAuthFile``, Apache's ``AuthUserFile``) or a shadow file committed as text.  A hash
is no password, but it is crackable offline (MD5-crypt ``$apr1$`` quickly): each line is
a low ``password-hash`` finding, as a ``hashedPassword`` is.  Read from the text alone,
never from its path, so that copies of one content are judged alike wherever they are."""

from __future__ import annotations

from secretkit.scan.hits import Hit
from secretkit.scan.htpasswd_forms import LINE as _LINE


def hash_line_hits(text: str) -> list[Hit]:
    """A low ``password-hash`` hit for the hash of each ``user:<hash>`` line."""
    if ":$" not in text and ":{SHA}" not in text:
        return []
    return [
        Hit(m.start(1), m.end(1), "password-hash", "password-hash", "low")
        for m in _LINE.finditer(text)
    ]
