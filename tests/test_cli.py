"""The `tovholder` command as a person runs it: a real data dir, exit codes and what it prints.
The commands run in this process through the same `main()` as the entry point (tests/inprocess.py:
run_cli); `migrate` runs as a real process, from the entry point on."""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from app.auth import verify_password
from app.flows import load_flow
from exercises import build_registry
from exercises.base import StepContext
from tests.harness import PASSWORD, ROOT, cli, free_port, server_env
from tests.inprocess import InProcess, run_cli
from tests.test_flows import GOOD, line_of

REGISTRY = build_registry()
FLOW = load_flow(ROOT / "sessions" / "reflection.yaml", REGISTRY)

CTX = StepContext()


def env_for(data_dir: Path) -> dict[str, str]:
    return server_env(data_dir, free_port())


def query(data_dir: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(data_dir / "tovholder.db")) as conn:
        return conn.execute(sql, params).fetchall()


def add_user(env: dict[str, str], email: str = "t@example.org", password: str = PASSWORD) -> None:
    created = run_cli(env, "user", "add", email, "--password-stdin", stdin=password + "\n")
    assert created.returncode == 0, created.stderr


# --- flows check ----------------------------------------------------------------------------------


@pytest.mark.parametrize("strict", [False, True], ids=["plain", "strict"])
def test_flows_check_passes_on_the_shipped_flows(tmp_path: Path, strict: bool) -> None:
    result = run_cli(env_for(tmp_path), "flows", "check", *(["--strict"] if strict else []))
    assert result.returncode == 0, result.stderr
    for path in sorted((ROOT / "sessions").glob("*.yaml")):
        assert f"ok: {path} ({path.stem}:" in result.stdout
    assert "error" not in result.stderr and "warning" not in result.stderr


def test_flows_check_names_file_and_line_of_an_unknown_exercise(tmp_path: Path) -> None:
    text = GOOD.replace("exercise: scale", "exercise: poll")
    path = tmp_path / "tiny.yaml"
    path.write_text(text, encoding="utf-8")
    result = run_cli(env_for(tmp_path), "flows", "check", str(path))
    assert result.returncode != 0
    assert f"{path}:{line_of(text, 'exercise: poll')}:" in result.stderr
    assert "unknown exercise 'poll'" in result.stderr
    assert "ok:" not in result.stdout


def test_flows_check_of_a_folder_reports_the_good_and_fails_for_the_bad(tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "tiny.yaml").write_text(GOOD, encoding="utf-8")
    (folder / "broken.yaml").write_text("name: broken\n", encoding="utf-8")
    result = run_cli(env_for(tmp_path), "flows", "check", str(folder))
    assert result.returncode == 1
    assert f"ok: {folder / 'tiny.yaml'}" in result.stdout
    assert f"error: {folder / 'broken.yaml'}:" in result.stderr


def test_flows_check_with_no_flow_files_fails(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli(env_for(tmp_path), "flows", "check", str(empty))
    assert result.returncode == 1
    assert "no flow files found" in result.stderr


def test_flows_check_strict_fails_on_a_missing_translation(tmp_path: Path) -> None:
    text = GOOD.replace('      nb: "Be om en vurdering."\n', "")
    path = tmp_path / "tiny.yaml"
    path.write_text(text, encoding="utf-8")
    env = env_for(tmp_path)

    lenient = run_cli(env, "flows", "check", str(path))
    assert lenient.returncode == 0, lenient.stderr
    assert "steps[1].notes: no 'nb' text" in lenient.stderr  # a warning, and it still passes

    strict = run_cli(env, "flows", "check", "--strict", str(path))
    assert strict.returncode == 1
    assert f"warning: {path}: steps[1].notes: no 'nb' text" in strict.stderr


# --- migrate and user add ---------------------------------------------------------------------------


def test_migrate_creates_the_database_and_can_run_again(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    for _ in range(2):
        result = cli(env, "migrate")
        assert result.returncode == 0, result.stderr
        assert "database is up to date" in result.stdout
    tables = {row[0] for row in query(tmp_path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"run", "participant", "answer", "facilitator", "setup_token", "alembic_version"} <= tables


def test_user_add_with_password_stdin_creates_an_account(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    result = run_cli(
        env,
        "user",
        "add",
        "  Kari@Example.ORG ",
        "--name",
        "Kari  Nordmann",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert result.returncode == 0, result.stderr
    assert "account kari@example.org created" in result.stdout
    [(email, name, password_hash)] = query(tmp_path, "SELECT email, name, password_hash FROM facilitator")
    assert (email, name) == ("kari@example.org", "Kari Nordmann")
    assert PASSWORD not in password_hash
    assert verify_password(PASSWORD, password_hash)
    assert not verify_password(PASSWORD + "x", password_hash)


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("t@example.org", "short", "A password has at least 10 characters."),
        ("t@example.org", "", "A password has at least 10 characters."),
        ("not-an-email", PASSWORD, "Please give a valid email address."),
        ("@example.org", PASSWORD, "Please give a valid email address."),
    ],
)
def test_user_add_refuses_a_bad_account_with_exit_1(
    tmp_path: Path, email: str, password: str, message: str
) -> None:
    result = run_cli(env_for(tmp_path), "user", "add", email, "--password-stdin", stdin=password + "\n")
    assert result.returncode == 1
    assert message in result.stderr
    assert query(tmp_path, "SELECT count(*) FROM facilitator") == [(0,)]


def test_user_add_refuses_an_email_that_has_an_account(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    add_user(env)
    again = run_cli(env, "user", "add", "T@example.org", "--password-stdin", stdin="another-password-1\n")
    assert again.returncode == 1
    assert "An account with this email exists already." in again.stderr
    assert query(tmp_path, "SELECT count(*) FROM facilitator") == [(1,)]


# --- demo ----------------------------------------------------------------------------------------------


def demo_answers(data_dir: Path, run_id: int) -> list[tuple[Any, ...]]:
    """The run's answers as (step, participant's place in the run, seq, payload)."""
    first = query(data_dir, "SELECT min(id) FROM participant WHERE run_id = ?", run_id)[0][0]
    return [
        (step, pid - first, seq, json.loads(payload))
        for step, pid, seq, payload in query(
            data_dir,
            "SELECT step_id, participant_id, seq, payload FROM answer WHERE run_id = ? ORDER BY id",
            run_id,
        )
    ]


def test_demo_makes_a_closed_run_with_answers_that_its_results_page_shows(tmp_path: Path) -> None:
    port = free_port()
    env = server_env(tmp_path, port)
    add_user(env)
    result = run_cli(env, "demo", "--flow", "reflection", "--participants", "30", "--seed", "1")
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"\d+\n", result.stdout), repr(result.stdout)
    run_id = int(result.stdout)

    [(status, is_demo, owner, flow_name)] = query(
        tmp_path, "SELECT status, is_demo, facilitator_id, flow_name FROM run WHERE id = ?", run_id
    )
    assert (status, is_demo, flow_name) == ("closed", 1, "reflection")
    assert owner == query(tmp_path, "SELECT id FROM facilitator")[0][0]
    assert query(tmp_path, "SELECT count(*) FROM participant WHERE run_id = ?", run_id) == [(30,)]

    answers = demo_answers(tmp_path, run_id)
    answered = {place for _, place, _, _ in answers}
    assert 25 <= len(answered) <= 30, "about everyone answers something; a few skip a step"
    for s in FLOW.steps:
        exercise = REGISTRY[s.exercise]
        settings = exercise.settings(s.settings)
        mine = [a for a in answers if a[0] == s.id]
        if not exercise.collects_answers:
            assert mine == []
            continue
        assert mine, f"no demo answers for {s.id}"
        per_person: dict[int, list[int]] = {}
        for _, place, seq, payload in mine:
            exercise.load_answer(payload)  # each is a valid stored answer
            per_person.setdefault(place, []).append(seq)
        for seqs in per_person.values():
            assert seqs == list(range(1, len(seqs) + 1))
            assert len(seqs) <= exercise.max_answers(settings, CTX)

    server = InProcess(tmp_path, url=f"http://127.0.0.1:{port}").start()  # the app on the demo's data
    try:
        tov = server.login()
        page = tov.get(f"/runs/{run_id}/results")
        assert page.status_code == 200
        assert "30 participants" in page.text
        cards = [p["text"] for _, _, _, p in answers if "text" in p]
        assert cards
        for card in cards:
            assert str(escape(card)) in page.text, card
        tov.close()
    finally:
        server.stop()


def test_demo_with_the_same_seed_repeats_its_answers(tmp_path: Path) -> None:
    runs = []
    for name in ("one", "two"):
        data_dir = tmp_path / name
        result = run_cli(
            env_for(data_dir), "demo", "--flow", "reflection", "--participants", "12", "--seed", "7"
        )
        assert result.returncode == 0, result.stderr
        runs.append(demo_answers(data_dir, int(result.stdout)))
    assert runs[0] == runs[1]
    assert runs[0]


def test_demo_without_an_account_makes_a_run_without_owner(tmp_path: Path) -> None:
    result = run_cli(env_for(tmp_path), "demo", "--flow", "reflection", "--participants", "3", "--seed", "2")
    assert result.returncode == 0, result.stderr
    assert query(tmp_path, "SELECT facilitator_id FROM run") == [(None,)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--flow", "nope"],
            "no flow named 'nope' (there are: alliance, alliance-context, check-in, coordination-1",
        ),
        (["--flow", "reflection", "--participants", "0"], "--participants is from 1 to 200"),
        (["--flow", "reflection", "--participants", "201"], "--participants is from 1 to 200"),
        (["--flow", "reflection", "--locale", "fi"], "has no 'fi' texts"),
        (
            ["--flow", "reflection", "--owner", "nobody@example.org"],
            "no account with the email nobody@example.org",
        ),
    ],
    ids=["unknown-flow", "no-participants", "too-many", "unknown-locale", "unknown-owner"],
)
def test_demo_refuses_bad_arguments_with_exit_1_and_makes_no_run(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = run_cli(env_for(tmp_path), "demo", *args)
    assert result.returncode == 1
    assert message in result.stderr
    assert result.stdout == ""
    assert query(tmp_path, "SELECT count(*) FROM run") == [(0,)]
