"""The exports: what the team takes home from a session.

- CSV: one row per answer, for a spreadsheet (UTF-8 with BOM, CRLF, no formulas).
- JSON: the whole session as `SessionExport` (schema in docs/export-schema.json).
- Markdown: a readable summary of every step that collects answers.

Participants are anonymous ids numbered by join order ("P1", "P2", ...): no token and no name
leaves the database. A unit is named only where at least `min_group_size` people of the run
share it; smaller units are pooled as "other", and where that pool would still be under the
threshold, the smallest named units join it until it is not. An answer that names the units a
person rates (matrix: every unit but their own) would give a pooled person's unit away, so its
content is withheld for them.

Regenerate the schema file with `uv run python -m app.exports`."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from babel.numbers import format_decimal
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select

from app import i18n
from app.config import ROOT
from app.db import session_scope
from app.flows import Flow, Step
from app.flows import text as local_text
from app.models import Answer, Participant, Run, StepState, Team, utcnow
from app.runner import NotFound, Runner
from app.views import StepView
from exercises.base import N_

SCHEMA_VERSION: Literal[1] = 1
SCHEMA_PATH = ROOT / "docs" / "export-schema.json"
FORMATS = ("csv", "json", "md")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
}
OTHER_UNIT = "other"
# Exercises whose answer names every unit but the rater's own: the payload is the unit.
UNIT_REVEALING = frozenset({"matrix"})
CSV_COLUMNS = (
    "session_code",
    "flow",
    "step_number",
    "step_id",
    "step_title",
    "exercise",
    "answer_seq",
    "participant",
    "unit",
    "answered_at",
    "answer",
    "answer_json",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


# --- reading a session -------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A participant as the exports show them."""

    id: str  # "P1", "P2", ... by join order within the run
    unit: str | None  # the unit, OTHER_UNIT, or None (no units, or no unit given)
    masked: bool  # the person has a unit and it is not the one shown


@dataclass
class SessionData:
    """Everything an export reads, read in one database session."""

    run: Run
    flow: Flow
    team: Team | None
    steps: list[StepView]
    people: dict[int, Person]  # participant row id -> person, in join order
    answers: list[Answer]  # in the order they were stored
    states: dict[str, StepState]
    public_ids: dict[str, str]  # a participant's public id -> their anonymous id
    min_group_size: int

    @property
    def has_units(self) -> bool:
        return bool(self.team and self.team.units)

    @property
    def locale(self) -> str:
        return self.run.locale

    def text(self, value: Mapping[str, str] | None) -> str:
        return local_text(value, self.run.locale, self.flow.default_locale)


def unit_labels(
    units: Mapping[int, str | None], has_units: bool, min_group_size: int
) -> dict[int, str | None]:
    """Each participant's unit as exported. A unit with fewer than `min_group_size` people is
    "other"; when the people in "other" are fewer than that, the smallest named unit joins them,
    until "other" is empty or big enough. Without team units, nobody has one."""
    if not has_units:
        return dict.fromkeys(units)
    sizes = Counter(u for u in units.values() if u)
    shown = {u for u, n in sizes.items() if n >= min_group_size}

    def pooled() -> int:
        return sum(n for u, n in sizes.items() if u not in shown)

    while shown and 0 < pooled() < min_group_size:
        shown.remove(min(shown, key=lambda u: (sizes[u], u)))
    return {pid: (u if u in shown else OTHER_UNIT) if u else None for pid, u in units.items()}


def load_session(runner: Runner, run_id: int) -> SessionData:
    with session_scope(runner.engine) as db:
        run = db.get(Run, run_id)
        if run is None:
            raise NotFound(N_("There is no such session."))
        flow = runner.flow_of(run)
        reader = runner.reader
        steps = [reader.step_view(db, run, flow, i) for i in range(len(flow.steps))]
        team = reader.team(db, run)
        participants = db.exec(
            select(Participant).where(Participant.run_id == run_id).order_by(col(Participant.id))
        ).all()
        answers = list(db.exec(select(Answer).where(Answer.run_id == run_id).order_by(col(Answer.id))).all())
        states = {s.step_id: s for s in db.exec(select(StepState).where(StepState.run_id == run_id)).all()}
    has_units = bool(team and team.units)
    labels = unit_labels({p.id or 0: p.unit for p in participants}, has_units, reader.min_group_size)
    people: dict[int, Person] = {}
    public_ids: dict[str, str] = {}
    for number, p in enumerate(participants, 1):
        label = labels[p.id or 0]
        person = Person(id=f"P{number}", unit=label, masked=bool(p.unit) and label != p.unit)
        people[p.id or 0] = person
        if p.public_id:
            public_ids[p.public_id] = person.id
    return SessionData(
        run=run,
        flow=flow,
        team=team,
        steps=steps,
        people=people,
        answers=answers,
        states=states,
        public_ids=public_ids,
        min_group_size=reader.min_group_size,
    )


def _aware(value: datetime) -> datetime:
    """SQLite gives back naive datetimes; every stored time is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _minute(value: datetime) -> datetime:
    return _aware(value).replace(second=0, microsecond=0)


def scrub(value: Any, public_ids: Mapping[str, str]) -> Any:
    """A result or a step state made anonymous: public ids become the anonymous ids, and a
    person's name next to a public id (a groups list) is dropped."""
    if isinstance(value, Mapping):
        person = "public_id" in value
        return {
            public_ids.get(k, k): None if person and k == "name" else scrub(v, public_ids)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(v, public_ids) for v in value]
    if isinstance(value, str):
        return public_ids.get(value, value)
    return value


@dataclass(frozen=True)
class _Row:
    """One answer with where it belongs."""

    answer: Answer
    person: Person
    view: StepView | None  # None: a step the session's flow no longer has
    withheld: bool


def _rows(data: SessionData) -> list[_Row]:
    """The answers step by step in the flow's order, then any to steps the flow lacks."""
    order = {sv.step.id: i for i, sv in enumerate(data.steps)}
    rows = []
    for answer in data.answers:
        person = data.people.get(answer.participant_id, Person(id="P?", unit=None, masked=False))
        index = order.get(answer.step_id)
        view = data.steps[index] if index is not None else None
        withheld = view is not None and view.exercise.name in UNIT_REVEALING and person.masked
        rows.append(_Row(answer=answer, person=person, view=view, withheld=withheld))
    rows.sort(key=lambda r: (order.get(r.answer.step_id, len(order)), r.answer.id or 0))
    return rows


# --- answers as text ---------------------------------------------------------------------------


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _dots(num: int) -> str:
    # The five languages say "1 dot" and "n dots" alike: one form for one, another for the rest.
    if num == 1:
        return i18n.gettext(N_("1 dot"))
    return i18n.gettext(N_("%(num)d dots")) % {"num": num}


def _ordered(keys: Sequence[str], labels: Mapping[str, str]) -> list[str]:
    place = {k: i for i, k in enumerate(labels)}
    return sorted(keys, key=lambda k: place.get(k, len(place)))


def _answer_text_of(exercise: str, payload: Mapping[str, Any], labels: Mapping[str, str]) -> str | None:
    def label(key: str) -> str:
        return labels.get(key, key)

    if exercise in ("open_text", "grouping"):
        return str(payload["text"])
    if exercise == "word_cloud":
        return str(payload["word"])
    if exercise == "scale":
        return str(int(payload["value"]))
    if exercise == "survey":
        values = payload["values"]
        return "; ".join(f"{label(k)}: {int(values[k])}" for k in _ordered(list(values), labels))
    if exercise == "dot_vote":
        dots = payload["dots"]
        return "; ".join(f"{label(k)}: {_dots(int(dots[k]))}" for k in _ordered(list(dots), labels))
    if exercise == "ranking":
        return "; ".join(f"{i}. {label(str(k))}" for i, k in enumerate(payload["order"], 1))
    if exercise == "matrix":
        parts = []
        for unit, items in payload["ratings"].items():
            rated = ", ".join(f"{label(k)} {int(items[k])}" for k in _ordered(list(items), labels))
            parts.append(f"{unit}: {rated}")
        return "; ".join(parts)
    if exercise == "statement":
        reaction = {"agree": N_("Agree"), "adjust": N_("Adjust")}[payload["reaction"]]
        word = i18n.gettext(reaction)
        comment = str(payload.get("comment") or "")
        return f"{word} — {comment}" if comment else word
    if exercise == "commitments":
        return " | ".join(str(payload.get(k) or "") for k in ("what", "who", "when"))
    return None


def answer_text(exercise: str, payload: Mapping[str, Any], labels: Mapping[str, str]) -> str:
    """A readable text of one stored answer; the payload as JSON for any other exercise, or where
    a payload is not shaped as expected."""
    try:
        found = _answer_text_of(exercise, payload, labels)
    except (KeyError, TypeError, ValueError, AttributeError):
        found = None
    return found if found is not None else _compact(payload)


def option_labels(data: SessionData, sv: StepView) -> dict[str, str]:
    """Item and option ids of a step with their text in the session's language: from the
    step's settings, then from its result (options read from another step)."""
    found: dict[str, str] = {}
    for source in (sv.step.settings, sv.result.model_dump(mode="json")):
        for key in ("items", "options"):
            listed = source.get(key)
            if not isinstance(listed, list):
                continue
            for item in listed:
                if isinstance(item, Mapping) and isinstance(item.get("id"), str):
                    raw = item.get("text")
                    if isinstance(raw, Mapping) and raw:
                        found[item["id"]] = data.text({str(k): str(v) for k, v in raw.items()})
    return found


# --- CSV --------------------------------------------------------------------------------------------


def csv_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: what could start a formula gets a leading quote."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _iso_minute(value: datetime) -> str:
    return _minute(value).strftime("%Y-%m-%dT%H:%MZ")


def export_csv(data: SessionData) -> str:
    """One row per answer. The text starts with a BOM, so Excel reads it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    columns = [c for c in CSV_COLUMNS if c != "unit" or data.has_units]
    writer.writerow(columns)
    labels_of: dict[str, dict[str, str]] = {}
    with i18n.use_locale(data.locale):
        for row in _rows(data):
            a, sv = row.answer, row.view
            if sv is not None and sv.step.id not in labels_of:
                labels_of[sv.step.id] = option_labels(data, sv)
            exercise = sv.exercise.name if sv else ""
            if row.withheld:
                readable = i18n.gettext(N_("(withheld: it would show a small unit)"))
                raw = "{}"
            else:
                readable = answer_text(exercise, a.payload, labels_of.get(a.step_id, {}))
                raw = _compact(a.payload)
            cells = {
                "session_code": data.run.code,
                "flow": data.run.flow_name,
                "step_number": str(sv.index + 1) if sv else "",
                "step_id": a.step_id,
                "step_title": data.text(sv.step.title) if sv else "",
                "exercise": exercise,
                "answer_seq": str(a.seq),
                "participant": row.person.id,
                "unit": row.person.unit or "",
                "answered_at": _iso_minute(a.created_at),
                "answer": readable,
                "answer_json": raw,
            }
            writer.writerow([csv_cell(cells[c]) for c in columns])
    return "\ufeff" + buffer.getvalue()


# --- JSON -------------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunExport(_Model):
    code: str
    flow_name: str
    title: str = Field(description="The flow's title in the session's language.")
    locale: str
    status: str = Field(description='"lobby", "live" or "closed".')
    is_demo: bool
    created_at: datetime
    started_at: datetime | None
    closed_at: datetime | None


class TeamExport(_Model):
    name: str
    units: list[str]


class ParticipantExport(_Model):
    id: str = Field(description='An anonymous id by join order within the session: "P1", "P2", ...')
    unit: str | None = Field(
        description='The unit where at least min_group_size people share it, else "other"; '
        "null without units."
    )


class AnswerExport(_Model):
    participant: str = Field(description="The anonymous id of the person who answered.")
    seq: int = Field(description="Numbers one person's answers to one step: 1, 2, ...")
    payload: dict[str, Any] = Field(description="The answer as stored; {} where withheld.")
    answered_at: datetime = Field(description="When, to the minute (UTC).")
    withheld: bool = Field(
        default=False, description="The content would show the unit of a person in a small unit."
    )


class OtherAnswerExport(AnswerExport):
    step_id: str


class StepStateExport(_Model):
    data: dict[str, Any] = Field(description="What the tovholder did on the step (anonymised).")
    updated_at: datetime


class StepExport(_Model):
    number: int = Field(description="The step's place in the flow, from 1.")
    id: str
    exercise: str
    title: str = Field(description="The step's title in the session's language.")
    off: bool
    collects_answers: bool
    answers: list[AnswerExport]
    result: dict[str, Any] = Field(description="The exercise's result model, dumped as JSON (anonymised).")
    state: StepStateExport | None


class SessionExport(_Model):
    """A whole session: the run, its team, the flow as run, the people (anonymous) and every step
    with its answers, result and state."""

    schema_version: Literal[1] = SCHEMA_VERSION
    exported_at: datetime
    run: RunExport
    team: TeamExport | None
    flow: dict[str, Any] = Field(description="The session's snapshot of its flow, as is.")
    min_group_size: int
    participants: list[ParticipantExport]
    steps: list[StepExport]
    other_answers: list[OtherAnswerExport] = Field(
        default_factory=list, description="Answers to steps the session's flow no longer has."
    )


def _answer_export(row: _Row) -> AnswerExport:
    return AnswerExport(
        participant=row.person.id,
        seq=row.answer.seq,
        payload={} if row.withheld else dict(row.answer.payload),
        answered_at=_minute(row.answer.created_at),
        withheld=row.withheld,
    )


def build_export(data: SessionData, exported_at: datetime | None = None) -> SessionExport:
    run = data.run
    by_step: dict[str, list[_Row]] = {}
    other: list[OtherAnswerExport] = []
    for row in _rows(data):
        if row.view is None:
            base = _answer_export(row)
            other.append(OtherAnswerExport(step_id=row.answer.step_id, **base.model_dump()))
        else:
            by_step.setdefault(row.answer.step_id, []).append(row)
    steps = []
    for sv in data.steps:
        state = data.states.get(sv.step.id)
        steps.append(
            StepExport(
                number=sv.index + 1,
                id=sv.step.id,
                exercise=sv.exercise.name,
                title=data.text(sv.step.title),
                off=sv.step.off,
                collects_answers=sv.exercise.collects_answers,
                answers=[_answer_export(r) for r in by_step.get(sv.step.id, [])],
                result=scrub(sv.result.model_dump(mode="json"), data.public_ids),
                state=(
                    StepStateExport(
                        data=scrub(dict(state.data), data.public_ids), updated_at=_aware(state.updated_at)
                    )
                    if state is not None
                    else None
                ),
            )
        )
    return SessionExport(
        exported_at=_aware(exported_at or utcnow()),
        run=RunExport(
            code=run.code,
            flow_name=run.flow_name,
            title=data.text(data.flow.title),
            locale=run.locale,
            status=str(run.status),
            is_demo=run.is_demo,
            created_at=_aware(run.created_at),
            started_at=_aware(run.started_at) if run.started_at else None,
            closed_at=_aware(run.closed_at) if run.closed_at else None,
        ),
        team=TeamExport(name=data.team.name, units=list(data.team.units)) if data.team else None,
        flow=dict(run.flow_snapshot),
        min_group_size=data.min_group_size,
        participants=[ParticipantExport(id=p.id, unit=p.unit) for p in data.people.values()],
        steps=steps,
        other_answers=other,
    )


def export_json(data: SessionData, exported_at: datetime | None = None) -> str:
    return build_export(data, exported_at).model_dump_json(indent=2)


def schema_text() -> str:
    """The JSON Schema of SessionExport, as docs/export-schema.json holds it."""
    return json.dumps(SessionExport.model_json_schema(), indent=2, ensure_ascii=False) + "\n"


def write_schema(path: Path = SCHEMA_PATH) -> None:
    path.write_text(schema_text(), encoding="utf-8")


# --- Markdown ---------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}#|~!])")
_MD_LINE_START = re.compile(r"^(?:([-+=])|(\d+)([.)]))")


def md_lines(value: str) -> list[str]:
    """A text's lines, each safe as Markdown text: no heading, list, link, image, emphasis,
    code, table cell or HTML can come out of it. Empty lines are dropped."""
    out = _MD_SPECIAL.sub(r"\\\1", value)
    out = out.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    lines = []
    for line in out.split("\n"):
        line = line.strip()
        if not line:
            continue
        match = _MD_LINE_START.match(line)
        if match and match.group(1):  # "- ", "+ ", "= " would start a list or underline a heading
            line = "\\" + line
        elif match:  # "1. " or "1) " would start a numbered list
            line = match.group(2) + "\\" + line[len(match.group(2)) :]
        lines.append(line)
    return lines


def md(value: str) -> str:
    """A text on one line (a heading, a table cell, a short list item)."""
    return " ".join(md_lines(value))


def md_item(value: str, indent: int = 2) -> str:
    """A text as a list item's content: its line breaks kept as hard breaks."""
    return ("\\\n" + " " * indent).join(md_lines(value))


def _fenced(value: Any) -> list[str]:
    text = json.dumps(value, indent=2, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "json", text, fence]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def _t(message: str, **params: Any) -> str:
    translated = i18n.gettext(message)
    return translated % params if params else translated


def _em(text: str) -> str:
    return "*" + text + "*"


class _Md:
    """The Markdown of one step's results, from its result model dumped as JSON. Every message
    is marked with N_() outside any f-string, so the extraction finds it."""

    def __init__(self, data: SessionData, sv: StepView) -> None:
        self.data = data
        self.sv = sv
        self.r: dict[str, Any] = scrub(sv.result.model_dump(mode="json"), data.public_ids)

    def num(self, value: float | None) -> str:
        if value is None:
            return "–"
        return str(format_decimal(value, format="#,##0.##", locale=self.data.locale))

    def local(self, value: Any) -> str:
        if isinstance(value, Mapping):
            return self.data.text({str(k): str(v) for k, v in value.items()})
        return str(value)

    def render(self) -> list[str]:
        method: Callable[[], list[str]] | None = getattr(self, "ex_" + self.sv.exercise.name, None)
        if method is not None:
            try:
                return method()
            except (KeyError, TypeError, ValueError, AttributeError):
                pass  # a result not shaped as expected: show it as it is
        return _fenced(self.r)

    def none(self) -> list[str]:
        return [_em(_t(N_("No answers.")))]

    def ex_open_text(self) -> list[str]:
        cards = self.r["cards"]
        return ["- " + md_item(str(c)) for c in cards] if cards else self.none()

    def ex_word_cloud(self) -> list[str]:
        words = sorted(self.r["words"], key=lambda w: (-int(w["count"]), str(w["text"]).casefold()))
        return [f"- {md(str(w['text']))} ({int(w['count'])})" for w in words] if words else self.none()

    def ex_scale(self) -> list[str]:
        r, settings = self.r, self.sv.step.settings
        if not r["count"]:
            return self.none()
        median = _t(N_("Median: %(value)s"), value=self.num(r["median"]))
        mean = _t(N_("Mean: %(value)s"), value=self.num(r["mean"]))
        lines = [median + " · " + mean, ""]
        points = int(r["points"])
        for value, count in enumerate(r["counts"], 1):
            end = settings.get("low") if value == 1 else settings.get("high") if value == points else None
            label = f"{value} ({md(self.local(end))})" if end else str(value)
            lines.append(f"- {label}: {int(count)}")
        return lines

    def ex_survey(self) -> list[str]:
        r = self.r
        if not r["count"]:
            return self.none()
        units = [str(u) for u in r.get("unit_columns") or []]
        header = [_t(N_("Item")), _t(N_("Answers")), _t(N_("Median")), _t(N_("Mean"))]
        header += [md(u) for u in units]
        if r.get("has_other"):
            header.append(_t(N_("Other units")))
        if r.get("has_earlier"):
            header.append(_t(N_("Change")))
        rows = []
        for item in r["items"]:
            row = [md(self.local(item["text"])), str(int(item["count"])), self.num(item["median"])]
            row.append(self.num(item["mean"]))
            row += [self.num((item.get("unit_medians") or {}).get(u)) for u in units]
            if r.get("has_other"):
                row.append(self.num(item.get("other_median")))
            if r.get("has_earlier"):
                change = item.get("change")
                row.append(("+" if change and change > 0 else "") + self.num(change))
            rows.append(row)
        lines = [_t(N_("People who answered: %(num)d"), num=int(r["count"])), "", *_table(header, rows)]
        if r.get("hidden"):
            left_out = _t(N_("Left out of the unit columns (small units): %(num)d"), num=int(r["hidden"]))
            lines += ["", _em(left_out)]
        return lines

    def ex_dot_vote(self) -> list[str]:
        if not self.r["count"]:
            return self.none()
        options = sorted(self.r["options"], key=lambda o: (int(o["place"]), -int(o["dots"])))
        header = [_t(N_("Place")), _t(N_("Option")), _t(N_("Dots")), _t(N_("People"))]
        rows = [
            [str(o["place"]), md(self.local(o["text"])), str(int(o["dots"])), str(int(o["voters"]))]
            for o in options
        ]
        voted = _t(N_("People who voted: %(num)d"), num=int(self.r["count"]))
        return [voted, "", *_table(header, rows)]

    def ex_ranking(self) -> list[str]:
        if not self.r["count"]:
            return self.none()
        options = sorted(self.r["options"], key=lambda o: (int(o["place"]), -int(o["points"])))
        header = [_t(N_("Place")), _t(N_("Option")), _t(N_("Points")), _t(N_("Mean place"))]
        rows = [
            [str(o["place"]), md(self.local(o["text"])), str(int(o["points"])), self.num(o["mean_place"])]
            for o in options
        ]
        ranked = _t(N_("People who ranked: %(num)d"), num=int(self.r["count"]))
        return [ranked, "", *_table(header, rows)]

    def ex_grouping(self) -> list[str]:
        lines: list[str] = []
        for group in self.r["groups"]:
            lines += [f"### {md(str(group['name']))} ({len(group['cards'])})", ""]
            lines += ["- " + md_item(str(c["text"])) for c in group["cards"]] or self.none()
            lines.append("")
        if self.r["ungrouped"]:
            lines += ["### " + _t(N_("Not grouped")), ""]
            lines += ["- " + md_item(str(c["text"])) for c in self.r["ungrouped"]]
            lines.append("")
        return lines[:-1] if lines else self.none()

    def ex_matrix(self) -> list[str]:
        r = self.r
        lines: list[str] = []
        if r["rows"]:
            how = _t(N_("Rows: the unit that rates. Columns: the unit it rates. Mean from 1 to 5."))
            lines += [_em(how), ""]
            header = [" ", *(md(str(u)) for u in r["units"])]
            rows = []
            for row in r["rows"]:
                cells = [f"{md(str(row['unit']))} ({int(row['people'])})"]
                cells += ["—" if c.get("own") else self.num(c.get("mean")) for c in row["cells"]]
                rows.append(cells)
            lines += _table(header, rows)
        else:
            lines.append(_em(_t(N_("No unit had enough people answering to show."))))
        if r.get("hidden_units"):
            hidden = _t(N_("Units hidden: too few people answered: %(num)d"), num=int(r["hidden_units"]))
            lines += ["", _em(hidden)]
        return lines

    def ex_statement(self) -> list[str]:
        r = self.r
        if not r["revision"]:
            return self.none()
        agree, adjust = _t(N_("Agree")), _t(N_("Adjust"))
        lines = ["> " + line for line in md_lines(str(r["text"]))]
        lines += ["", f"{agree}: {int(r['agree'])} · {adjust}: {int(r['adjust'])}"]
        if r["comments"]:
            lines.append("")
            for comment in r["comments"]:
                word = agree if comment["reaction"] == "agree" else adjust
                lines.append(f"- *{word}:* {md_item(str(comment['text']))}")
        return lines

    def ex_commitments(self) -> list[str]:
        r = self.r
        lines: list[str] = []
        if r.get("follow_up_label"):
            lines += [_t(N_("Follow-up")) + ": **" + md(str(r["follow_up_label"])) + "**", ""]
        if not r["items"]:
            return lines + self.none()
        rows = []
        for item in r["items"]:
            what = md(str(item["what"]))
            if int(item.get("count") or 1) > 1:
                what += f" (×{int(item['count'])})"
            rows.append([what, md(str(item["who"])), md(str(item.get("label") or item.get("when") or ""))])
        return lines + _table([_t(N_("What")), _t(N_("Who")), _t(N_("When"))], rows)


def _shown_in_summary(sv: StepView) -> bool:
    return sv.exercise.collects_answers and not (sv.step.off and sv.answer_count == 0)


def _prompt(step: Step, data: SessionData) -> list[str]:
    """The step's prompt as a quote, and an empty line after it; nothing without a prompt."""
    quoted = ["> " + line for line in md_lines(data.text(step.prompt))] if step.prompt else []
    return [*quoted, ""] if quoted else []


def export_markdown(data: SessionData) -> str:
    run = data.run
    when = _aware(run.started_at or run.created_at).date().isoformat()
    with i18n.use_locale(data.locale):
        facts = [
            _t(N_("Session %(code)s"), code=run.code),
            when,
            _t(N_("Participants: %(num)d"), num=len(data.people)),
        ]
        if data.team is not None:
            facts.append(_t(N_("Team: %(name)s"), name=md(data.team.name)))
        lines = ["# " + md(data.text(data.flow.title)), "", " · ".join(facts), ""]
        for sv in data.steps:
            if not _shown_in_summary(sv):
                continue
            lines += [f"## {sv.index + 1}. {md(data.text(sv.step.title))}", ""]
            lines += _prompt(sv.step, data)
            lines += [_em(_t(N_("Answers: %(num)d"), num=sv.answer_count)), ""]
            lines += _Md(data, sv).render()
            lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


# --- one entry point --------------------------------------------------------------------------------


def export(runner: Runner, run_id: int, fmt: str) -> str:
    """A session in one of FORMATS, as text (encode it as UTF-8)."""
    data = load_session(runner, run_id)
    if fmt == "csv":
        return export_csv(data)
    if fmt == "json":
        return export_json(data)
    if fmt == "md":
        return export_markdown(data)
    raise ValueError(f"unknown export format {fmt!r} (known: {', '.join(FORMATS)})")


def filename(run: Run, fmt: str) -> str:
    """`reflection-ABC123.csv`: the flow's name and the session's code."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", run.flow_name).strip("-") or "session"
    return f"{name}-{run.code}.{fmt}"


if __name__ == "__main__":
    write_schema()
