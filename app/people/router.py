"""/api/v1/people and /api/v1/teams."""

from fastapi import APIRouter, status

from app.auth.deps import Authenticated, Reader, Writer
from app.dependencies import SessionDep
from app.incidents.router import ERRORS
from app.people import service
from app.people.schemas import (
    PersonCreate,
    PersonPublic,
    PersonUpdate,
    TeamCreate,
    TeamPublic,
    TeamUpdate,
)

router = APIRouter(
    prefix="/api/v1", tags=["people and teams"], responses=ERRORS, dependencies=[Authenticated]
)


@router.post("/people", status_code=status.HTTP_201_CREATED)
async def create_person(person_in: PersonCreate, _actor: Writer, session: SessionDep) -> PersonPublic:
    """Add a person with their identities on Slack, PagerDuty, Freshdesk and email."""
    person = await service.create_person(session, person_in)
    return PersonPublic.model_validate(person, from_attributes=True)


@router.get("/people")
async def list_people(_actor: Reader, session: SessionDep) -> list[PersonPublic]:
    """Everyone Relay knows, by name."""
    return [PersonPublic.model_validate(p, from_attributes=True) for p in await service.list_people(session)]


@router.get("/people/{person_id}")
async def get_person(person_id: int, _actor: Reader, session: SessionDep) -> PersonPublic:
    """One person."""
    return PersonPublic.model_validate(await service.get_person(session, person_id), from_attributes=True)


@router.patch("/people/{person_id}")
async def update_person(
    person_id: int, changes: PersonUpdate, _actor: Writer, session: SessionDep
) -> PersonPublic:
    """Change a person's name or identities."""
    person = await service.update_person(session, await service.get_person(session, person_id), changes)
    return PersonPublic.model_validate(person, from_attributes=True)


@router.post("/teams", status_code=status.HTTP_201_CREATED)
async def create_team(team_in: TeamCreate, _actor: Writer, session: SessionDep) -> TeamPublic:
    """Add a team and the services it owns."""
    team = await service.create_team(session, team_in)
    return (await service.teams_public(session, [team]))[0]


@router.get("/teams")
async def list_teams(_actor: Reader, session: SessionDep) -> list[TeamPublic]:
    """Every team with its services: the ownership database."""
    return await service.teams_public(session, await service.list_teams(session))


@router.get("/teams/{team_id}")
async def get_team(team_id: int, _actor: Reader, session: SessionDep) -> TeamPublic:
    """One team."""
    return (await service.teams_public(session, [await service.get_team(session, team_id)]))[0]


@router.patch("/teams/{team_id}")
async def update_team(team_id: int, changes: TeamUpdate, _actor: Writer, session: SessionDep) -> TeamPublic:
    """Change a team; ``services`` replaces the list of services it owns."""
    team = await service.update_team(session, await service.get_team(session, team_id), changes)
    return (await service.teams_public(session, [team]))[0]
