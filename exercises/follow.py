"""What a team's program carries from one session to the next, in exercises' own terms: the
commitments a step gives (`takeaways`), a check-in's status marks on them (`marks`), and rated
items whose medians are compared over time (`readings`). The app collects them across a team's
sessions (app/program.py) and hands a check-in step the open commitments (`StepContext.commitments`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, TypeVar

S = TypeVar("S")
R = TypeVar("R")

Status = Literal["open", "started", "done", "stuck"]
STATUSES: tuple[Status, ...] = ("open", "started", "done", "stuck")


@dataclass(frozen=True)
class Takeaway:
    """One commitment as its step gives it."""

    what: str
    who: str
    when: str  # as written, or an ISO date
    date: str | None = None  # YYYY-MM-DD when `when` is a date
    where: str = ""  # where it is decided: "" for "we start now", else the forum


@dataclass(frozen=True)
class Mark:
    """A status change of one commitment, as a check-in step stored it."""

    key: str
    status: Status
    at: str  # ISO time of the change
    owner: str = ""  # a new owner, if one was named
    due: str = ""  # a new date (YYYY-MM-DD), if one was set


@dataclass(frozen=True)
class TeamCommitment:
    """A commitment of the team from an earlier session, as it stands now."""

    key: str
    what: str
    who: str
    when: str
    session: str  # the session it was made in, e.g. "12 March 2027 · Our first steps"
    status: Status = "open"
    owner: str = ""  # the newest owner named at a check-in, else ""
    due: str = ""  # the newest date set at a check-in, else ""
    where: str = ""
    history: tuple[Mark, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Reading:
    """A rated item's median in one session: the same id is the same item in any flow."""

    id: str
    text: Mapping[str, str]
    median: float
    count: int
    scale_max: int = 5


class ProgramHooks(Generic[S, R]):
    """An exercise's hooks for the team's program and its posters (part of `Exercise`; every one
    has a default)."""

    # It follows up the team's commitments from earlier sessions: the app fills ctx.commitments.
    reads_team_commitments: ClassVar[bool] = False

    def takeaways(self, settings: S, result: R) -> list[Takeaway]:
        """The commitments the step gives the team's program (followed up at later check-ins)."""
        return []

    def marks(self, settings: S, state: Mapping[str, Any]) -> list[Mark]:
        """Status changes of the team's commitments that the step stored, oldest first."""
        return []

    def next_meeting(self, settings: S, result: R) -> str | None:
        """The date (YYYY-MM-DD) the step set for the team's next meeting, if any."""
        return None

    def readings(self, settings: S, result: R) -> list[Reading]:
        """Rated items' medians, compared over the team's sessions by item id."""
        return []

    def shows_units(self, settings: S) -> bool:
        """Whether the step shows the room which unit an answer comes from. Only then may a
        poster name a card's unit (and still only a unit big enough to show). By default not."""
        return False
