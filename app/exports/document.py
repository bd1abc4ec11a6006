"""The JSON export: the whole session as `SessionExport` (schema in docs/export-schema.json;
regenerate it with `uv run python -m app.exports`)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.config import ROOT
from app.exports.session import Row, SessionData, aware, minute, rows, scrub
from app.models import utcnow

SCHEMA_VERSION: Literal[1] = 1
SCHEMA_PATH = ROOT / "docs" / "export-schema.json"


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
    hidden: int = Field(
        default=0,
        description="Answers the tovholder hid, or the word filter held: left out of answers and result.",
    )
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


def _answer_export(row: Row) -> AnswerExport:
    return AnswerExport(
        participant=row.person.id,
        seq=row.answer.seq,
        payload={} if row.withheld else dict(row.answer.payload),
        answered_at=minute(row.answer.created_at),
        withheld=row.withheld,
    )


def build_export(data: SessionData, exported_at: datetime | None = None) -> SessionExport:
    run = data.run
    by_step: dict[str, list[Row]] = {}
    other: list[OtherAnswerExport] = []
    for row in rows(data):
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
                hidden=sv.hidden_count + sv.held_count,
                result=scrub(sv.result.model_dump(mode="json"), data.public_ids),
                state=(
                    StepStateExport(
                        data=scrub(dict(state.data), data.public_ids), updated_at=aware(state.updated_at)
                    )
                    if state is not None
                    else None
                ),
            )
        )
    return SessionExport(
        exported_at=aware(exported_at or utcnow()),
        run=RunExport(
            code=run.code,
            flow_name=run.flow_name,
            title=data.text(data.flow.title),
            locale=run.locale,
            status=str(run.status),
            is_demo=run.is_demo,
            created_at=aware(run.created_at),
            started_at=aware(run.started_at) if run.started_at else None,
            closed_at=aware(run.closed_at) if run.closed_at else None,
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
