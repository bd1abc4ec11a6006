"""Teams: a name and its units, kept once by the tovholder and used by every session run under
it, so later sessions can see the team's earlier results."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app.db import session_scope
from app.models import Team
from exercises.base import N_, AnswerInvalid, clean_text

MAX_UNITS = 12


def parse_units(raw: str) -> list[str]:
    """One unit a line (or comma-separated); trimmed, no duplicates, 2 to 12 of them."""
    parts = [p for line in raw.splitlines() for p in line.split(",")]
    units: list[str] = []
    for part in parts:
        if not part.strip():
            continue
        try:
            unit = clean_text(part, max_length=80, single_line=True)
        except AnswerInvalid:
            raise AnswerInvalid(N_("A unit's name is at most 80 characters.")) from None
        if unit.casefold() not in {u.casefold() for u in units}:
            units.append(unit)
    if len(units) > MAX_UNITS:
        raise AnswerInvalid(N_("A team has at most %(num)d units."), num=MAX_UNITS)
    if len(units) == 1:
        raise AnswerInvalid(N_("Give at least two units, or none."))
    return units


def create_team(engine: Engine, facilitator_id: int, name: str, units_raw: str) -> Team:
    try:
        clean_name = clean_text(name, max_length=120, single_line=True)
    except AnswerInvalid:
        raise AnswerInvalid(N_("Give the team a name (at most 120 characters).")) from None
    team = Team(facilitator_id=facilitator_id, name=clean_name, units=parse_units(units_raw))
    with session_scope(engine) as db:
        db.add(team)
        db.commit()
        db.refresh(team)
    return team


def teams_of(engine: Engine, facilitator_id: int) -> list[Team]:
    with session_scope(engine) as db:
        return list(
            db.exec(select(Team).where(Team.facilitator_id == facilitator_id).order_by(col(Team.name))).all()
        )


def team_of(engine: Engine, facilitator_id: int, team_id: int) -> Team | None:
    with session_scope(engine) as db:
        team = db.get(Team, team_id)
    return team if team is not None and team.facilitator_id == facilitator_id else None
