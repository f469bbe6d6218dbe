"""Report formats: text (grouped by file), JSON (DESIGN.md shape), SARIF 2.1.0.

Only the fields of :meth:`Finding.to_json` are ever rendered: the secret value
cannot reach any format.
"""

from __future__ import annotations

import json
from typing import Any

from secretkit.scan.model import ScanReport, fingerprint_all

FORMATS = ("text", "json", "sarif")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"high": "error", "medium": "error", "low": "warning"}

RULE_TEXT = {
    "secret-attribute": "A secret-named attribute or key holds a literal value",
    "password-hash": "A password hash is written in the configuration",
    "password-file-text": "Text written to a file the configuration reads as a secret file",
    "secret-file-text": "The content of a file named for a secret or handed to a secret option",
    "command-secret": "A secret inside a command, flag or assignment",
    "url-credentials": "A password embedded in a URL",
    "prose-secret": "A generated value written after a secret's name in a comment or a note",
    "openvpn-credentials": "An OpenVPN password in an inline <auth-user-pass> block",
    "postfix-sasl-password": "A password in Postfix's inline SASL password table",
    "discord-webhook": "Discord webhook URL (its token lets anyone post)",
    "telegram-bot-token": "Telegram bot token",
    "healthchecks-ping-url": "healthchecks.io ping URL (its UUID or ping key lets anyone ping)",
    "openai-api-key": "OpenAI API key",
    "anthropic-api-key": "Anthropic API key",
    "digitalocean-token": "DigitalOcean token",
    "docker-hub-token": "Docker Hub access token",
    "grafana-service-account-token": "Grafana service account token",
    "vault-service-token": "HashiCorp Vault service token",
    "vault-batch-token": "HashiCorp Vault batch token",
    "1password-service-account-token": "1Password service account token",
    "grafana-cloud-api-token": "Grafana Cloud access policy token",
    "sentry-user-token": "Sentry user auth token",
    "sentry-org-token": "Sentry organization auth token",
    "flyio-token": "Fly.io access token",
    "doppler-token": "Doppler personal token",
    "postman-api-key": "Postman API key",
    "linear-api-key": "Linear API key",
    "shopify-token": "Shopify access token or shared secret",
    "new-relic-api-key": "New Relic user API key",
    "pulumi-token": "Pulumi access token",
    "prefect-token": "Prefect API key",
    "planetscale-token": "PlanetScale token or password",
    "rubygems-token": "RubyGems API key",
    "dynatrace-token": "Dynatrace API token",
    "databricks-token": "Databricks personal access token",
    "alibaba-access-key-id": "Alibaba Cloud AccessKey ID",
    "perplexity-api-key": "Perplexity API key",
    "heroku-api-key": "Heroku API key",
    "notion-token": "Notion integration token",
    "terraform-cloud-token": "Terraform Cloud (HCP Terraform) API token",
    "openshift-token": "OpenShift user token",
    "cloudflare-origin-ca-key": "Cloudflare origin CA key",
    "pushover-token": "Pushover application token",
    "pushover-user-key": "Pushover user key",
    "syncthing-api-key": "Syncthing API key",
    "generic-api-key": "API key (Syncthing's shape, under another service's API key name)",
    "tailscale-auth-key": "Tailscale auth key",
    "age-secret-key": "age secret key",
    "private-key": "Private key block",
    "nix-signing-key": "Nix binary cache signing key",
}


def printable(text: str) -> str:
    """``text`` with each control character written as its escape (``\\n``,
    ``\\x1b``): a file name cannot add lines to a report or drive the terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def render_text(report: ScanReport) -> str:
    lines: list[str] = []
    current = None
    for f in report.findings:
        where = printable(f"{f.commit[:12]}:{f.path}" if f.commit else f.path)
        if where != current:
            if current is not None:
                lines.append("")
            lines.append(where)
            current = where
        name = f" {printable(f.attrpath)}" if f.attrpath else ""
        lines.append(
            f"  {f.line}:{f.column}  {f.severity:<6}  {f.rule} ({f.kind}){name}  {f.preview}"
        )
    for s in report.skipped:
        lines.append(f"skipped {printable(s.path)}: {printable(s.reason)}")
    files = len({f.path for f in report.findings})
    commits = len({f.commit for f in report.findings if f.commit})
    stats = report.stats
    if report.findings:
        summary = f"{len(report.findings)} finding(s) in {files} file(s)"
        if commits:  # (history: one path's versions are one file)
            summary += f" at {commits} commit(s)"
    elif not stats.get("files", 0):
        summary = "nothing scanned: 0 files read, so nothing is known about secrets"
    elif report.skipped:
        summary = "no secret in what was read, but not everything was read (skipped above)"
    else:
        summary = "no secrets found"
    if report.root:
        lines.append(f"scanned {report.root}")
    lines.append(
        f"{summary}; {stats.get('files', 0)} file(s) scanned"
        + (
            f" ({stats['cached']} of them not read again: an earlier run's results)"
            if stats.get("cached")
            else ""
        )
        + (f", {len(report.skipped)} skipped" if report.skipped else "")
        + f" in {float(stats.get('seconds', 0.0)):.2f}s"
    )
    return "\n".join(lines) + "\n"


def render_json(report: ScanReport) -> str:
    return json.dumps(report.to_json(), indent=2) + "\n"


def sarif(report: ScanReport, version: str) -> dict[str, Any]:
    fingerprint_all(report.findings)
    rule_ids = sorted({f.rule for f in report.findings})
    rules = [
        {
            "id": rule,
            "name": rule,
            "shortDescription": {"text": RULE_TEXT.get(rule, f"{rule} (vendor token format)")},
        }
        for rule in rule_ids
    ]
    results = []
    for f in report.findings:
        data = f.to_json()
        name = f" at {f.attrpath}" if f.attrpath else ""
        location: dict[str, Any] = {
            "physicalLocation": {
                "artifactLocation": {"uri": f.path, "uriBaseId": "SRCROOT"},
                "region": {
                    "startLine": f.line,
                    "startColumn": f.column,
                    "endLine": f.end_line,
                    "endColumn": max(f.end_column, 1),
                },
            }
        }
        if f.attrpath:
            location["logicalLocations"] = [{"fullyQualifiedName": f.attrpath, "kind": "member"}]
        results.append(
            {
                "ruleId": f.rule,
                "ruleIndex": rule_ids.index(f.rule),
                "level": _LEVEL.get(f.severity, "error"),
                "message": {"text": f"hardcoded {f.kind}{name} ({f.preview})"},
                "locations": [location],
                "partialFingerprints": {"secretkitFingerprint/v1": f.fingerprint},
                "properties": {
                    key: data[key] for key in ("severity", "kind", "attrpath", "commit", "preview")
                },
            }
        )
    notes = [
        {"level": "note", "message": {"text": f"skipped {s.path}: {s.reason}"}}
        for s in report.skipped
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "secretkit",
                        "version": version,
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "originalUriBaseIds": {"SRCROOT": {"description": {"text": "repository root"}}},
                "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notes}],
                "results": results,
            }
        ],
    }


def render_sarif(report: ScanReport) -> str:
    from secretkit import __version__

    return json.dumps(sarif(report, __version__), indent=2) + "\n"


def render(report: ScanReport, fmt: str) -> str:
    if fmt == "json":
        return render_json(report)
    if fmt == "sarif":
        return render_sarif(report)
    return render_text(report)
