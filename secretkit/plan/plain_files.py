"""Files outside Nix that their program reads as they are: encrypting one where it is
hands that program ciphertext.  ``docker compose`` reads its compose file and its
``.env`` as they are (it decrypts nothing: `secretkit encrypt -i` left a stack whose
image names were ``ENC[…]``, helper-123); a program's dotenv loader likewise.  The way
for them: ``${VARIABLE}`` in place of each value, the values in a file sops-nix
renders on the host (a ``sops.templates`` entry), handed to the program by its path."""

from __future__ import annotations

import shlex

from secretkit.lazy_re import lazy

_COMPOSE = lazy(r"(?:^|/)(?:(?:docker-)?compose|[\w.-]+\.compose)(?:\.[\w-]+)*\.ya?ml$")
_DOTENV = lazy(r"(?:^|/)(?:\.env(?:\.[\w-]+)?|[\w.-]+\.env)$")
_ENV_LINE = (
    'sops.templates."{stack}.env".content with VARIABLE=${{config.sops.placeholder."<name>"}} lines'
)


def read_as_is(path: str) -> str | None:
    """How to move the values of ``path`` when its program reads it as it is (a compose
    file, an ``.env``), else None (a file its reader may decrypt: sops, sops-nix)."""
    stack = path.rsplit("/", 2)[-2] if path.count("/") else "stack"
    quoted = shlex.quote(path)
    if _COMPOSE.search(path):
        return (
            "docker compose reads it as it is and decrypts nothing (encrypted, the stack no "
            "longer starts): write ${VARIABLE} in place of each value (compose fills it in "
            "from its environment), store each value with `secretkit set`, and have sops-nix "
            f"render the variables on the host ({_ENV_LINE.format(stack=stack)}), given to "
            f"compose with `docker compose --env-file /run/secrets/rendered/{stack}.env -f "
            f"{quoted} up`"
        )
    if _DOTENV.search(path):
        return (
            "what loads an .env file (docker compose, a dotenv loader) reads it as it is "
            "and decrypts nothing: store each value with `secretkit set`, have sops-nix "
            f"render the file on the host ({_ENV_LINE.format(stack=stack)}) and point the "
            f"program at /run/secrets/rendered/{stack}.env (docker compose: --env-file), then "
            f"`git rm --cached -- {quoted}`; encrypt it where it is (`secretkit encrypt -i "
            f"{quoted}`) only where sops or sops-nix decrypts it before it is read"
        )
    return None
