"""The runner against a real, migrated SQLite file: moves, compare-and-set, answers stored once,
caps held by the database under concurrent threads, and notify() only after the commit."""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from app.config import Settings
from app.db import make_engine
from app.flows import Flow, load_flow, validate_flow
from app.models import Answer, RunStatus
from app.runner import (
    CODE_ALPHABET,
    CODE_LENGTH,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Refusal,
    Runner,
    Sent,
    Stored,
)
from exercises import build_registry
from exercises.open_text import OpenTextAnswer
from exercises.scale import ScaleAnswer
from tests.databases import Templates
from tests.harness import ROOT

REGISTRY = build_registry()
LOOK_ALIKES = set("B8O0QI1LS5Z2G6V")


def text(en: str) -> dict[str, str]:
    return {"en": en, "nb": en + " (nb)"}


def step(id: str, exercise: str, **extra: Any) -> dict[str, Any]:
    return {"id": id, "exercise": exercise, "minutes": 5, "title": text(id), "notes": text("notes"), **extra}


FLOW_DATA: dict[str, Any] = {
    "name": "tiny",
    "title": text("Tiny"),
    "purpose": text("For tests"),
    "duration_minutes": 25,
    "source": "tests",
    "licence": "CC0",
    "default_locale": "en",
    "locales": ["en", "nb"],
    "steps": [
        step("intro", "talk"),
        step("cards", "open_text", hide_results=True, settings={"max_cards": 3, "max_length": 50}),
        step("rate", "scale", settings={"points": 5, "low": text("low"), "high": text("high")}),
        step("words", "word_cloud", settings={"max_words": 2}),
        step("end", "talk"),
    ],
}
CARDS, RATE, WORDS, LAST = 1, 2, 3, 4


@dataclass
class Notice:
    run_id: int
    what: str
    version: int
    status: str
    step_index: int
    revealed: bool
    participants: int
    answers: int


class RecordingNotifier:
    """Records each notify() with what a separate connection sees in the database at that moment:
    a plain reader on the WAL file sees committed data only, so a notify() before the commit
    would record the state before the change."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.notices: list[Notice] = []
        self._lock = threading.Lock()

    def notify(self, run_id: int, what: str, run: object = None) -> None:
        with sqlite3.connect(self.db_path, timeout=5) as conn:
            version, status, step_index, revealed = conn.execute(
                "SELECT version, status, step_index, revealed FROM run WHERE id = ?", (run_id,)
            ).fetchone()
            (participants,) = conn.execute(
                "SELECT count(*) FROM participant WHERE run_id = ?", (run_id,)
            ).fetchone()
            (answers,) = conn.execute("SELECT count(*) FROM answer WHERE run_id = ?", (run_id,)).fetchone()
        conn.close()
        with self._lock:
            self.notices.append(
                Notice(run_id, what, version, status, step_index, bool(revealed), participants, answers)
            )

    @property
    def last(self) -> Notice:
        assert self.notices, "notify() was not called"
        return self.notices[-1]


@pytest.fixture
def flow() -> Flow:
    return validate_flow(FLOW_DATA, REGISTRY)


@pytest.fixture
def db_path(migrated_settings: Settings) -> Path:
    return migrated_settings.data_dir / "tovholder.db"


@pytest.fixture
def notifier(db_path: Path) -> RecordingNotifier:
    return RecordingNotifier(db_path)


@pytest.fixture
def runner(migrated_engine: Engine, flow: Flow, notifier: RecordingNotifier) -> Runner:
    return Runner(migrated_engine, {"tiny": flow}, REGISTRY, notifier)


def rows(db_path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db_path) as conn:
        result = conn.execute(sql, params).fetchall()
    conn.close()
    return result


def count(db_path: Path, table: str) -> int:
    return int(rows(db_path, f"SELECT count(*) FROM {table}")[0][0])  # noqa: S608 (a fixed table name)


def key() -> str:
    return secrets.token_urlsafe(16)


def started(runner: Runner, to_step: int = 0) -> int:
    """A run moved into step `to_step`."""
    run = runner.create_run("tiny", "en", None)
    assert run.id is not None
    for _ in range(to_step + 1):
        runner.move(run.id, +1)
    assert runner.get_run(run.id).step_index == to_step
    return run.id


def joined(runner: Runner, run_id: int) -> str:
    return runner.join(runner.get_run(run_id).code).token


# --- the schema -----------------------------------------------------------------------------------


def test_the_migrations_build_exactly_the_tables_of_the_models(migrated_engine: Engine) -> None:
    """models.py promises a migration for every change: the migrated file matches the models."""
    import app.models  # noqa: F401  (registers every table on the metadata)

    with migrated_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


# --- creating a run ------------------------------------------------------------------------------


def test_create_run_snapshots_the_flow(
    migrated_engine: Engine, flow: Flow, notifier: RecordingNotifier
) -> None:
    flows = {"tiny": flow}
    runner = Runner(migrated_engine, flows, REGISTRY, notifier)
    expected = flow.model_dump(mode="json")
    run = runner.create_run("tiny", "en", None)
    assert run.id is not None

    # Edit the loaded flow object and swap the flow in the dict the runner was given.
    flow.steps.pop()
    flows["tiny"] = validate_flow(
        {**FLOW_DATA, "title": text("Changed"), "steps": FLOW_DATA["steps"][:1], "duration_minutes": 5},
        REGISTRY,
    )
    # A fresh runner (no cache) with a different flows dict still sees the run's own flow.
    other = Runner(migrated_engine, {"tiny": flows["tiny"]}, REGISTRY, notifier)
    stored = other.get_run(run.id)
    assert stored.flow_snapshot == expected
    assert other.flow_of(stored).model_dump(mode="json") == expected
    assert len(other.run_view(run.id).flow.steps) == len(FLOW_DATA["steps"])
    assert runner.flow_of(runner.get_run(run.id)).model_dump(mode="json") == expected


def test_create_run_of_an_unknown_flow_is_not_found(runner: Runner) -> None:
    with pytest.raises(NotFound):
        runner.create_run("nope", "en", None)


def test_create_run_in_a_language_the_flow_lacks_uses_its_default(runner: Runner) -> None:
    assert runner.create_run("tiny", "sv", None).locale == "en"
    assert runner.create_run("tiny", "nb", None).locale == "nb"


def test_join_codes_are_six_characters_without_look_alikes(runner: Runner) -> None:
    assert not LOOK_ALIKES & set(CODE_ALPHABET)
    codes = [runner.create_run("tiny", "en", None).code for _ in range(60)]
    for code in codes:
        assert len(code) == CODE_LENGTH == 6
        assert set(code) <= set(CODE_ALPHABET), code
    assert len(set(codes)) == len(codes)


def test_a_new_run_waits_in_the_lobby(runner: Runner) -> None:
    run = runner.create_run("tiny", "en", None)
    assert (run.status, run.version, run.started_at) == (RunStatus.lobby, 1, None)


# --- moving --------------------------------------------------------------------------------------


def test_move_from_lobby_to_the_first_step_and_back(runner: Runner, notifier: RecordingNotifier) -> None:
    run = runner.create_run("tiny", "en", None)
    assert run.id is not None
    first = runner.move(run.id, +1)
    assert (first.status, first.step_index, first.version) == (RunStatus.live, 0, 2)
    assert first.started_at is not None
    back = runner.move(run.id, -1)
    assert (back.status, back.version) == (RunStatus.lobby, 3)
    assert back.started_at == first.started_at
    assert [n.what for n in notifier.notices] == ["step", "step"]


def test_back_in_the_lobby_stays_in_the_lobby_without_a_change(
    runner: Runner, notifier: RecordingNotifier
) -> None:
    run = runner.create_run("tiny", "en", None)
    assert run.id is not None
    same = runner.move(run.id, -1)
    assert (same.status, same.version) == (RunStatus.lobby, run.version)
    assert notifier.notices == []


def test_move_clamps_at_the_last_step(runner: Runner, notifier: RecordingNotifier) -> None:
    run_id = started(runner, LAST)
    version = runner.get_run(run_id).version
    notified = len(notifier.notices)
    run = runner.move(run_id, +1)
    assert (run.step_index, run.version) == (LAST, version)
    assert len(notifier.notices) == notified


def test_move_by_more_than_one_clamps_to_the_ends(runner: Runner) -> None:
    run = runner.create_run("tiny", "en", None)
    assert run.id is not None
    assert runner.move(run.id, +99).step_index == LAST
    assert runner.move(run.id, -99).status == RunStatus.lobby


def test_two_moves_with_the_same_version_advance_exactly_one_step(runner: Runner) -> None:
    run = runner.create_run("tiny", "en", None)
    assert run.id is not None
    runner.move(run.id, +1)
    version = runner.get_run(run.id).version
    moved = runner.move(run.id, +1, expected_version=version)
    assert moved.step_index == 1
    with pytest.raises(Conflict):
        runner.move(run.id, +1, expected_version=version)
    now = runner.get_run(run.id)
    assert (now.step_index, now.version) == (1, version + 1)


def test_eight_tabs_pressing_next_at_once_advance_exactly_one_step(runner: Runner) -> None:
    run_id = started(runner, 0)
    version = runner.get_run(run_id).version
    outcomes = in_threads(8, lambda _: runner.move(run_id, +1, expected_version=version))
    assert sum(1 for o in outcomes if not isinstance(o, BaseException)) == 1
    assert all(isinstance(o, Conflict) for o in outcomes if isinstance(o, BaseException)), outcomes
    now = runner.get_run(run_id)
    assert (now.step_index, now.version) == (1, version + 1)


def test_a_step_with_hidden_results_starts_hidden_and_the_others_revealed(runner: Runner) -> None:
    run = runner.create_run("tiny", "en", None)
    assert run.id is not None
    assert runner.move(run.id, +1).revealed is True  # intro
    assert runner.move(run.id, +1).revealed is False  # cards: hide_results
    revealed = runner.set_revealed(run.id, True)
    assert revealed.revealed is True
    assert runner.move(run.id, +1).revealed is True  # rate
    assert runner.move(run.id, -1).revealed is False  # back into cards: hidden again


def test_moving_a_closed_run_is_a_conflict(runner: Runner) -> None:
    run_id = started(runner, 0)
    runner.close(run_id)
    with pytest.raises(Conflict):
        runner.move(run_id, +1)


def test_closing_twice_changes_nothing_the_second_time(runner: Runner, notifier: RecordingNotifier) -> None:
    run_id = started(runner, 0)
    closed = runner.close(run_id)
    assert closed.status == RunStatus.closed and closed.closed_at is not None
    again = runner.close(run_id)
    assert again.version == closed.version
    assert [n.what for n in notifier.notices].count("step") == 2  # the move and the first close


def test_moving_an_unknown_run_is_not_found(runner: Runner) -> None:
    with pytest.raises(NotFound):
        runner.move(12345, +1)


@pytest.mark.parametrize("seconds", [0, -5, 4 * 3600 + 1])
def test_timer_out_of_range_is_refused(runner: Runner, seconds: int) -> None:
    run_id = started(runner, 0)
    with pytest.raises(InvalidInput):
        runner.set_timer(run_id, seconds)


def test_timer_is_set_and_cleared(runner: Runner, notifier: RecordingNotifier) -> None:
    run_id = started(runner, 0)
    assert runner.set_timer(run_id, 60).timer_ends_at is not None
    assert runner.set_timer(run_id, None).timer_ends_at is None
    assert [n.what for n in notifier.notices][-2:] == ["timer", "timer"]


# --- joining --------------------------------------------------------------------------------------


def test_join_by_code_in_any_case_and_with_spaces(runner: Runner, db_path: Path) -> None:
    run = runner.create_run("tiny", "en", None)
    typed = " ".join(run.code.lower())
    participant = runner.join(typed, "  Åse  ")
    assert participant.run_id == run.id
    assert participant.display_name == "Åse"
    assert count(db_path, "participant") == 1


def test_join_with_a_name_over_forty_characters_is_refused(runner: Runner, db_path: Path) -> None:
    run = runner.create_run("tiny", "en", None)
    with pytest.raises(InvalidInput):
        runner.join(run.code, "x" * 41)
    assert count(db_path, "participant") == 0


def test_join_with_a_blank_name_is_anonymous(runner: Runner) -> None:
    run = runner.create_run("tiny", "en", None)
    assert runner.join(run.code, " \u200b ").display_name is None


def test_join_with_a_wrong_code_is_not_found(runner: Runner, db_path: Path) -> None:
    runner.create_run("tiny", "en", None)
    for wrong in ("XXXXXX", "", "!!!"):
        with pytest.raises(NotFound):
            runner.join(wrong)
    assert count(db_path, "participant") == 0


def test_joining_a_closed_run_is_a_conflict(runner: Runner, db_path: Path) -> None:
    run = runner.create_run("tiny", "en", None)
    assert run.id is not None
    runner.close(run.id)
    with pytest.raises(Conflict):
        runner.join(run.code)
    assert count(db_path, "participant") == 0


# --- answers --------------------------------------------------------------------------------------


def test_answer_retry_is_stored_once(runner: Runner, db_path: Path, notifier: RecordingNotifier) -> None:
    run_id = started(runner, CARDS)
    token = joined(runner, run_id)
    k = key()
    first = runner.submit_answer(token, "cards", {"text": "We drove in pairs"}, k)
    notified = len(notifier.notices)
    again = runner.submit_answer(token, "cards", {"text": "We drove in pairs"}, k)
    assert (first.created, again.created) == (True, False)
    assert len(again.view.own_answers) == 1
    assert rows(db_path, "SELECT step_id, seq, idempotency_key FROM answer") == [("cards", 1, k)]
    assert len(notifier.notices) == notified, "a retry changes nothing, so nobody is told"


def test_a_retry_after_the_step_moved_on_is_acknowledged_not_refused(runner: Runner, db_path: Path) -> None:
    run_id = started(runner, CARDS)
    token = joined(runner, run_id)
    k = key()
    runner.submit_answer(token, "cards", {"text": "sent before the move"}, k)
    runner.move(run_id, +1)
    assert runner.submit_answer(token, "cards", {"text": "sent before the move"}, k).created is False
    assert count(db_path, "answer") == 1


def test_open_text_takes_at_most_max_cards_answers(runner: Runner, db_path: Path) -> None:
    run_id = started(runner, CARDS)
    token = joined(runner, run_id)
    for i in range(3):
        assert runner.submit_answer(token, "cards", {"text": f"card {i}"}, key()).created
    with pytest.raises(Conflict):
        runner.submit_answer(token, "cards", {"text": "one too many"}, key())
    assert rows(db_path, "SELECT seq FROM answer ORDER BY seq") == [(1,), (2,), (3,)]


def test_scale_takes_one_answer(runner: Runner, db_path: Path) -> None:
    run_id = started(runner, RATE)
    token = joined(runner, run_id)
    view = runner.submit_answer(token, "rate", {"value": "4"}, key()).view
    assert not view.can_answer
    with pytest.raises(Conflict):
        runner.submit_answer(token, "rate", {"value": "5"}, key())
    assert count(db_path, "answer") == 1


def test_the_cap_is_per_participant(runner: Runner, db_path: Path) -> None:
    run_id = started(runner, RATE)
    for _ in range(3):
        runner.submit_answer(joined(runner, run_id), "rate", {"value": "3"}, key())
    assert count(db_path, "answer") == 3


def test_answers_stored_in_bulk_keep_to_what_the_step_allows(
    runner: Runner, db_path: Path, notifier: RecordingNotifier
) -> None:
    """The demo's way in: a room's ready-made answers, numbered per person, one notify after."""
    run_id = started(runner, CARDS)
    one, two = (runner.participant(joined(runner, run_id)) for _ in range(2))
    cards = [OpenTextAnswer(text=f"card {i}") for i in range(4)]
    runner.store_answers(run_id, "cards", [(one, cards[0]), (two, cards[1]), (one, cards[2])])
    assert notifier.last.what == "tally" and notifier.last.answers == 3
    assert rows(db_path, "SELECT participant_id, seq FROM answer ORDER BY id") == [
        (one.id, 1),
        (two.id, 1),
        (one.id, 2),
    ]
    with pytest.raises(Conflict):  # three cards is what the step takes
        runner.store_answers(run_id, "cards", [(one, cards[3]), (one, cards[3])])
    with pytest.raises(Conflict):  # not the step on the screen
        runner.store_answers(run_id, "rate", [(two, ScaleAnswer(value=3))])
    assert count(db_path, "answer") == 3


def test_an_answer_to_a_step_that_is_not_current_is_a_conflict(runner: Runner, db_path: Path) -> None:
    run_id = started(runner, CARDS)
    token = joined(runner, run_id)
    with pytest.raises(Conflict):
        runner.submit_answer(token, "rate", {"value": "3"}, key())
    assert count(db_path, "answer") == 0


def test_an_answer_in_the_lobby_is_a_conflict(runner: Runner, db_path: Path) -> None:
    run = runner.create_run("tiny", "en", None)
    token = runner.join(run.code).token
    with pytest.raises(Conflict):
        runner.submit_answer(token, "cards", {"text": "too early"}, key())
    assert count(db_path, "answer") == 0


def test_an_answer_to_an_unknown_step_is_not_found(runner: Runner, db_path: Path) -> None:
    run_id = started(runner, CARDS)
    token = joined(runner, run_id)
    with pytest.raises(NotFound):
        runner.submit_answer(token, "no-such-step", {"text": "hello"}, key())
    assert count(db_path, "answer") == 0


@pytest.mark.parametrize(
    "bad_key", ["", "short", "x" * 65, "has space in it", "ümlaut-key-1234", "a/b/c/d/e/f"]
)
def test_an_answer_without_a_valid_key_is_refused(runner: Runner, db_path: Path, bad_key: str) -> None:
    run_id = started(runner, CARDS)
    token = joined(runner, run_id)
    with pytest.raises(Refusal) as caught:
        runner.submit_answer(token, "cards", {"text": "hello"}, bad_key)
    assert caught.value.status_code == 400
    assert count(db_path, "answer") == 0


@pytest.mark.parametrize("token", [None, "", "not-a-participant-token"])
def test_an_answer_from_an_unknown_participant_is_forbidden(
    runner: Runner, db_path: Path, token: str | None
) -> None:
    started(runner, CARDS)
    with pytest.raises(Forbidden):
        runner.submit_answer(token, "cards", {"text": "hello"}, key())
    assert count(db_path, "answer") == 0


def test_an_answer_after_close_is_a_conflict(runner: Runner, db_path: Path) -> None:
    run_id = started(runner, CARDS)
    token = joined(runner, run_id)
    runner.close(run_id)
    with pytest.raises(Conflict):
        runner.submit_answer(token, "cards", {"text": "too late"}, key())
    assert count(db_path, "answer") == 0


def test_an_invalid_answer_is_refused_with_the_exercise_message(runner: Runner, db_path: Path) -> None:
    run_id = started(runner, CARDS)
    token = joined(runner, run_id)
    with pytest.raises(InvalidInput) as caught:
        runner.submit_answer(token, "cards", {"text": "x" * 51}, key())
    assert caught.value.params == {"length": 51, "limit": 50}
    with pytest.raises(InvalidInput):
        runner.submit_answer(token, "cards", {"text": "   "}, key())
    assert count(db_path, "answer") == 0


def test_an_answer_to_a_talk_step_is_refused(runner: Runner, db_path: Path) -> None:
    run_id = started(runner, 0)
    token = joined(runner, run_id)
    with pytest.raises(InvalidInput):
        runner.submit_answer(token, "intro", {"text": "hello"}, key())
    assert count(db_path, "answer") == 0


def test_a_participant_of_another_run_cannot_answer_into_this_one(runner: Runner, db_path: Path) -> None:
    """A phone's token binds it to its own run: the step id is looked up in that run only."""
    mine = started(runner, CARDS)
    other = started(runner, RATE)
    token = joined(runner, mine)
    with pytest.raises(Conflict):
        runner.submit_answer(token, "rate", {"value": "3"}, key())
    assert rows(db_path, "SELECT count(*) FROM answer WHERE run_id = ?", other) == [(0,)]


def test_answers_are_stored_cleaned_and_aggregated(runner: Runner) -> None:
    run_id = started(runner, WORDS)
    for word in ("Storm", " storm\u202e ", "Calm"):
        runner.submit_answer(joined(runner, run_id), "words", {"word": word}, key())
    view = runner.run_view(run_id)
    assert view.current is not None
    assert view.current.answer_count == 3 and view.current.answered_count == 3
    assert {w.text.casefold(): w.count for w in view.current.result.words} == {"storm": 2, "calm": 1}  # type: ignore[attr-defined]


# --- notify after commit ----------------------------------------------------------------------------


def test_notify_comes_after_the_commit_of_each_change(runner: Runner, notifier: RecordingNotifier) -> None:
    run = runner.create_run("tiny", "en", None)
    assert run.id is not None
    seen = 0

    def one_notice() -> Notice:
        """The change made exactly one notify(), and it saw the change committed."""
        nonlocal seen
        new = notifier.notices[seen:]
        seen = len(notifier.notices)
        assert len(new) == 1, new
        return new[0]

    participant = runner.join(run.code)
    n = one_notice()
    assert (n.what, n.participants) == ("people", 1)

    moved = runner.move(run.id, +1)
    n = one_notice()
    assert (n.what, n.version, n.status) == ("step", moved.version, "live")

    moved = runner.move(run.id, +1)
    n = one_notice()
    assert (n.what, n.version, n.step_index, n.revealed) == ("step", moved.version, CARDS, False)

    runner.submit_answer(participant.token, "cards", {"text": "hello"}, key())
    n = one_notice()
    assert (n.what, n.answers) == ("tally", 1)

    revealed = runner.set_revealed(run.id, True)
    n = one_notice()
    assert (n.what, n.version, n.revealed) == ("reveal", revealed.version, True)

    timed = runner.set_timer(run.id, 90)
    n = one_notice()
    assert (n.what, n.version) == ("timer", timed.version)

    closed = runner.close(run.id)
    n = one_notice()
    assert (n.what, n.version, n.status) == ("step", closed.version, "closed")
    assert all(n.run_id == run.id for n in notifier.notices)


def test_a_phones_page_reads_its_session_once(runner: Runner, migrated_engine: Engine) -> None:
    """The phone's page (phone_view_in) finds the run by its code and draws the open step from
    that same read: the session's identity map holds rows weakly, so a second lookup by id
    would read the run (and its flow snapshot) again."""
    run_id = started(runner, CARDS)
    token = joined(runner, run_id)
    code = runner.get_run(run_id).code
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        seen.append(" ".join(statement.split()))

    sa.event.listen(migrated_engine, "before_cursor_execute", record)
    try:
        view = runner.phone_view_in(code, token)
    finally:
        sa.event.remove(migrated_engine, "before_cursor_execute", record)
    assert view.current is not None and view.run.id == run_id
    assert len([s for s in seen if s.startswith("SELECT") and " FROM run " in f"{s} "]) == 1, seen


def test_a_refused_change_notifies_nobody(runner: Runner, notifier: RecordingNotifier) -> None:
    run_id = started(runner, CARDS)
    token = joined(runner, run_id)
    version = runner.get_run(run_id).version
    before = len(notifier.notices)
    with pytest.raises(Conflict):
        runner.move(run_id, +1, expected_version=version - 1)
    with pytest.raises(InvalidInput):
        runner.submit_answer(token, "cards", {"text": ""}, key())
    with pytest.raises(NotFound):
        runner.submit_answer(token, "nope", {"text": "x"}, key())
    assert len(notifier.notices) == before


# --- concurrency: threads on a real database -------------------------------------------------------
# SQLite (the default) serialises writers with BEGIN IMMEDIATE; PostgreSQL lets the threads race
# into the unique constraints, which is where the runner's IntegrityError path is tested.


@dataclass
class Racing:
    runner: Runner
    engine: Engine

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params).all()]


class QuietNotifier:
    def notify(self, run_id: int, what: str, run: object = None) -> None:
        pass


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def racing(
    request: pytest.FixtureRequest, templates: Templates, tmp_path: Path, flow: Flow
) -> Iterator[Racing]:
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(templates.copy(request.param, tmp_path, account=False))
        settings = Settings(_env_file=None, data_dir=tmp_path, database_url=url)  # type: ignore[call-arg]
        engine = make_engine(settings.resolved_database_url)
        stack.callback(engine.dispose)
        yield Racing(Runner(engine, {"tiny": flow}, REGISTRY, QuietNotifier()), engine)


def in_threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(i) in n threads released together; each outcome is a result or the exception."""
    barrier = threading.Barrier(n)

    def go(i: int) -> Any:
        barrier.wait()
        try:
            return work(i)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(go, range(n)))


@pytest.mark.parametrize("attempt", range(5))
def test_the_same_key_from_eight_threads_is_stored_once(racing: Racing, attempt: int) -> None:
    runner = racing.runner
    run_id = started(runner, CARDS)
    token = joined(runner, run_id)
    k = key()
    outcomes = in_threads(8, lambda i: runner.submit_answer(token, "cards", {"text": f"try {i}"}, k))
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert errors == []
    assert sorted(o.created for o in outcomes) == [False] * 7 + [True]
    assert racing.rows("SELECT count(*), count(DISTINCT idempotency_key) FROM answer") == [(1, 1)]


@pytest.mark.parametrize("attempt", range(3))
def test_eight_tabs_moving_onto_a_step_that_keeps_its_opening_state_store_it_once(
    racing: Racing, attempt: int
) -> None:
    """The groups step keeps the split it opened with, stored in the move's own transaction: of
    eight tabs pressing Next at once, one moves and stores it, the others are told the session
    moved on, and nothing of theirs is stored."""
    steps = [step("intro", "talk"), step("split", "groups"), step("end", "talk")]
    data = {**FLOW_DATA, "name": "split", "duration_minutes": 15, "steps": steps}
    runner = Runner(racing.engine, {"split": validate_flow(data, REGISTRY)}, REGISTRY, QuietNotifier())
    run = runner.create_run("split", "en", None)
    assert run.id is not None
    for _ in range(6):
        runner.join(run.code)
    version = runner.move(run.id, +1).version
    run_id = run.id
    outcomes = in_threads(8, lambda _: runner.move(run_id, +1, expected_version=version))
    assert sum(1 for o in outcomes if not isinstance(o, BaseException)) == 1, outcomes
    assert all(isinstance(o, Conflict) for o in outcomes if isinstance(o, BaseException)), outcomes
    assert racing.rows("SELECT count(*) FROM step_state WHERE step_id = 'split'") == [(1,)]
    now = runner.get_run(run_id)
    assert (now.step_index, now.version) == (1, version + 1)


@pytest.mark.parametrize("attempt", range(5))
def test_eight_different_keys_at_once_for_three_cards_store_exactly_three(
    racing: Racing, attempt: int
) -> None:
    runner = racing.runner
    run_id = started(runner, CARDS)
    token = joined(runner, run_id)
    outcomes = in_threads(8, lambda i: runner.submit_answer(token, "cards", {"text": f"card {i}"}, key()))
    stored = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert all(o.created for o in stored)
    assert len(stored) == 3, "a lost race for a place takes the next place, while there is one"
    assert all(isinstance(e, Conflict) for e in refused), refused
    assert racing.rows("SELECT seq FROM answer ORDER BY seq") == [(1,), (2,), (3,)]


def test_many_phones_answering_at_once_are_all_stored(racing: Racing) -> None:
    runner = racing.runner
    run_id = started(runner, RATE)
    tokens = [joined(runner, run_id) for _ in range(16)]
    outcomes = in_threads(
        16, lambda i: runner.submit_answer(tokens[i], "rate", {"value": str(i % 5 + 1)}, key())
    )
    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    assert racing.rows("SELECT count(*) FROM answer") == [(16,)]
    view = runner.run_view(run_id)
    assert view.current is not None
    assert view.current.result.counts == [4, 3, 3, 3, 3]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("seq", "same_key"), [(1, False), (2, True)], ids=["same-place", "same-key"])
def test_the_migrated_schema_itself_refuses_a_duplicate_answer(
    runner: Runner, db_path: Path, seq: int, same_key: bool
) -> None:
    """The guards the runner relies on under a race are in the database, not only in Python."""
    run_id = started(runner, CARDS)
    token = joined(runner, run_id)
    k = key()
    runner.submit_answer(token, "cards", {"text": "first"}, k)
    (participant_id,) = rows(db_path, "SELECT id FROM participant")[0]
    with sqlite3.connect(db_path) as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO answer (run_id, participant_id, step_id, seq, idempotency_key, payload, created_at)"
            " VALUES (?, ?, 'cards', ?, ?, '{}', '2024-01-01 00:00:00')",
            (run_id, participant_id, seq, k if same_key else key()),
        )
    conn.close()
    assert count(db_path, "answer") == 1


# --- the shipped flow through the runner ---------------------------------------------------------------


def test_the_shipped_reflection_flow_runs_from_lobby_to_close(
    migrated_engine: Engine, notifier: RecordingNotifier, db_path: Path
) -> None:
    """Every step in turn; the steps with a one-field answer get one (tests/test_flows_live.py
    answers every kind of step through the phones' real forms)."""
    flow = load_flow(ROOT / "sessions" / "reflection.yaml", REGISTRY)
    runner = Runner(migrated_engine, {"reflection": flow}, REGISTRY, notifier)
    run = runner.create_run("reflection", "nb", None)
    assert run.id is not None
    token = runner.join(run.code).token
    simple = {"open_text": "text", "word_cloud": "word", "scale": "value"}
    answered = [s.id for s in flow.steps if s.exercise in simple]
    assert len(answered) >= 5
    for index, s in enumerate(flow.steps):
        moved = runner.move(run.id, +1)
        assert (moved.step_index, moved.revealed) == (index, not s.hide_results)
        if s.id in answered:
            runner.submit_answer(token, s.id, {simple[s.exercise]: "3"}, key())
    runner.close(run.id)
    assert count(db_path, "answer") == len(answered)
    _, _, views = runner.step_results(run.id)
    assert [v.answer_count for v in views] == [1 if s.id in answered else 0 for s in flow.steps]


# --- a burst of answers in one transaction ---------------------------------------------------------


def test_a_burst_stores_each_answer_once_and_refuses_each_on_its_own(
    runner: Runner, db_path: Path, notifier: RecordingNotifier
) -> None:
    run_id = started(runner, RATE)
    tokens = [joined(runner, run_id) for _ in range(4)]
    keys = [key() for _ in tokens]
    before = runner.submit_answer(tokens[3], "rate", {"value": "2"}, keys[3])  # sent before, over HTTP
    assert before.created
    burst = [
        Sent(tokens[0], "rate", {"value": "4"}, keys[0]),
        Sent(tokens[0], "rate", {"value": "4"}, keys[0]),  # the same answer resent
        Sent(tokens[1], "rate", {"value": "99"}, keys[1]),  # out of range
        Sent(tokens[2], "cards", {"text": "late"}, keys[2]),  # not the step on the screen
        Sent(tokens[3], "rate", {"value": "2"}, keys[3]),  # stored before
        Sent(tokens[1], "rate", {"value": "5"}, key()),  # one answer, and this one is it
        Sent(tokens[0], "rate", {"value": "1"}, key()),  # a second answer to a one-answer step
        Sent("nobody", "rate", {"value": "1"}, key()),
        Sent(tokens[2], "rate", {"value": "1"}, "short"),
    ]
    out = runner.store_burst(burst)
    version = runner.get_run(run_id).version
    assert out[0] == Stored(created=True, version=version)
    assert out[1] == Stored(created=False, version=version)
    assert isinstance(out[2], InvalidInput)
    assert isinstance(out[3], Conflict)
    assert out[4] == Stored(created=False, version=version)
    assert out[5] == Stored(created=True, version=version)
    assert isinstance(out[6], Conflict)
    assert isinstance(out[7], Forbidden)
    assert type(out[8]) is Refusal
    assert sorted(rows(db_path, "SELECT idempotency_key, seq FROM answer")) == sorted(
        [(keys[0], 1), (keys[3], 1), (burst[5].key, 1)]
    )
    assert notifier.last.what == "tally" and notifier.last.answers == 3


def test_a_burst_whose_commit_fails_stores_each_answer_on_its_own(
    runner: Runner, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The commit of a burst meets a row that breaks a unique key (on PostgreSQL, a twin stored by
    another process meanwhile): nothing of the burst stays, and each answer is stored on its own."""
    run_id = started(runner, CARDS)
    tokens = [joined(runner, run_id) for _ in range(3)]
    keys = [key() for _ in tokens]
    real = runner._burst
    twin = runner.participant(tokens[1])

    def clashing(db: Any, *args: Any) -> list[dict[str, Any]]:
        rows = real(db, *args)
        db.add(
            Answer(
                run_id=run_id,
                participant_id=twin.id,
                step_id="cards",
                seq=1,
                idempotency_key=keys[1],
                payload={},
            )
        )
        return rows

    monkeypatch.setattr(runner, "_burst", clashing)
    burst = [
        Sent(t, "cards", {"text": f"card {i}"}, k) for i, (t, k) in enumerate(zip(tokens, keys, strict=True))
    ]
    out = runner.store_burst(burst)
    assert [o.created for o in out if isinstance(o, Stored)] == [True, True, True]
    assert sorted(rows(db_path, "SELECT idempotency_key FROM answer")) == sorted((k,) for k in keys)
    assert runner.store_burst(burst[:1]) == [Stored(created=False, version=runner.get_run(run_id).version)]


def test_a_burst_holds_the_cards_the_word_filter_names(runner: Runner, db_path: Path) -> None:
    run_id = started(runner, CARDS)
    runner.set_word_filter(run_id, "storm*")
    tokens = [joined(runner, run_id) for _ in range(2)]
    out = runner.store_burst(
        [
            Sent(tokens[0], "cards", {"text": "A stormy night"}, key()),
            Sent(tokens[1], "cards", {"text": "Calm"}, key()),
        ]
    )
    assert all(isinstance(o, Stored) and o.created for o in out)
    assert rows(db_path, "SELECT payload, held FROM answer ORDER BY id") == [
        ('{"text": "A stormy night"}', 1),
        ('{"text": "Calm"}', 0),
    ]


def test_the_room_is_read_only_for_a_step_whose_type_reads_it_or_whose_source_does(
    migrated_engine: Engine,
) -> None:
    """`reads_members` (exercises/base.py): a talk or open text step's context has nobody in it
    (its screens never list people, and at 2,000 phones each sync read 2,000 rows); the groups
    step has everyone; a speaking round of those groups has none itself, but its groups source
    is read with everyone, so its names are there."""
    steps = [
        step("intro", "talk"),
        step("cards", "open_text"),
        step("split", "groups"),
        step("turns", "round", settings={"speakers": "groups", "groups_from": "split", "seconds": 60}),
    ]
    data = {**FLOW_DATA, "name": "room", "duration_minutes": 20, "steps": steps}
    runner = Runner(migrated_engine, {"room": validate_flow(data, REGISTRY)}, REGISTRY, QuietNotifier())
    run = runner.create_run("room", "en", None)
    assert run.id is not None
    for name in ("Kari", "Ola", "Ingrid", "Lars", "Sigrid", "Jonas"):
        runner.join(run.code, name)
    for step_id, people in (("intro", 0), ("cards", 0), ("split", 6), ("turns", 0)):
        runner.move(run.id, +1)
        view = runner.open_step(run.id)[2]
        assert view is not None and view.step.id == step_id
        assert len(view.ctx.members) == people, step_id
    source = view.ctx.sources["split"]
    names = {m.name for g in source.result.groups for m in g.members}
    assert names == {"Kari", "Ola", "Ingrid", "Lars", "Sigrid", "Jonas"}
