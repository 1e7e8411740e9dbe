"""People, teams and which team owns which service."""

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app import clock
from app.errors import Conflict, NotFound, ValidationFailed, field_error
from app.people.models import OwnedService, Person, Team, TeamMember
from app.people.schemas import PersonCreate, PersonUpdate, TeamCreate, TeamPublic, TeamUpdate

IDENTITIES = ("email", "slack_user_id", "pagerduty_user_id", "freshdesk_agent_id")


async def _identity_taken(session: AsyncSession, values: dict[str, object], exclude_id: int | None) -> None:
    for field in IDENTITIES:
        value = values.get(field)
        if value is None:
            continue
        other = await session.scalar(select(Person).where(getattr(Person, field) == value))
        if other is not None and other.id != exclude_id:
            raise Conflict(f"{field} {value} already belongs to {other.name} (person {other.id}).")


async def create_person(session: AsyncSession, data: PersonCreate) -> Person:
    values = data.model_dump()
    await _identity_taken(session, values, None)
    person = Person(**values, created_at=clock.now())
    session.add(person)
    await session.flush()
    return person


async def get_person(session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    if person is None:
        raise NotFound(f"There is no person {person_id}.")
    return person


async def update_person(session: AsyncSession, person: Person, data: PersonUpdate) -> Person:
    values = data.model_dump(exclude_unset=True)
    await _identity_taken(session, values, person.id)
    for name, value in values.items():
        setattr(person, name, value)
    await session.flush()
    return person


async def list_people(session: AsyncSession) -> Sequence[Person]:
    return (await session.scalars(select(Person).order_by(col(Person.name), col(Person.id)))).all()


async def person_by_identity(session: AsyncSession, field: str, value: str) -> Person | None:
    return await session.scalar(select(Person).where(getattr(Person, field) == value))


async def person_for_slack_user(session: AsyncSession, slack_user_id: str, name: str) -> tuple[Person, bool]:
    """The person behind a Slack user, created on first sight; True when it was just created."""
    person = await person_by_identity(session, "slack_user_id", slack_user_id)
    if person is not None:
        return person, False
    person = Person(name=name, slack_user_id=slack_user_id, created_at=clock.now())
    try:
        async with session.begin_nested():
            session.add(person)
    except IntegrityError:  # another request met the same user at the same moment and created them
        existing = await person_by_identity(session, "slack_user_id", slack_user_id)
        assert existing is not None
        return existing, False
    return person, True


async def _set_members(session: AsyncSession, team: Team, person_ids: list[int]) -> None:
    assert team.id is not None
    wanted = list(dict.fromkeys(person_ids))
    found = set((await session.scalars(select(col(Person.id)).where(col(Person.id).in_(wanted)))).all())
    unknown = [str(pid) for pid in wanted if pid not in found]
    if unknown:
        raise ValidationFailed(
            f"There is no person {', '.join(unknown)}.", errors=[field_error("members", "unknown person id")]
        )
    await session.execute(delete(TeamMember).where(col(TeamMember.team_id) == team.id))
    session.add_all(TeamMember(team_id=team.id, person_id=pid) for pid in wanted)
    await session.flush()


async def _set_services(session: AsyncSession, team: Team, names: list[str]) -> None:
    assert team.id is not None
    for name in names:
        owner = await session.scalar(select(OwnedService).where(col(OwnedService.name) == name))
        if owner is not None and owner.team_id != team.id:
            raise Conflict(f"Service {name} is already owned by another team.")
    await session.execute(delete(OwnedService).where(col(OwnedService.team_id) == team.id))
    session.add_all(OwnedService(name=name, team_id=team.id) for name in dict.fromkeys(names))
    await session.flush()


async def create_team(session: AsyncSession, data: TeamCreate) -> Team:
    if await session.scalar(select(Team).where(col(Team.name) == data.name)) is not None:
        raise Conflict(f"A team named {data.name} already exists.")
    team = Team(**data.model_dump(exclude={"services", "members"}), created_at=clock.now())
    session.add(team)
    await session.flush()
    await _set_services(session, team, data.services)
    await _set_members(session, team, data.members)
    return team


async def get_team(session: AsyncSession, team_id: int) -> Team:
    team = await session.get(Team, team_id)
    if team is None:
        raise NotFound(f"There is no team {team_id}.")
    return team


async def update_team(session: AsyncSession, team: Team, data: TeamUpdate) -> Team:
    values = data.model_dump(exclude_unset=True, exclude={"services", "members"})
    for name, value in values.items():
        setattr(team, name, value)
    if data.services is not None:
        await _set_services(session, team, data.services)
    if data.members is not None:
        await _set_members(session, team, data.members)
    await session.flush()
    return team


async def teams_public(session: AsyncSession, teams: Sequence[Team]) -> list[TeamPublic]:
    ids = [t.id for t in teams]
    rows = await session.scalars(
        select(OwnedService).where(col(OwnedService.team_id).in_(ids)).order_by(col(OwnedService.name))
    )
    services: dict[int, list[str]] = {}
    for row in rows:
        services.setdefault(row.team_id, []).append(row.name)
    members: dict[int, list[int]] = {}
    for member in await session.scalars(
        select(TeamMember).where(col(TeamMember.team_id).in_(ids)).order_by(col(TeamMember.person_id))
    ):
        members.setdefault(member.team_id, []).append(member.person_id)
    return [
        TeamPublic(
            **team.model_dump(),
            services=services.get(team.id or 0, []),
            members=members.get(team.id or 0, []),
        )
        for team in teams
    ]


async def list_teams(session: AsyncSession) -> Sequence[Team]:
    return (await session.scalars(select(Team).order_by(col(Team.name)))).all()
