"""The way out for a plaintext secret found in a file: what ``hook`` and ``check``
print after each finding (never the value)."""

from __future__ import annotations

ALLOW_COMMENT = "# secretkit: allow"
ALLOW_FILE = ".secretkit-allow"  # secretkit.scan.allowlist.ALLOW_FILE (not imported: start-up)


def finding_fix(
    path: str,
    fingerprint: str | None = None,
    refusal: str | None = None,
    builder: str | None = None,
) -> str:
    """The exact way out for a plaintext secret in ``path``.  ``refusal``: why
    ``migrate`` would not move it (:func:`secretkit.plan.advice.migrate_refusal`);
    then the manual route is named instead of ``migrate``.  ``builder``: the value is
    the text of that builder's call (``pkgs.writeText``): the path goes in its place."""
    if path.endswith(".nix") and refusal is None:
        move = "run `secretkit migrate` to move it into a sops file and reference it from Nix"
    elif path.endswith(".nix"):
        point = (
            'and point the option at its .path (a *File option) or at config.sops.placeholder."'
            '<name>" in a sops.templates file'
            if builder is None
            else f"and put its .path in place of the `{builder} …` call (store the whole text "
            "the call wrote, line breaks included)"
        )
        move = (
            f"`secretkit migrate` cannot move this one ({refusal}): store the value with "
            "`secretkit set secrets/<host>.yaml '[\"<name>\"]'` (reads it from stdin), declare "
            f'sops.secrets."<name>" {point}'
        )
    else:
        move = (
            "move the value into a sops file (`secretkit set secrets/<host>.yaml "
            "'[\"<name>\"]'` reads it from stdin) and reference that instead"
        )
    allow = f"echo {fingerprint} >> {ALLOW_FILE}" if fingerprint else f"add it to {ALLOW_FILE}"
    return (
        f"{move}; if it is not a secret, append `{ALLOW_COMMENT}` to the line "
        f"or allowlist it: {allow}"
    )
