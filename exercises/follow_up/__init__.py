"""Follow-up: the team's commitments from every earlier session that are not done, one line
each, and their status. The tovholder marks a status (open, started, done, stuck), a new owner or
a new date; each change is stored with its time in the step's state, so the team page can show
a commitment's history across meetings."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from exercises.base import N_, AnswerInvalid, Entry, Exercise, StepContext, Strict, clean_text
from exercises.commitments import WHO_LENGTH, as_date
from exercises.follow import STATUSES, Mark, Status, TeamCommitment

MAX_MARKS = 1000
MAX_ITEMS = 200


class FollowUpSettings(Strict):
    # The phones mark each commitment too (the room's view); the tovholder's mark is what counts.
    phones: bool = False


class FollowUpAnswer(Strict):
    values: dict[str, Status] = Field(min_length=1, max_length=MAX_ITEMS)


class FollowUpItem(BaseModel):
    key: str
    what: str
    who: str  # the newest owner
    when: str  # the newest date, or the one it was made with
    session: str
    where: str
    status: Status
    marked: bool  # changed in this step
    votes: dict[str, int] = {}  # with `phones`: how many phones marked each status


class FollowUpResult(BaseModel):
    items: list[FollowUpItem]
    counts: dict[str, int]  # status: how many


def stored_marks(state: Mapping[str, Any]) -> list[Mark]:
    raw = state.get("marks")
    out: list[Mark] = []
    for m in raw if isinstance(raw, list) else []:
        if isinstance(m, dict) and m.get("status") in STATUSES and isinstance(m.get("key"), str):
            out.append(
                Mark(
                    key=m["key"],
                    status=m["status"],
                    at=str(m.get("at") or ""),
                    owner=str(m.get("owner") or ""),
                    due=str(m.get("due") or ""),
                )
            )
    return out


def _current(c: TeamCommitment, marks: Sequence[Mark]) -> tuple[Status, str, str, bool]:
    status, owner, due, marked = c.status, c.owner, c.due, False
    for m in marks:
        if m.key == c.key:
            status, marked = m.status, True
            owner = m.owner or owner
            due = m.due or due
    return status, owner, due, marked


class FollowUp(Exercise[FollowUpSettings, FollowUpAnswer, FollowUpResult]):
    name = "follow_up"
    settings_model = FollowUpSettings
    answer_model = FollowUpAnswer
    result_model = FollowUpResult
    has_actions = True
    settles_state_on_open = False  # it opens with no marks, whoever is there
    reads_team_commitments = True

    def max_answers(self, settings: FollowUpSettings, ctx: StepContext) -> int:
        return 1 if settings.phones and ctx.commitments else 0

    def parse_answer(
        self, settings: FollowUpSettings, form: Mapping[str, Any], ctx: StepContext
    ) -> FollowUpAnswer:
        values = {
            c.key: form[f"status:{c.key}"] for c in ctx.commitments if form.get(f"status:{c.key}") in STATUSES
        }
        if not values:
            raise AnswerInvalid(N_("Please mark at least one commitment."))
        return FollowUpAnswer(values=values)

    def initial_state(self, settings: FollowUpSettings, ctx: StepContext) -> dict[str, Any]:
        return {"marks": []}

    def aggregate(
        self, settings: FollowUpSettings, entries: Sequence[Entry[FollowUpAnswer]], ctx: StepContext
    ) -> FollowUpResult:
        marks = stored_marks(ctx.state)
        votes: dict[str, dict[str, int]] = {}
        for entry in entries:
            for key, value in entry.answer.values.items():
                votes.setdefault(key, {}).setdefault(value, 0)
                votes[key][value] += 1
        items: list[FollowUpItem] = []
        counts = dict.fromkeys(STATUSES, 0)
        for c in ctx.commitments:
            status, owner, due, marked = _current(c, marks)
            counts[status] += 1
            items.append(
                FollowUpItem(
                    key=c.key,
                    what=c.what,
                    who=owner or c.who,
                    when=due or c.when,
                    session=c.session,
                    where=c.where,
                    status=status,
                    marked=marked,
                    votes=votes.get(c.key, {}),
                )
            )
        return FollowUpResult(items=items, counts=counts)

    def act(
        self,
        settings: FollowUpSettings,
        state: Mapping[str, Any],
        action: str,
        form: Mapping[str, Any],
        ctx: StepContext,
    ) -> dict[str, Any]:
        if action != "mark":
            raise AnswerInvalid(N_("This step has no such action."))
        key = form.get("key")
        if not any(c.key == key for c in ctx.commitments):
            raise AnswerInvalid(N_("That commitment is no longer on the list."))
        status = form.get("status")
        if status not in STATUSES:
            raise AnswerInvalid(N_("Please choose a status: open, started, done or stuck."))
        owner = ""
        if isinstance(form.get("owner"), str) and form["owner"].strip():
            try:
                owner = clean_text(form["owner"], max_length=WHO_LENGTH, single_line=True)
            except AnswerInvalid:
                raise AnswerInvalid(
                    N_("“Who” is at most %(limit)d characters: a name, a role or a unit."), limit=WHO_LENGTH
                ) from None
        due = ""
        raw = form.get("due")
        if isinstance(raw, str) and raw.strip():
            day = as_date(raw.strip())
            if day is None:
                raise AnswerInvalid(N_("Please pick the new date (YYYY-MM-DD)."))
            due = day.isoformat()
        marks = [m for m in (state.get("marks") or []) if isinstance(m, dict)][-MAX_MARKS + 1 :]
        mark = {"key": key, "status": status, "at": ctx.now.isoformat(timespec="seconds")}
        mark |= {k: v for k, v in (("owner", owner), ("due", due)) if v}
        return {"marks": [*marks, mark]}

    def marks(self, settings: FollowUpSettings, state: Mapping[str, Any]) -> list[Mark]:
        return stored_marks(state)

    def simulate_state(
        self,
        settings: FollowUpSettings,
        rng: random.Random,
        samples: Sequence[str],
        entries: Sequence[Entry[FollowUpAnswer]],
        ctx: StepContext,
    ) -> dict[str, Any]:
        """A tovholder who marks every commitment on the list: most under way or done."""
        stamp = ctx.now.isoformat(timespec="seconds")
        weights = {"started": 4, "done": 3, "stuck": 1, "open": 1}
        marks = [
            {"key": c.key, "status": rng.choices(list(weights), list(weights.values()))[0], "at": stamp}
            for c in ctx.commitments
        ]
        return {"marks": marks}
