"""The way out for a plaintext secret found in a file: what ``hook`` and ``check``
print after each finding (never the value)."""

from __future__ import annotations

ALLOW_COMMENT = "# secretkit: allow"
ALLOW_FILE = ".secretkit-allow"  # secretkit.scan.allowlist.ALLOW_FILE (not imported: start-up)


def finding_fix(path: str, fingerprint: str | None = None, refusal: str | None = None) -> str:
    """The exact way out for a plaintext secret in ``path``.  ``refusal``: why
    ``migrate`` would not move it (:func:`secretkit.plan.advice.migrate_refusal`);
    then the manual route is named instead of ``migrate``."""
    if path.endswith(".nix") and refusal is None:
        move = "run `secretkit migrate` to move it into a sops file and reference it from Nix"
    elif path.endswith(".nix"):
        move = (
            f"`secretkit migrate` cannot move this one ({refusal}): store the value with "
            "`secretkit set secrets/<host>.yaml '[\"<name>\"]'` (reads it from stdin), declare "
            'sops.secrets."<name>" and point the option at its .path (a *File option) or at '
            'config.sops.placeholder."<name>" in a sops.templates file'
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
