"""Every table, imported in one place for Alembic and the tests."""

from app.alerting.models import Integration, Subscription
from app.auth.models import ApiToken
from app.comms.models import MessageTemplate
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
from app.integrations.freshdesk.models import FreshdeskTicket
from app.people.models import OwnedService, Person, Team, TeamMember
from app.reconciliation.models import LinkState, ReconciliationRun
from app.reports.models import IncidentReport
from app.webhooks.models import WebhookReceipt

__all__ = [
    "ActionItem",
    "ApiToken",
    "Delivery",
    "FreshdeskTicket",
    "Hypothesis",
    "Incident",
    "IncidentLink",
    "LinkState",
    "Integration",
    "MessageTemplate",
    "IncidentReport",
    "Milestone",
    "OwnedService",
    "Person",
    "ReconciliationRun",
    "ReferenceCounter",
    "RoleAssignment",
    "Subscription",
    "Team",
    "TeamMember",
    "TimelineEntry",
    "WebhookReceipt",
    "metadata",
]
