"""The durability audit: mitigations that tend not to last, from the process documents."""

import re

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"\b(cron|schedul\w*|every \d+ ?(s|sec|min|minutes|h|hours?))\b.*\brestart|"
            r"\brestart\w*\b.*\b(cron|every \d+)",
            re.I,
        ),
        "a scheduled restart hides the fault instead of removing it",
    ),
    (
        re.compile(r"\b(disabl\w*|turn\w* off|switch\w* off|bypass\w*)\b.{0,40}\bcach", re.I),
        "a disabled cache is a workaround, not a fix",
    ),
    (
        re.compile(r"\b(manual(ly)?|by hand|in the console|hand-edit\w*)\b", re.I),
        "a manual infrastructure change that is not in infrastructure as code",
    ),
    (
        re.compile(r"\bhot ?fix\w*\b(?!.*\btest)", re.I),
        "a hotfix without added test coverage",
    ),
]


def audit(text: str | None) -> list[str]:
    """Why ``text`` may describe a non-durable mitigation; empty when nothing is flagged."""
    if not text:
        return []
    return [reason for pattern, reason in _PATTERNS if pattern.search(text)]
