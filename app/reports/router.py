"""/api/v1/incidents/{ref}/report: the blameless report, and the sections the team writes in it."""

from typing import Any

from fastapi import APIRouter, Request, Response

from app.auth.deps import Authenticated, Reader, Writer
from app.dependencies import SessionDep, SettingsDep
from app.incidents.router import ERRORS, PROBLEM, IfMatch, IncidentDep, etag, required_version
from app.reports import markdown, service
from app.reports.schemas import ReportPublic, ReportSections, ReportUpdate

router = APIRouter(
    prefix="/api/v1/incidents/{reference}", tags=["reports"], responses=ERRORS, dependencies=[Authenticated]
)

MARKDOWN = "text/markdown; charset=utf-8"
JSON = "application/json"
REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Markdown by default; JSON with `Accept: application/json`.",
        "content": {"text/markdown": {"schema": {"type": "string"}}},
    }
}


def wants_json(accept: str | None) -> bool:
    """Whether the Accept header prefers JSON to Markdown (Markdown wins ties and wildcards)."""
    quality = {"json": 0.0, "markdown": 0.0}
    for part in (accept or "").split(","):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media.lower() in {JSON, "application/*"}:
            quality["json"] = max(quality["json"], q)
        if media.lower() in {"text/markdown", "text/*", "*/*"}:
            quality["markdown"] = max(quality["markdown"], q)
    return quality["json"] > quality["markdown"]


@router.get("/report", response_model=ReportPublic, responses=REPORT_RESPONSES)
async def get_report(
    incident: IncidentDep, _actor: Reader, session: SessionDep, settings: SettingsDep, request: Request
) -> Response:
    """The blameless report generated from the record; its ETag is the precondition for editing it."""
    report = await service.build(session, incident, settings)
    headers = {"ETag": etag(report.sections.version), "Vary": "Accept"}
    if wants_json(request.headers.get("accept")):
        return Response(report.model_dump_json(), media_type=JSON, headers=headers)
    return Response(markdown.render(report, settings.zone), media_type=MARKDOWN, headers=headers)


@router.patch("/report", responses={428: PROBLEM})
async def update_report(
    incident: IncidentDep,
    changes: ReportUpdate,
    actor: Writer,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> ReportSections:
    """Write the contributing factors, what went well, what went badly and the lessons."""
    expected = required_version(if_match, changes.version, "the report's ETag (0 before the first edit)")
    sections = await service.write_sections(session, incident, changes, actor, expected)
    response.headers["ETag"] = etag(sections.version)
    return sections
