"""A property-based test of a run: hypothesis drives random sequences of join, answer, resend,
next, back, reveal, timer, a step action, reconnect and restart against the runner in process,
and after every step compares the stored run, every participant's answers and every screen's
version with a simple model of a run. `make test` runs 200 sequences on SQLite and 66 on
PostgreSQL; `make fuzz` ten thousand (TOVHOLDER_FUZZ_EXAMPLES), and a third of that on PostgreSQL."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text as sql
from sqlalchemy.engine import Engine

from app.db import make_engine
from app.flows import validate_flow
from app.runner import Conflict, InvalidInput, Refusal, Runner, Sent, Stored
from app.runner.base import Silent
from app.screens import phone_html, phone_screen_for
from app.templating import make_env
from exercises import build_registry
from exercises.grouping.suggest import MAX_GROUPS
from tests.conftest import BOTH
from tests.databases import Templates, resolved_url

REGISTRY = build_registry()
ENV = make_env(REGISTRY)
EXAMPLES = int(os.environ.get("TOVHOLDER_FUZZ_EXAMPLES", "200"))


def text(en: str) -> dict[str, str]:
    return {"en": en}


def step(id: str, exercise: str, **extra: Any) -> dict[str, Any]:
    return {"id": id, "exercise": exercise, "minutes": 5, "title": text(id), "notes": text("notes"), **extra}


FLOW = validate_flow(
    {
        "name": "model",
        "title": text("Model"),
        "purpose": text("For tests"),
        "duration_minutes": 20,
        "source": "tests",
        "licence": "CC0",
        "locales": ["en"],
        "steps": [
            step("intro", "talk"),
            step("cards", "open_text", hide_results=True, settings={"max_cards": 2, "max_length": 50}),
            step("rate", "scale", settings={"points": 5, "low": text("low"), "high": text("high")}),
            step("board", "grouping", settings={"max_cards": 1}),
        ],
    },
    REGISTRY,
)
STEPS = [s.id for s in FLOW.steps]
LIMITS = {"cards": 2, "rate": 1, "board": 1}  # answers each person may give; the others take none
HIDDEN = {"cards"}


def fields(step_id: str, n: int) -> dict[str, str]:
    return {"value": str(n % 5 + 1)} if step_id == "rate" else {"text": f"answer {n}"}


@dataclass
class Model:
    """What a run should be: where it is, its version, and who gave which answers."""

    position: int = -1  # -1: the lobby
    version: int = 1
    revealed: bool = True
    groups: int = 0
    answers: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # token -> step -> keys

    def move(self, delta: int) -> bool:
        target = max(-1, min(len(STEPS) - 1, self.position + delta))
        if target == self.position:
            return False
        self.position = target
        self.revealed = target == -1 or STEPS[target] not in HIDDEN
        self.version += 1
        return True

    @property
    def current(self) -> str | None:
        return STEPS[self.position] if self.position >= 0 else None


def machine(engine: Engine) -> type[RuleBasedStateMachine]:
    class RunMachine(RuleBasedStateMachine):
        people = Bundle("people")
        sent = Bundle("sent")

        def __init__(self) -> None:
            super().__init__()
            self.runner = Runner(engine, {"model": FLOW}, REGISTRY, Silent())
            run = self.runner.create_run("model", "en", None)
            assert run.id is not None
            self.run_id, self.code = run.id, run.code
            self.model = Model()
            self.n = 0

        @rule(target=people)
        def join(self) -> str:
            token = self.runner.join(self.code).token
            self.model.answers[token] = {}
            return token

        @rule(target=sent, token=people, step_id=st.sampled_from(STEPS[1:]), via_burst=st.booleans())
        def answer(self, token: str, step_id: str, via_burst: bool) -> tuple[str, str, str, dict[str, str]]:
            self.n += 1
            key = secrets.token_urlsafe(12)
            form = fields(step_id, self.n)
            given = self.model.answers[token].setdefault(step_id, [])
            takes = self.model.current == step_id and len(given) < LIMITS[step_id]
            result = self.store(token, step_id, form, key, via_burst)
            if takes:
                assert result is True, result
                given.append(key)
            else:
                assert isinstance(result, Conflict), result
            return token, step_id, key, form

        @rule(answer=sent, via_burst=st.booleans())
        def resend(self, answer: tuple[str, str, str, dict[str, str]], via_burst: bool) -> None:
            """The same answer again, with its key: stored once, acknowledged again."""
            token, step_id, key, form = answer
            result = self.store(token, step_id, form, key, via_burst)
            if key in self.model.answers[token].get(step_id, []):
                assert result is False, result
            else:
                assert isinstance(result, Conflict), result

        def store(self, token: str, step_id: str, form: dict[str, str], key: str, via_burst: bool) -> Any:
            """True: stored now; False: stored before; else the refusal."""
            try:
                if via_burst:
                    [outcome] = self.runner.store_burst([Sent(token, step_id, form, key)])
                    if isinstance(outcome, Refusal):
                        return outcome
                    assert isinstance(outcome, Stored)
                    assert outcome.version == self.model.version
                    return outcome.created
                result = self.runner.submit_answer(token, step_id, form, key)
                assert result.view.run.version == self.model.version
                return result.created
            except Refusal as exc:
                return exc

        @rule(delta=st.sampled_from([1, -1, 2, -2]))
        def move(self, delta: int) -> None:
            self.runner.move(self.run_id, delta)
            self.model.move(delta)

        @rule()
        def stale_next(self) -> None:
            """Next from a tab that shows an older version: refused, nothing moves. (At the last
            step there is nowhere to go: nothing changes, and nothing is refused.)"""
            at_end = self.model.position == len(STEPS) - 1
            try:
                self.runner.move(self.run_id, 1, expected_version=self.model.version - 1)
            except Conflict:
                assert not at_end
                return
            assert at_end, "a stale version moved the run"

        @rule(shown=st.booleans())
        def reveal(self, shown: bool) -> None:
            self.runner.set_revealed(self.run_id, shown)
            self.model.revealed = shown
            self.model.version += 1

        @rule(seconds=st.sampled_from([None, 30, 300]))
        def timer(self, seconds: int | None) -> None:
            self.runner.set_timer(self.run_id, seconds)
            self.model.version += 1

        @rule()
        def add_group(self) -> None:
            name = f"Group {self.model.groups + 1}"
            try:
                self.runner.act(self.run_id, "board", "add_group", {"name": name})
            except (Conflict, InvalidInput) as exc:
                assert self.model.current != "board" or self.model.groups >= MAX_GROUPS, exc
                return
            assert self.model.current == "board"
            self.model.groups += 1
            self.model.version += 1

        @rule(token=people)
        def reconnect(self, token: str) -> None:
            """A phone that comes back asks for its screen: the model's step and version."""
            view = self.runner.phone_view(self.runner.participant(token))
            assert view.run.version == self.model.version
            assert self.runner.run_view(self.run_id).version == self.model.version  # projector, console
            html = phone_html(ENV, phone_screen_for(view), "en")
            assert f'data-version="{self.model.version}"' in html, html[:300]

        @rule()
        def restart(self) -> None:
            """A new process: a new runner, its connections to the database closed; nothing in memory."""
            engine.dispose()
            self.runner = Runner(engine, {"model": FLOW}, REGISTRY, Silent())

        @invariant()
        def stored_as_the_model_says(self) -> None:
            with engine.connect() as db:
                status, index, version, revealed = db.execute(
                    sql("SELECT status, step_index, version, revealed FROM run WHERE id = :r"),
                    {"r": self.run_id},
                ).one()
                rows = db.execute(
                    sql(
                        "SELECT p.token, a.step_id, a.idempotency_key FROM answer a "
                        "JOIN participant p ON p.id = a.participant_id WHERE a.run_id = :r"
                    ),
                    {"r": self.run_id},
                ).all()
            m = self.model
            assert version == m.version
            assert status == ("lobby" if m.position == -1 else "live")
            if m.position >= 0:
                assert index == m.position
            assert bool(revealed) == m.revealed
            expected = sorted(
                (t, s, k) for t, by_step in m.answers.items() for s, keys in by_step.items() for k in keys
            )
            assert sorted(tuple(r) for r in rows) == expected

    return RunMachine


@pytest.mark.parametrize("kind", BOTH)
def test_a_run_matches_its_model(kind: str, templates: Templates, tmp_path: Path) -> None:
    """On SQLite the whole count; on PostgreSQL (slower per change) a third of it."""
    with templates.copy(kind, tmp_path, account=False) as url:
        engine = make_engine(url or resolved_url(tmp_path))
        try:
            run(engine, EXAMPLES if kind == "sqlite" else max(1, EXAMPLES // 3))
        finally:
            engine.dispose()


def run(engine: Engine, examples: int) -> None:
    run_state_machine_as_test(
        machine(engine),
        settings=settings(
            max_examples=examples,
            stateful_step_count=10,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            print_blob=True,
        ),
    )
