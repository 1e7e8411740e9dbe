"""What Relay writes on a ticket: the customer-facing replies and the agents' private note (HTML)."""

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

ACKNOWLEDGE = (
    "<p>Hello {name},</p>"
    "<p>We have looked into your request and concluded that it is related to an incident that is "
    "diminishing our service for you.</p>"
    "<p>We believe this incident is related to {context}, and we are working on the next steps. "
    'You can follow our progress here: <a href="{link}">{reference}</a>.</p>'
    "<p>We are putting this incident ahead of our other work and will keep you informed as we go. "
    "We may be in touch if we need more details.</p>"
)

RESOLVED = (
    "<p>Hello {name},</p>"
    "<p>The incident behind your request ({context}) is resolved and things should be back to normal.</p>"
    "<p>Please reply to let us know whether everything works for you again, or if you still see "
    'problems. The record of the incident: <a href="{link}">{reference}</a>.</p>'
)


@dataclass(frozen=True)
class TicketContext:
    """The values a customer-facing template may use; every one is escaped before it goes in."""

    name: str
    context: str
    link: str
    reference: str


def render(template: str, values: TicketContext) -> str:
    """Fill a reply template in; the template is trusted HTML, the values are not."""
    return template.format(
        name=escape(values.name),
        context=escape(values.context),
        link=escape(values.link, quote=True),
        reference=escape(values.reference),
    )


def as_html(text: str) -> str:
    """Plain text as HTML paragraphs, line breaks kept."""
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


@dataclass(frozen=True)
class InternalLink:
    label: str
    text: str
    url: str | None = None


def internal_note(heading: str, links: Sequence[InternalLink]) -> str:
    """The private note for agents: where the team is working on the incident."""
    items = "".join(
        f'<li>{escape(link.label)}: <a href="{escape(link.url, quote=True)}">{escape(link.text)}</a></li>'
        if link.url
        else f"<li>{escape(link.label)}: {escape(link.text)}</li>"
        for link in links
    )
    return f"<p>{escape(heading)}</p><ul>{items}</ul>"
