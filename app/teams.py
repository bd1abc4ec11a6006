"""Teams: a name and its units, kept once by the tovholder and used by every session run under
it, so later sessions can see the team's earlier results."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app.db import session_scope
from app.errors import InvalidInput
from app.models import Team
from exercises.base import N_, AnswerInvalid, clean_text

MAX_UNITS = 12


def parse_units(raw: str | Sequence[str]) -> list[str]:
    """One unit a line (or comma-separated), or a list; trimmed, no duplicates, 2 to 12 of them."""
    lines = raw.splitlines() if isinstance(raw, str) else raw
    parts = [p for line in lines for p in line.split(",")]
    units: list[str] = []
    for part in parts:
        if not part.strip():
            continue
        try:
            unit = clean_text(part, max_length=80, single_line=True)
        except AnswerInvalid:
            raise InvalidInput(N_("A unit's name is at most 80 characters.")) from None
        if unit.casefold() not in {u.casefold() for u in units}:
            units.append(unit)
    if len(units) > MAX_UNITS:
        raise InvalidInput(N_("A team has at most %(num)d units."), num=MAX_UNITS)
    if len(units) == 1:
        raise InvalidInput(N_("Give at least two units, or none."))
    return units


def team_name(raw: str) -> str:
    try:
        return clean_text(raw, max_length=120, single_line=True)
    except AnswerInvalid:
        raise InvalidInput(N_("Give the team a name (at most 120 characters).")) from None


class Teams:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, facilitator_id: int | None, name: str, units: str | Sequence[str]) -> Team:
        team = Team(facilitator_id=facilitator_id, name=team_name(name), units=parse_units(units))
        with session_scope(self.engine) as db:
            db.add(team)
            db.commit()
            db.refresh(team)
        return team

    def of(self, facilitator_id: int) -> list[Team]:
        """The tovholder's teams, by name."""
        with session_scope(self.engine) as db:
            query = select(Team).where(Team.facilitator_id == facilitator_id).order_by(col(Team.name))
            return list(db.exec(query).all())

    def owned(self, facilitator_id: int, team_id: int) -> Team | None:
        """The team, if it is this tovholder's."""
        team = self.get(team_id)
        return team if team is not None and team.facilitator_id == facilitator_id else None

    def get(self, team_id: int) -> Team | None:
        with session_scope(self.engine) as db:
            return db.get(Team, team_id)

    def named(self, facilitator_id: int | None, name: str) -> Team | None:
        """The tovholder's first team of this name (without an owner: a team without one)."""
        who = col(Team.facilitator_id)
        owner = who.is_(None) if facilitator_id is None else who == facilitator_id
        with session_scope(self.engine) as db:
            query = select(Team).where(Team.name == team_name(name), owner).order_by(col(Team.id))
            return db.exec(query).first()
