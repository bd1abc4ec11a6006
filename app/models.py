"""The tables. Every change here comes with an Alembic migration."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class SnapshotJSON(TypeDecorator[Any]):
    """JSON whose decoding is remembered (on SQLite, where it is text): a run's flow snapshot,
    some 90 KB, comes with every load of the run and changes only when its copy is edited. The
    decoded value is shared between loads, so nobody changes it in place (nobody does: a new
    revision is a new value)."""

    impl = JSON
    cache_ok = True
    _decoded: dict[str, Any] = {}  # one memory for every column of this type

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        memory = self._decoded

        def process(value: Any) -> Any:
            if not isinstance(value, str):
                return value
            found = memory.get(value)
            if found is None:
                found = json.loads(value)
                if len(memory) >= 64:
                    memory.clear()
                memory[value] = found
            return found

        return process


def _ts(**kw: Any) -> Any:
    return Field(sa_column=Column(DateTime(timezone=True), **kw))


class Facilitator(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(index=True, unique=True, max_length=254)
    name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    created_at: datetime = _ts(nullable=False, default=utcnow)


class Login(SQLModel, table=True):
    """One login of a tovholder in one browser. The login cookie carries the token, signed; only
    its SHA-256 is kept. Logging out, a password change or `tovholder user logout-all` revoke it."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    facilitator_id: int = Field(foreign_key="facilitator.id", index=True, ondelete="CASCADE")
    created_at: datetime = _ts(nullable=False, default=utcnow)
    revoked_at: datetime | None = _ts(nullable=True)


class SetupToken(SQLModel, table=True):
    """A one-time link that creates the first account; printed on first start."""

    __tablename__ = "setup_token"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    created_at: datetime = _ts(nullable=False, default=utcnow)
    used_at: datetime | None = _ts(nullable=True)


class RunStatus(StrEnum):
    lobby = "lobby"
    live = "live"
    closed = "closed"


class Run(SQLModel, table=True):
    """One live performance of a flow by a team: what users call a session."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True, unique=True, max_length=8)
    flow_name: str = Field(max_length=80)
    flow_snapshot: dict[str, Any] = Field(sa_column=Column(SnapshotJSON, nullable=False))
    locale: str = Field(max_length=8)
    facilitator_id: int | None = Field(default=None, foreign_key="facilitator.id", index=True)
    status: RunStatus = Field(default=RunStatus.lobby, max_length=16)
    step_index: int = 0
    version: int = 1
    revealed: bool = True
    join_shown: bool = True  # the QR code and join code in a corner of the projector, on every step
    timer_ends_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts(nullable=False, default=utcnow)
    started_at: datetime | None = _ts(nullable=True)
    closed_at: datetime | None = _ts(nullable=True)
    is_demo: bool = False
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    flow_revision: int = 1  # bumped when the tovholder edits this session's copy of the flow


class Participant(SQLModel, table=True):
    """One phone in a run: an anonymous token and an optional display name."""

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True, ondelete="CASCADE")
    token: str = Field(index=True, unique=True, max_length=64)
    display_name: str | None = Field(default=None, max_length=40)
    unit: str | None = Field(default=None, max_length=80)
    # Not secret: lets a phone find itself in a list pushed to every phone (its group, its role).
    public_id: str | None = Field(default=None, max_length=16, index=True)
    joined_at: datetime = _ts(nullable=False, default=utcnow)


class Answer(SQLModel, table=True):
    """What one participant gave to one step. `seq` numbers a participant's answers to a step,
    so the database itself refuses more than the step allows."""

    __table_args__ = (
        UniqueConstraint("participant_id", "idempotency_key", name="uq_answer_key"),
        UniqueConstraint("participant_id", "step_id", "seq", name="uq_answer_seq"),
    )
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True, ondelete="CASCADE")
    participant_id: int = Field(foreign_key="participant.id", index=True, ondelete="CASCADE")
    step_id: str = Field(max_length=64, index=True)
    seq: int = 1
    idempotency_key: str = Field(max_length=64)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts(nullable=False, default=utcnow)
    # Moderation: a card the tovholder took off the screens, or one the word filter holds until
    # the tovholder shows it. Nothing is deleted: its author's phone still shows it as sent.
    hidden_at: datetime | None = _ts(nullable=True)
    held: bool = False


class WordFilter(SQLModel, table=True):
    """A tovholder's word filter in one language: an answer with one of these words or phrases
    waits for the tovholder's approval before any screen shows it."""

    __tablename__ = "word_filter"
    __table_args__ = (UniqueConstraint("facilitator_id", "locale", name="uq_word_filter"),)
    id: int | None = Field(default=None, primary_key=True)
    facilitator_id: int | None = Field(default=None, foreign_key="facilitator.id", ondelete="CASCADE")
    locale: str = Field(max_length=8)
    words: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _ts(nullable=False, default=utcnow)


class Team(SQLModel, table=True):
    """A team that runs its sessions under one name: its units, and its earlier results."""

    id: int | None = Field(default=None, primary_key=True)
    facilitator_id: int | None = Field(default=None, foreign_key="facilitator.id", index=True)
    name: str = Field(max_length=120)
    units: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts(nullable=False, default=utcnow)


class StepState(SQLModel, table=True):
    """What the tovholder did on one step of a run (groups made, a statement drafted, a timer
    paused). Written in the same transaction as the run's version bump."""

    __tablename__ = "step_state"
    __table_args__ = (UniqueConstraint("run_id", "step_id", name="uq_step_state"),)
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True, ondelete="CASCADE")
    step_id: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _ts(nullable=False, default=utcnow)


class CustomFlow(SQLModel, table=True):
    """A flow a tovholder imported as YAML; validated like the shipped ones."""

    __tablename__ = "custom_flow"
    __table_args__ = (UniqueConstraint("facilitator_id", "name", name="uq_custom_flow"),)
    id: int | None = Field(default=None, primary_key=True)
    facilitator_id: int = Field(foreign_key="facilitator.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=80)
    definition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts(nullable=False, default=utcnow)


class ResultsLink(SQLModel, table=True):
    """A read-only link to a run's results (/r/<token>). Only the token's SHA-256 is kept: the
    address is shown once, when it is made, and works until the tovholder revokes it."""

    __tablename__ = "results_link"
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="run.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(index=True, unique=True, max_length=64)
    created_at: datetime = _ts(nullable=False, default=utcnow)
    revoked_at: datetime | None = _ts(nullable=True)


class PosterCuration(SQLModel, table=True):
    """What the tovholder chose for one poster of a team (or of a session without a team): items
    hidden, moved, merged or reworded, and the language. The answers themselves never change."""

    __tablename__ = "poster_curation"
    __table_args__ = (
        UniqueConstraint("team_id", "kind", name="uq_poster_curation_team"),
        UniqueConstraint("run_id", "kind", name="uq_poster_curation_run"),
    )
    id: int | None = Field(default=None, primary_key=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True, ondelete="CASCADE")
    run_id: int | None = Field(default=None, foreign_key="run.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=16)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _ts(nullable=False, default=utcnow)
