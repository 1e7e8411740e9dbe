"""The ``/incident`` command: what people type, parsed into what Relay should do. Pure, no I/O."""

import re
from dataclasses import dataclass

from app.incidents.models import ImpactState, Role

VERBS = ("declare", "status", "note", "update", "role", "hypothesis", "mitigated", "resolve", "close", "help")
ALIASES = {
    "mitigate": "mitigated",
    "resolved": "resolve",
    "closed": "close",
    "hypo": "hypothesis",
    "notes": "note",
    "?": "help",
}
ROLE_ALIASES = {
    "ic": Role.commander,
    "incident_commander": Role.commander,
    "notes": Role.note_taker,
    "scribe": Role.note_taker,
    "comms": Role.liaison,
    "communications": Role.liaison,
    "external_liaison": Role.liaison,
    "expert": Role.sme,
    "subject_matter_expert": Role.sme,
    "steward": Role.support_steward,
    "tl": Role.tech_lead,
    "technology_lead": Role.tech_lead,
}
REFERENCE = re.compile(r"^INC-\d+$", re.IGNORECASE)
SEVERITY = re.compile(r"^sev-?([123])$", re.IGNORECASE)
SENTENCE = re.compile(
    r"^(?:(?P<service>[\w.-]+):\s+)?(?P<functionality>.+?)\s+is\s+(?P<state>"
    + "|".join(ImpactState)
    + r")\s+for\s+(?P<audience>.+?)[.!]?$",
    re.IGNORECASE,
)
# The one-line form has no yes/no field: an audience of users or customers is taken to mean end users.
END_USERS = re.compile(r"\b(users?|customers?|everyone|public)\b", re.IGNORECASE)
MENTION = re.compile(r"^<@(?P<id>[UW][A-Z0-9]+)(?:\|(?P<name>[^>]*))?>$")

DECLARE_USAGE = (
    "Declare with `/incident declare` (a form), or on one line: "
    "`/incident declare sev1 Login API is down for all users` "
    "(`sev1`–`sev3`; `<functionality> is down|degraded|insecure for <audience>`; "
    "start with `<service>:` to name the service, add `--force` before the severity to declare "
    "even though an open incident covers the same thing)."
)
HELP = "\n".join(
    [
        "*/incident* — run it in an incident's channel, or name the incident (`/incident note INC-42 …`).",
        "• `declare` opens the form; " + DECLARE_USAGE.split(", or ", 1)[1],
        "• `status` shows where the incident stands; `status investigating` moves it",
        "• `note <text>` adds a note to the timeline",
        "• `update [template] <text>` posts an internal status update (incident channel and announcements); "
        "templates: acknowledge, investigating, update, mitigated, resolved",
        "• `role <role> @user` gives a role: " + ", ".join(r.value for r in Role),
        "• `hypothesis <statement>` records a hypothesis",
        "• `mitigated [what stopped the impact]`, `resolve [why the fix is durable]`, `close`",
        "• `help` shows this",
    ]
)


class CommandError(Exception):
    """The command cannot be understood; the message says how to write it."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass(frozen=True)
class Command:
    verb: str
    args: str = ""
    reference: str | None = None


@dataclass(frozen=True)
class Declaration:
    severity: str
    functionality: str
    state: str
    audience: str
    service: str | None
    force: bool

    @property
    def title(self) -> str:
        return f"{self.functionality} is {self.state} for {self.audience}"

    @property
    def affects_end_users(self) -> bool:
        return bool(END_USERS.search(self.audience))


@dataclass(frozen=True)
class Mention:
    user_id: str | None
    handle: str | None


def parse(text: str) -> Command:
    """``/incident <verb> [INC-n] [arguments]``; no verb means help."""
    words = text.strip().split(maxsplit=1)
    if not words:
        return Command("help")
    verb = ALIASES.get(words[0].lower(), words[0].lower())
    if verb not in VERBS:
        raise CommandError(f"I don't know `{words[0]}`.\n{HELP}")
    rest = words[1].strip() if len(words) > 1 else ""
    if verb != "declare":
        head = rest.split(maxsplit=1)
        if head and REFERENCE.match(head[0]):
            return Command(verb, head[1].strip() if len(head) > 1 else "", head[0].upper())
    return Command(verb, rest)


def parse_declaration(args: str) -> Declaration:
    """``[--force] sev1 [service:] <functionality> is <state> for <audience>``."""
    tokens = args.split()
    force = bool(tokens) and tokens[0].lower() in {"--force", "force"}
    if force:
        tokens = tokens[1:]
    severity = SEVERITY.match(tokens[0]) if tokens else None
    sentence = SENTENCE.match(" ".join(tokens[1:])) if severity else None
    if severity is None or sentence is None:
        raise CommandError(DECLARE_USAGE)
    return Declaration(
        severity=f"SEV{severity.group(1)}",
        functionality=sentence["functionality"].strip(),
        state=sentence["state"].lower(),
        audience=sentence["audience"].strip(),
        service=sentence["service"],
        force=force,
    )


def parse_role(args: str) -> tuple[Role, Mention]:
    """``<role> @user``: the role by name or alias, the user as Slack escapes mentions (``<@U123|dana>``)."""
    parts = args.split()
    if len(parts) < 2:
        raise CommandError("Say which role and who: `/incident role commander @dana`.")
    name = "_".join(parts[:-1]).lower().replace("-", "_")
    role = ROLE_ALIASES.get(name) or next((r for r in Role if r.value == name), None)
    if role is None:
        raise CommandError(
            f"`{' '.join(parts[:-1])}` is not a role. Roles: {', '.join(r.value for r in Role)}."
        )
    who = parts[-1]
    if match := MENTION.match(who):
        return role, Mention(match["id"], match["name"] or None)
    if who.startswith("@") and len(who) > 1:
        return role, Mention(None, who[1:])
    raise CommandError(f"Mention the person who takes the role, e.g. `/incident role {role.value} @dana`.")
