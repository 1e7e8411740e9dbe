"""The templates Relay ships with, written from the examples in the process documents."""

from enum import StrEnum


class TemplateName(StrEnum):
    acknowledge = "acknowledge"
    investigating = "investigating"
    update = "update"
    mitigated = "mitigated"
    resolved = "resolved"


_INTERNAL = {
    TemplateName.acknowledge: """\
ACKNOWLEDGED: {{ incident.summary_line }}
{{ incident.reference }} is a {{ incident.severity }} incident and the team is on it. \
Follow along in #{{ incident.channel_name }}.
{% if commander %}{{ commander }} is the incident commander.
{% endif %}{% if note %}{{ note }}
{% endif %}
Expect an update on the status of this incident in {{ next_update_in }} or sooner.

{{ responder }}""",
    TemplateName.investigating: """\
INVESTIGATING: {{ incident.functionality }} is {{ incident.state }} for {{ incident.audience }} \
({{ incident.severity }}).
The team is investigating{% if milestone %}: {{ milestone }}{% endif %}.
{% if note %}{{ note }}
{% endif %}
Please see #{{ incident.channel_name }} for details.
Expect an update on the status of this incident in {{ next_update_in }} or sooner.

{{ responder }}""",
    TemplateName.update: """\
UPDATE: {{ incident.functionality }} is still {{ incident.state }} for {{ incident.audience }} \
({{ incident.severity }}).
{% if milestone %}
The team is at: {{ milestone }}.
{% endif %}{% if note %}
{{ note }}
{% endif %}
Please see #{{ incident.channel_name }}{% if incident.notes_url %} and the incident document \
({{ incident.notes_url }}){% endif %} for details.
Expect an update on the status of this incident in {{ next_update_in }} or sooner.

{{ responder }}""",
    TemplateName.mitigated: """\
MITIGATED: {{ incident.severity }} {{ incident.functionality }} is {{ incident.state }} \
for {{ incident.audience }} is mitigated.
{% if incident.mitigation %}
{{ incident.mitigation }}
{% endif %}{% if note %}
{{ note }}
{% endif %}
{% if retrospective_at %}A retrospective has been scheduled for {{ retrospective_at }}.{% else %}\
The team will hold a retrospective and share the contributing factors soon.{% endif %}
If customers still feel the impact, please tell #{{ incident.channel_name }}.

{{ responder }}""",
    TemplateName.resolved: """\
RESOLVED: {{ incident.summary_line }}
A durable resolution is in place{% if incident.durable_reason %}: {{ incident.durable_reason }}{% endif %}.
{% if note %}
{{ note }}
{% endif %}
{% if retrospective_at %}The retrospective is scheduled for {{ retrospective_at }}.{% else %}\
A retrospective will be scheduled shortly.{% endif %}
Thanks to everyone who helped resolve this incident.

{{ responder }}""",
}

_EXTERNAL = {
    TemplateName.acknowledge: """\
Hello {{ variables.name | default("there") }}, we have investigated this request and have concluded that \
it is related to an incident that is causing diminished service for your community.

{% if note %}{{ note }}{% else %}We believe that this incident is related to {{ incident.functionality }} \
being {{ incident.state }}{% endif %} and will investigate further on next actions.

We'll prioritize resolving this incident over our other work, and will communicate with you \
throughout our attempts to resolve it. We might be in touch with requests for clarifications if needed.""",
    TemplateName.investigating: """\
Our monitoring systems have detected a potential issue with {{ incident.functionality }}. \
Our engineering team has been alerted and is actively investigating. \
{% if note %}{{ note }} {% endif %}\
We will provide an update in {{ next_update_in }} or as soon as more information is available.""",
    TemplateName.update: """\
We continue to investigate an issue where {{ incident.functionality }} is {{ incident.state }} \
for {{ incident.audience }}. {% if note %}{{ note }} {% endif %}\
We expect to provide another update in {{ next_update_in }} or as soon as more information is available. \
Please let us know if you have had more reports of issues, or reports that your issues have gone away.""",
    TemplateName.mitigated: """\
We've applied a fix for the issue where {{ incident.functionality }} was {{ incident.state }} \
for {{ incident.audience }}; you should no longer be affected. {% if note %}{{ note }} {% endif %}\
We are making sure the fix lasts and will confirm once the incident is resolved. \
If you are still affected, please reply to this message.""",
    TemplateName.resolved: """\
{{ incident.functionality }} was {{ incident.state }} for {{ incident.audience }} between \
{{ incident.declared_at }} and {{ incident.mitigated_at or incident.resolved_at }}. \
The incident is resolved and things should be back to normal. {% if note %}{{ note }} {% endif %}\
Please let us know if you still see any problems; if we do not hear from you we will close this \
ticket in a few working days.""",
}

DEFAULTS: dict[tuple[str, str], str] = {
    **{(str(name), "internal"): body for name, body in _INTERNAL.items()},
    **{(str(name), "external"): body for name, body in _EXTERNAL.items()},
}
