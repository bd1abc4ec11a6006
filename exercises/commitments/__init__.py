"""Commitments: who does what by when, the list the team takes home.

Answer: `{what, who, when}`; `when` is a date (YYYY-MM-DD, or D.M.YYYY written the Nordic way,
stored as YYYY-MM-DD) or a short text such as "next staff meeting". The results list the
commitments by date, then the ones without a date; the tovholder sets the follow-up date."""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from babel.dates import format_date
from pydantic import BaseModel, Field

from exercises.base import N_, AnswerInvalid, Entry, Exercise, StepContext, Strict, clean_text
from exercises.follow import Takeaway
from exercises.markdown import md, md_table, no_answers
from exercises.poster import Commitment as PosterCommitment
from exercises.poster import PosterPart, PosterSlot
from exercises.words import Words

WHAT_CAP = 300
WHO_LENGTH = 80
WHEN_LENGTH = 40
WHERE_LENGTH = 80
MAX_YEARS_AHEAD = 5
ISO_LIKE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
NORDIC = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
RELATIVE = re.compile(r"^\+(\d{1,4})$")  # demo samples only: "+14" is fourteen days on


class CommitmentsSettings(Strict):
    max_items: int = Field(default=3, ge=1, le=10)
    max_length: int = Field(default=200, ge=20, le=WHAT_CAP)
    # Each commitment is sorted: "we start now", or "needs a decision in another forum" (which).
    ask_where: bool = False


class CommitmentsAnswer(Strict):
    what: str = Field(min_length=1, max_length=WHAT_CAP)
    who: str = Field(min_length=1, max_length=WHO_LENGTH)
    when: str = Field(default="", max_length=WHEN_LENGTH)
    where: str = Field(default="", max_length=WHERE_LENGTH)  # "": we start now; else the forum


class Commitment(BaseModel):
    what: str
    who: str
    when: str  # as written, or the ISO date
    date: str | None  # YYYY-MM-DD when `when` is a date
    label: str  # the date as the session's language writes it, or `when`
    count: int = 1  # the same commitment sent by several people counts once, with this number
    where: str = ""  # where it is decided: "" for "we start now", else the forum


class CommitmentsResult(BaseModel):
    count: int  # commitments sent (before the same ones are merged)
    people: int
    items: list[Commitment]
    follow_up: str | None
    follow_up_label: str | None


def as_date(text: str) -> date | None:
    """A written date: YYYY-MM-DD or D.M.YYYY. None when the text is not shaped as a date;
    AnswerInvalid when it is shaped as one but is no real day (2025-02-30)."""
    iso, nordic = ISO_LIKE.match(text), NORDIC.match(text)
    if iso:
        year, month, day = (int(g) for g in iso.groups())
    elif nordic:
        day, month, year = (int(g) for g in nordic.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        raise AnswerInvalid(
            N_("%(value)s is not a real date. Write it as YYYY-MM-DD, or say when in words."), value=text
        ) from None


def _check_range(day: date, ctx: StepContext) -> None:
    # One day of slack: the server's clock is UTC, the room may be a few hours ahead.
    today = ctx.now.date()
    if day < today - timedelta(days=1):
        raise AnswerInvalid(
            N_("%(value)s has already passed. Please pick a later date."), value=day.isoformat()
        )
    if day.year > today.year + MAX_YEARS_AHEAD:
        raise AnswerInvalid(
            N_("%(value)s is far ahead. Please pick a date within %(num)d years."),
            value=day.isoformat(),
            num=MAX_YEARS_AHEAD,
        )


def _text(form: Mapping[str, Any], key: str) -> str:
    value = form.get(key)
    return value if isinstance(value, str) else ""


def _label(iso: str, locale: str) -> str:
    try:
        return str(format_date(date.fromisoformat(iso), format="medium", locale=locale))
    except (ValueError, LookupError):
        return iso


def _full_label(iso: str, locale: str) -> str:
    try:
        return str(format_date(date.fromisoformat(iso), format="full", locale=locale))
    except (ValueError, LookupError):
        return iso


class Commitments(Exercise[CommitmentsSettings, CommitmentsAnswer, CommitmentsResult]):
    name = "commitments"
    takes_text = True
    settings_model = CommitmentsSettings
    answer_model = CommitmentsAnswer
    result_model = CommitmentsResult
    has_actions = True
    settles_state_on_open = False  # it opens with no follow-up chosen, whoever is there

    def max_answers(self, settings: CommitmentsSettings, ctx: StepContext) -> int:
        return settings.max_items

    def parse_answer(
        self, settings: CommitmentsSettings, form: Mapping[str, Any], ctx: StepContext
    ) -> CommitmentsAnswer:
        try:
            what = clean_text(form.get("what"), max_length=settings.max_length)
        except AnswerInvalid as exc:
            if exc.params:
                raise
            raise AnswerInvalid(N_("Please write what will be done.")) from None
        try:
            who = clean_text(form.get("who"), max_length=WHO_LENGTH, single_line=True)
        except AnswerInvalid as exc:
            if exc.params:
                raise AnswerInvalid(
                    N_("“Who” is at most %(limit)d characters: a name, a role or a unit."), limit=WHO_LENGTH
                ) from None
            raise AnswerInvalid(N_("Please say who does it: a name, a role or a unit.")) from None
        where = self.parse_where(form) if settings.ask_where else ""
        return CommitmentsAnswer(
            what=what, who=who, when=self.parse_when(_text(form, "when"), ctx), where=where
        )

    def parse_where(self, form: Mapping[str, Any]) -> str:
        """ "now" (we start now) or "elsewhere" with the forum that decides it."""
        decide = _text(form, "decide") or "now"  # the form's default
        if decide not in ("now", "elsewhere"):
            raise AnswerInvalid(N_("Please choose: we start now, or it needs a decision in another forum."))
        if decide == "now":
            return ""
        try:
            return clean_text(form.get("where"), max_length=WHERE_LENGTH, single_line=True)
        except AnswerInvalid as exc:
            if exc.params:
                raise AnswerInvalid(
                    N_("The forum is at most %(limit)d characters."), limit=WHERE_LENGTH
                ) from None
            raise AnswerInvalid(
                N_("Please name the forum that decides it, e.g. the management meeting.")
            ) from None

    def parse_when(self, raw: str, ctx: StepContext) -> str:
        try:
            when = clean_text(raw, max_length=WHEN_LENGTH, single_line=True)
        except AnswerInvalid as exc:
            if exc.params:
                raise AnswerInvalid(
                    N_("“When” is at most %(limit)d characters: a date, or a few words."), limit=WHEN_LENGTH
                ) from None
            return ""  # no date is allowed: it goes to the end of the list
        day = as_date(when)
        if day is None:
            return when
        _check_range(day, ctx)
        return day.isoformat()

    def aggregate(
        self, settings: CommitmentsSettings, entries: Sequence[Entry[CommitmentsAnswer]], ctx: StepContext
    ) -> CommitmentsResult:
        merged: dict[tuple[str, str, str], Commitment] = {}
        order: dict[tuple[str, str, str], int] = {}
        for entry in sorted(entries, key=lambda e: e.id):
            a = entry.answer
            key = (" ".join(a.what.casefold().split()), a.who.casefold(), a.when.casefold())
            if key in merged:
                merged[key].count += 1
                order[key] = entry.id  # the newest sending decides its place among the undated
                continue
            day = _iso_or_none(a.when)
            merged[key] = Commitment(
                what=a.what,
                who=a.who,
                when=a.when,
                date=day,
                label=_label(day, ctx.locale) if day else a.when,
                where=a.where,
            )
            order[key] = entry.id
        # By date, soonest first; then the ones without a date, newest first.
        dated = sorted((k for k in merged if merged[k].date), key=lambda k: (merged[k].date or "", order[k]))
        undated = sorted((k for k in merged if not merged[k].date), key=lambda k: -order[k])
        follow_up = _follow_up(ctx.state)
        return CommitmentsResult(
            count=len(entries),
            people=len({e.participant for e in entries}),
            items=[merged[k] for k in dated + undated],
            follow_up=follow_up,
            follow_up_label=_full_label(follow_up, ctx.locale) if follow_up else None,
        )

    def initial_state(self, settings: CommitmentsSettings, ctx: StepContext) -> dict[str, Any]:
        return {"follow_up": None}

    def act(
        self,
        settings: CommitmentsSettings,
        state: Mapping[str, Any],
        action: str,
        form: Mapping[str, Any],
        ctx: StepContext,
    ) -> dict[str, Any]:
        if action != "follow_up":
            raise AnswerInvalid(N_("This step has no such action."))
        raw = _text(form, "date").strip()
        if not raw:
            return {"follow_up": None}  # cleared
        day = as_date(raw) if ISO_LIKE.match(raw) else None
        if day is None:
            raise AnswerInvalid(N_("Please pick the follow-up date (YYYY-MM-DD)."))
        _check_range(day, ctx)
        return {"follow_up": day.isoformat()}

    def simulate(
        self, settings: CommitmentsSettings, rng: random.Random, samples: Sequence[str], ctx: StepContext
    ) -> list[CommitmentsAnswer]:
        """Samples are "what | who | when"; a `when` of "+14" is fourteen days after today."""
        usable = [s for s in samples if s.strip()]
        if not usable:
            return []
        k = rng.randint(1, min(settings.max_items, 2, len(usable)))
        answers: list[CommitmentsAnswer] = []
        for sample in rng.sample(usable, k):
            what, _, rest = sample.partition("|")
            who, _, rest = rest.partition("|")
            when, _, where = rest.partition("|")
            when = _demo_date(when.strip(), ctx.now.date())
            form = {"what": what[: settings.max_length], "who": who[:WHO_LENGTH], "when": when[:WHEN_LENGTH]}
            form |= {"decide": "elsewhere", "where": where.strip()} if where.strip() else {"decide": "now"}
            try:
                answers.append(self.parse_answer(settings, form, ctx))
            except AnswerInvalid:
                continue  # a sample the form would refuse (a date gone by) is left out
        return answers

    def simulate_state(
        self,
        settings: CommitmentsSettings,
        rng: random.Random,
        samples: Sequence[str],
        entries: Sequence[Entry[CommitmentsAnswer]],
        ctx: StepContext,
    ) -> dict[str, Any]:
        # Four to six weeks on, on a weekday.
        day = ctx.now.date() + timedelta(days=rng.randint(28, 42))
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return {"follow_up": day.isoformat()}

    def card_text(self, settings: CommitmentsSettings, answer: CommitmentsAnswer) -> str:
        return " · ".join(t for t in (answer.what, answer.who, answer.when) if t)

    def answer_text(
        self,
        settings: CommitmentsSettings,
        answer: CommitmentsAnswer,
        result: CommitmentsResult,
        words: Words,
    ) -> str:
        return " | ".join((answer.what, answer.who, answer.when) + ((answer.where,) if answer.where else ()))

    def markdown(self, settings: CommitmentsSettings, result: CommitmentsResult, words: Words) -> list[str]:
        _ = words.gettext
        lines: list[str] = []
        if result.follow_up_label:
            lines += [_(N_("Follow-up")) + ": **" + md(result.follow_up_label) + "**", ""]
        if not result.items:
            return lines + no_answers(words)
        rows = []
        elsewhere = []
        for item in result.items:
            what = md(item.what) + (f" (×{item.count})" if item.count > 1 else "")
            if item.where:
                elsewhere.append([what, md(item.who), md(item.label or item.when), md(item.where)])
            else:
                rows.append([what, md(item.who), md(item.label or item.when)])
        if rows:
            if elsewhere:
                lines += ["**" + _(N_("We start now")) + "**", ""]
            lines += md_table([_(N_("What")), _(N_("Who")), _(N_("When"))], rows)
        if elsewhere:
            lines += (["", ""] if rows else []) + [
                "**" + _(N_("Needs a decision in another forum")) + "**",
                "",
            ]
            lines += md_table(
                [_(N_("What")), _(N_("Who")), _(N_("When")), _(N_("Where it is decided"))], elsewhere
            )
        return lines

    def poster(
        self,
        settings: CommitmentsSettings,
        result: CommitmentsResult,
        entries: Sequence[Entry[CommitmentsAnswer]],
        slot: PosterSlot,
    ) -> PosterPart:
        """The poster's table of who does what by when, and the follow-up date."""
        words = slot.words
        part = PosterPart()
        for item in result.items:
            when = words.date(date.fromisoformat(item.date), "medium") if item.date else item.when
            part.commitments.append(
                PosterCommitment(what=item.what, who=item.who, when=when, where=item.where)
            )
        if result.follow_up:
            day = words.date(date.fromisoformat(result.follow_up), "full")
            part.follow_up = words.gettext(N_("Follow-up meeting: %(date)s"), date=day)
        return part

    def next_meeting(self, settings: CommitmentsSettings, result: CommitmentsResult) -> str | None:
        return result.follow_up

    def takeaways(self, settings: CommitmentsSettings, result: CommitmentsResult) -> list[Takeaway]:
        return [
            Takeaway(what=i.what, who=i.who, when=i.when, date=i.date, where=i.where) for i in result.items
        ]


def _demo_date(when: str, today: date) -> str:
    """A demo sample's date: "+14" is fourteen days on; a date gone by moves on a year at a
    time, so a flow's samples stay plausible in any year."""
    relative = RELATIVE.match(when)
    if relative:
        return (today + timedelta(days=int(relative.group(1)))).isoformat()
    try:
        day = as_date(when)
    except AnswerInvalid:
        return when
    if day is None:
        return when
    while day < today:
        day = day.replace(year=day.year + 1, day=min(day.day, 28) if day.month == 2 else day.day)
    return day.isoformat()


def _iso_or_none(when: str) -> str | None:
    if ISO_LIKE.match(when):
        try:
            return date.fromisoformat(when).isoformat()
        except ValueError:
            return None
    return None


def _follow_up(state: Mapping[str, Any]) -> str | None:
    value = state.get("follow_up")
    return value if isinstance(value, str) and _iso_or_none(value) else None
