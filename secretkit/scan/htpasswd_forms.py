"""The forms of an htpasswd entry, ``user:<crypt hash>`` (``$apr1$``, ``$2y$``, …) or
``user:{SHA}<base64>``: as lines of a file (:mod:`secretkit.scan.hash_lines`), and as a
string of a configuration (the ``password-hash`` detector: traefik's
``basicAuth.users = [ "admin:$apr1$…" ]``, where the entry may start after a quote or a
list's bracket)."""

from __future__ import annotations

from secretkit.lazy_re import lazy

_HASH = r"(\$(?:apr1|2[aby]|1|5|6|y|7)\$[./A-Za-z0-9$]{8,}|\{SHA\}[A-Za-z0-9+/]{27}=)"
LINE = lazy(r"(?m)^[ \t]*[A-Za-z0-9._@-]+:" + _HASH + r"(?=[:\s]|$)")
# The same as a string of a configuration (traefik's basicAuth.users = [ "admin:$apr1$…" ],
# nginx's htpasswd written inline): the line may start after a quote or a list's bracket.
ENTRY = lazy(r"(?m)(?<![^\s\"'\[,])[A-Za-z0-9._@-]+:" + _HASH + r"(?=[:\s\"',\]]|$)")
ANCHORS = (":$apr1$", ":$2a$", ":$2b$", ":$2y$", ":$1$", ":$5$", ":$6$", ":$y$", ":$7$", ":{SHA}")
