"""Every table, imported in one place for Alembic and the tests."""

from app.auth.models import ApiToken
from app.db.base import metadata
from app.deliveries.models import Delivery
from app.incidents.models import (
    ActionItem,
    Hypothesis,
    Incident,
    IncidentLink,
    Milestone,
    ReferenceCounter,
    RoleAssignment,
    TimelineEntry,
)
from app.people.models import OwnedService, Person, Team, TeamMember
from app.webhooks.models import WebhookReceipt

__all__ = [
    "ActionItem",
    "ApiToken",
    "Delivery",
    "Hypothesis",
    "Incident",
    "IncidentLink",
    "Milestone",
    "OwnedService",
    "Person",
    "ReferenceCounter",
    "RoleAssignment",
    "Team",
    "TeamMember",
    "TimelineEntry",
    "WebhookReceipt",
    "metadata",
]
