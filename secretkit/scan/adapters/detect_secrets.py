"""The one place that uses detect-secrets: its vendor token formats.

Only the regex-based vendor plugins listed in :data:`PLUGINS` are used, by their
compiled patterns; detect-secrets' settings, baselines, plugin discovery and
custom-plugin paths are never touched, so nothing in a scanned repository can
change what runs.  Keyword and entropy plugins are left out: secretkit's own
name rules and filters replace them.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
from collections.abc import Collection, Iterator
from functools import cache
from pathlib import Path
from types import ModuleType

# rule id → (detect-secrets module, class).  A literal list: nothing is discovered.
PLUGINS: dict[str, tuple[str, str]] = {
    "aws-access-key": ("detect_secrets.plugins.aws", "AWSKeyDetector"),
    "azure-storage-key": ("detect_secrets.plugins.azure_storage_key", "AzureStorageKeyDetector"),
    "discord-bot-token": ("detect_secrets.plugins.discord", "DiscordBotTokenDetector"),
    "github-token": ("detect_secrets.plugins.github_token", "GitHubTokenDetector"),
    "gitlab-token": ("detect_secrets.plugins.gitlab_token", "GitLabTokenDetector"),
    "mailchimp-key": ("detect_secrets.plugins.mailchimp", "MailchimpDetector"),
    "npm-token": ("detect_secrets.plugins.npm", "NpmDetector"),
    "openai-token": ("detect_secrets.plugins.openai", "OpenAIDetector"),
    "pypi-token": ("detect_secrets.plugins.pypi_token", "PypiTokenDetector"),
    "sendgrid-key": ("detect_secrets.plugins.sendgrid", "SendGridDetector"),
    "slack-token": ("detect_secrets.plugins.slack", "SlackDetector"),
    "square-oauth-secret": ("detect_secrets.plugins.square_oauth", "SquareOAuthDetector"),
    "stripe-key": ("detect_secrets.plugins.stripe", "StripeDetector"),
    "telegram-bot-token": ("detect_secrets.plugins.telegram_token", "TelegramBotTokenDetector"),
    "twilio-key": ("detect_secrets.plugins.twilio", "TwilioKeyDetector"),
}


def _import_trusted(name: str) -> ModuleType:
    """Import ``name`` with the working directory off ``sys.path`` (``python -m``
    puts it first): a scanned repository holding a ``detect_secrets/`` directory
    must not be imported in place of the installed package."""
    saved = sys.path[:]
    here = os.getcwd()
    sys.path[:] = [p for p in sys.path if p not in ("", ".", here)]
    try:
        return importlib.import_module(name)
    finally:
        sys.path[:] = saved


@cache
def patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(rule, compiled pattern) for every plugin, from the plugin classes themselves.

    Importing detect-secrets costs a few hundred milliseconds per process (it pulls
    in requests, urllib3, ssl); its patterns are therefore kept as text in the
    user's cache directory, tied to the installed package (path, size and mtime of
    its ``__init__.py``), and compiled from there while the package is unchanged.
    Only regex text is read back — never code — and a missing, stale or unreadable
    cache means importing the plugins as before."""
    stamp = _package_stamp()
    cached = _read_cache(stamp) if stamp is not None else None
    if cached is not None:
        return cached
    out: list[tuple[str, re.Pattern[str]]] = []
    for rule, (module_name, class_name) in PLUGINS.items():
        module = _import_trusted(module_name)
        plugin = getattr(module, class_name)
        for pattern in plugin.denylist:
            out.append((rule, pattern))
    if stamp is not None:
        _write_cache(stamp, out)
    return tuple(out)


def _package_stamp() -> list[object] | None:
    """Where the installed detect-secrets is and which version of it, without
    importing it (the working directory off ``sys.path``, as for the import)."""
    import importlib.util

    saved = sys.path[:]
    here = os.getcwd()
    sys.path[:] = [p for p in sys.path if p not in ("", ".", here)]
    try:
        spec = importlib.util.find_spec("detect_secrets")
    except (ImportError, ValueError):
        return None
    finally:
        sys.path[:] = saved
    if spec is None or not spec.origin:
        return None
    try:
        info = os.stat(spec.origin)
    except OSError:
        return None
    return [spec.origin, info.st_size, info.st_mtime_ns, sorted(PLUGINS.items())]


def _cache_file() -> Path | None:
    from secretkit.user_cache import secretkit_cache

    folder = secretkit_cache()
    return None if folder is None else Path(folder) / "detect-secrets-patterns.json"


def _read_cache(stamp: list[object]) -> tuple[tuple[str, re.Pattern[str]], ...] | None:
    file = _cache_file()
    if file is None:
        return None
    try:
        data = json.loads(file.read_text("utf-8"))
        if data.get("stamp") != json.loads(json.dumps(stamp)):
            return None
        return tuple(
            (str(rule), re.compile(str(text), int(flags)))
            for rule, text, flags in data["patterns"]
            if rule in PLUGINS
        )
    except (OSError, ValueError, TypeError, KeyError, re.error):
        return None


def _write_cache(stamp: list[object], out: list[tuple[str, re.Pattern[str]]]) -> None:
    if any(not isinstance(p.pattern, str) for _rule, p in out):
        return
    data = {"stamp": stamp, "patterns": [[rule, p.pattern, p.flags] for rule, p in out]}
    target = _cache_file()
    if target is None:
        return
    try:
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(data), "utf-8")
        os.replace(temporary, target)
    except OSError:
        pass  # no cache: the next process imports the plugins again


def find(text: str, rules: Collection[str] | None = None) -> Iterator[tuple[int, int, str]]:
    """``(start, end, rule)`` of every vendor token in ``text`` (only ``rules`` when
    given): the first captured
    group when it is token-sized (AWS secret keys, npm tokens), else the whole match
    (GitHub's pattern captures only the prefix).  Matches inside a longer word are
    dropped."""
    for rule, pattern in patterns():
        if rules is not None and rule not in rules:
            continue
        for m in pattern.finditer(text):
            index = 0
            for group in range(1, (m.lastindex or 0) + 1):
                if len(m.group(group) or "") >= 16:
                    index = group
                    break
            start, end = m.start(index), m.end(index)
            # A token is a whole word: "usb:v32ACp0002d…" holds no Twilio key.
            if (start > 0 and text[start - 1].isalnum()) or (
                end < len(text) and text[end].isalnum()
            ):
                continue
            if rule == "slack-token" and _slack_stub(text, start, end):
                continue
            yield start, end, rule


# The fewest letters and digits after ``xox?-`` in a Slack token: every kind Slack
# issues has dozens (``xoxb-<10-13 digits>-<10-13 digits>-<24>``; the legacy
# workspace tokens, the shortest, 8 or more).  detect-secrets' pattern takes
# ``xoxp-1-Mi123`` (a test's table of token kinds) and ``xoxp-0-stub`` too.
_SLACK_BODY_MIN = 8


def _slack_stub(text: str, start: int, end: int) -> bool:
    if not text.startswith("xox", start):  # (a webhook URL: judged as it is)
        return False
    return sum(c.isalnum() for c in text[start + 5 : end]) < _SLACK_BODY_MIN
