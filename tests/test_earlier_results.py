"""A team's sessions see each other's results: the core-task statement from module 1 opens
module 2, and the check-in compares its pulse with the last one and shows the commitments."""

from __future__ import annotations

import secrets

from sqlalchemy.engine import Engine

from app.db import session_scope
from app.flows import load_flows
from app.models import Team
from app.runner import Runner
from app.screens import stage_html
from app.templating import make_env
from exercises import build_registry
from tests.harness import ROOT

REGISTRY = build_registry()
FLOWS = load_flows(ROOT / "sessions", REGISTRY)
STATEMENT = "Together we help every citizen live safely at home — «æøå» <b>as written</b>"


class Silent:
    def notify(self, run_id: int, what: str, run: object = None) -> None:
        pass


def goto(runner: Runner, run_id: int, step_id: str) -> None:
    flow = runner.flow_of(runner.get_run(run_id))
    target = flow.step_index(step_id)
    assert target is not None
    while runner.get_run(run_id).step_index != target or runner.get_run(run_id).status != "live":
        runner.move(run_id, +1)


def team_of(runner: Runner) -> int:
    with session_scope(runner.engine) as db:
        team = Team(name="Home care", units=["Day team", "Evening team", "Therapists"])
        db.add(team)
        db.commit()
        db.refresh(team)
        assert team.id is not None
        return team.id


def test_module_two_opens_with_the_statement_of_module_one_and_check_in_compares(
    migrated_engine: Engine,
) -> None:
    runner = Runner(migrated_engine, FLOWS, REGISTRY, Silent())
    team = team_of(runner)
    env = make_env(REGISTRY)

    # Meeting 1: the tovholder drafts the statement.
    first = runner.create_run("core-task-1", "en", None, team_id=team)
    assert first.id is not None
    goto(runner, first.id, "core-task-statement")
    runner.act(first.id, "core-task-statement", "edit", {"text": STATEMENT})
    runner.close(first.id)

    # Meeting 2, another day: its opening step shows the statement, as plain text; people rate the pulse.
    second = runner.create_run("core-task-2", "en", None, team_id=team)
    assert second.id is not None
    people = [runner.join(second.code, None, unit).token for unit in ["Day team"] * 5]
    goto(runner, second.id, "welcome")
    view = runner.run_view(second.id)
    assert view.current is not None and view.current.ctx.earlier is not None
    html = stage_html(env, view, join_url="http://x/j/A", qr_svg="")
    assert "Together we help every citizen live safely at home" in html
    assert "&lt;b&gt;as written&lt;/b&gt;" in html  # a statement is data, never markup
    pulse = FLOWS["core-task-2"].steps[FLOWS["core-task-2"].step_index("pulse") or 0]
    goto(runner, second.id, "pulse")
    for token in people:
        form = {f"item:{item['id']}": "2" for item in pulse.settings["items"]}
        runner.submit_answer(token, "pulse", form, secrets.token_urlsafe(12))
    runner.close(second.id)

    # Check-in weeks later: the pulse shows the earlier median beside today's.
    third = runner.create_run("check-in", "en", None, team_id=team)
    assert third.id is not None
    tokens = [runner.join(third.code).token for _ in range(5)]
    goto(runner, third.id, "pulse")
    check_pulse = FLOWS["check-in"].steps[FLOWS["check-in"].step_index("pulse") or 0]
    for token in tokens:
        form = {f"item:{item['id']}": "4" for item in check_pulse.settings["items"]}
        runner.submit_answer(token, "pulse", form, secrets.token_urlsafe(12))
    current = runner.run_view(third.id).current
    assert current is not None
    items = current.result.items  # type: ignore[attr-defined]
    asked_before = {item["id"] for item in pulse.settings["items"]}
    shared = [i for i in items if i.id in asked_before]
    assert shared and all(i.earlier_median == 2 and i.change == 2 for i in shared)
    # An item the core-task pulse did not ask (one from the safety pulse) has nothing to compare.
    assert all(i.earlier_median is None for i in items if i.id not in asked_before)


def test_a_session_without_a_team_sees_no_earlier_result(migrated_engine: Engine) -> None:
    runner = Runner(migrated_engine, FLOWS, REGISTRY, Silent())
    run = runner.create_run("coordination-1", "en", None)
    assert run.id is not None
    goto(runner, run.id, "core-task")
    view = runner.run_view(run.id)
    assert view.current is not None and view.current.ctx.earlier is None
