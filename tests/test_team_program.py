"""A team's program across meetings: the check-in walks every open commitment of every earlier
session, a status change is stored with its date and shows on the team page (over HTTP and in a
real browser, axe clean) and in `tovholder team report`; a team with no sessions and a check-in
without a team say so. One real server for the module, demo sessions of one team."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.db import make_engine
from app.flows import load_flows
from app.models import Team
from app.program import Program
from app.runner import Runner
from app.views import Reader
from exercises import build_registry
from tests.harness import PASSWORD, Server
from tests.inprocess import run_cli

pytest_plugins = ["tests.browser"]

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = build_registry()
FLOWS = load_flows(ROOT / "sessions", REGISTRY)
TEAM = "Hjemmetjenesten Nord"


class _Silent:
    def notify(self, run_id: int, what: str, run: object = None) -> None:
        pass


@dataclass
class World:
    server: Server
    engine: Engine
    team_id: int
    owner: int
    runs: dict[str, int]

    @property
    def runner(self) -> Runner:
        return Runner(self.engine, FLOWS, REGISTRY, _Silent(), 5)

    @property
    def program(self) -> Program:
        return Program(self.engine, Reader(REGISTRY, 5), 5)


@pytest.fixture(scope="module")
def world(shared_sqlite_server: Server) -> Iterator[World]:
    server = shared_sqlite_server
    runs: dict[str, int] = {}
    for seed, flow in enumerate(("core-task-1", "core-task-2", "coordination-2", "check-in"), start=3):
        made = run_cli(server.env,
            "demo", "--flow", flow, "--team", TEAM, "--owner", "t@example.org", "--seed", str(seed),
            "--participants", "12",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        runs[flow] = int(made.stdout)
    engine = make_engine(f"sqlite:///{server.data_dir / 'tovholder.db'}")
    with Session(engine) as db:
        team = db.exec(select(Team).where(Team.name == TEAM)).one()
    assert team.id is not None and team.facilitator_id is not None
    try:
        yield World(server, engine, team.id, team.facilitator_id, runs)
    finally:
        engine.dispose()


def _check_in(world: World) -> tuple[int, list[str]]:
    """A new check-in of the team on its follow-up step: the run, and the keys it lists."""
    runner = world.runner
    run = runner.create_run("check-in", "en", world.owner, team_id=world.team_id)
    assert run.id is not None
    runner.move(run.id, +1)
    runner.move(run.id, +1)
    current = runner.run_view(run.id).current
    assert current is not None and current.step.id == "status"
    return run.id, [item.key for item in current.result.items]  # type: ignore[attr-defined]


def test_check_in_lists_the_open_commitments_of_every_earlier_session(world: World) -> None:
    _run_id, keys = _check_in(world)
    sessions = {int(k.split(".")[0]) for k in keys}
    assert {world.runs["core-task-2"], world.runs["coordination-2"]} <= sessions, keys
    # What the demo check-in marked done is not on the list again.
    page = world.program.page(world.team_id, world.owner, "en")
    done = {c.key for c in page.commitments if c.status == "done"}
    assert done and not done & set(keys)


def test_a_status_change_is_stored_with_its_date_and_shows_on_the_page_and_in_the_report(
    world: World,
) -> None:
    run_id, keys = _check_in(world)
    key = next(k for k in keys if k.startswith(f"{world.runs['core-task-2']}."))
    world.runner.act(run_id, "status", "mark", {"key": key, "status": "stuck", "owner": "Kari Nordmann"})
    today = datetime.now(UTC).date().isoformat()
    page = world.program.page(world.team_id, world.owner, "en")
    commitment = next(c for c in page.commitments if c.key == key)
    assert commitment.status == "stuck" and commitment.owner == "Kari Nordmann"
    assert commitment.history[-1].status == "stuck" and commitment.history[-1].at.startswith(today)
    # A bad mark is refused with a message and stores nothing.
    with pytest.raises(Exception, match="status"):
        world.runner.act(run_id, "status", "mark", {"key": key, "status": "finished"})
    assert len(
        next(
            c for c in world.program.page(world.team_id, world.owner, "en").commitments if c.key == key
        ).history
    ) == len(commitment.history)

    client = world.server.login()
    html = client.get(f"/teams/{world.team_id}").text
    assert "Kari Nordmann" in html and "stuck" in html and today in html
    assert "<svg" in html and "team-chart" in html

    made = run_cli(world.server.env, "team", "report", str(world.team_id), "--format", "json")
    assert made.returncode == 0, made.stderr
    report = json.loads(made.stdout)
    found = next(c for c in report["team_commitments"] if c["owner"] == "Kari Nordmann")
    assert found["status"] == "stuck" and found["history"][-1]["at"].startswith(today)
    assert report["pulse"] and all(p["count"] >= 5 for s in report["pulse"] for p in s["points"])
    # The same item in core-task and check-in is one line over time.
    shared = next(s for s in report["pulse"] if s["id"] == "help-across-units")
    assert len(shared["points"]) == 2
    md = run_cli(world.server.env, "team", "report", TEAM, "--format", "md")
    assert md.returncode == 0 and "Kari Nordmann" in md.stdout and "stuck" in md.stdout


def test_another_tovholders_team_is_not_found_and_a_team_without_sessions_says_so(world: World) -> None:
    from tests.databases import add_account

    add_account(
        world.server.env.get("TOVHOLDER_DATABASE_URL")
        or f"sqlite:///{world.server.data_dir / 'tovholder.db'}",
        "o@example.org",
    )
    other = world.server.login("o@example.org")
    assert other.get(f"/teams/{world.team_id}").status_code == 404
    created = other.post("/teams", data={"name": "Empty team", "units": ""})
    assert created.status_code in (200, 303)
    with Session(world.engine) as db:
        empty = db.exec(select(Team).where(Team.name == "Empty team")).one()
    html = other.get(f"/teams/{empty.id}").text
    assert "No sessions yet" in html and "No commitments yet" in html
    made = run_cli(world.server.env, "team", "report", "Empty team", "--format", "md")
    assert made.returncode == 0 and "No sessions yet" in made.stdout
    assert run_cli(world.server.env, "team", "report", "No such team").returncode == 1


def test_a_check_in_without_a_team_has_nothing_to_follow_up(world: World) -> None:
    runner = world.runner
    run = runner.create_run("check-in", "en", world.owner)
    assert run.id is not None
    runner.move(run.id, +1)
    runner.move(run.id, +1)
    current = runner.run_view(run.id).current
    assert current is not None and current.result.items == []  # type: ignore[attr-defined]


def test_the_team_page_in_a_browser_shows_the_chart_and_the_commitments_and_is_axe_clean(
    world: World, chromium: Browser
) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{world.server.url}/login")
        page.get_by_label("Email").fill("t@example.org")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(re.compile(r"/dashboard$"))
        page.get_by_role("link", name=TEAM).click()
        expect(page).to_have_url(re.compile(rf"/teams/{world.team_id}$"))
        expect(page.locator("svg.team-chart circle").first).to_be_visible()
        expect(page.get_by_role("heading", name="Commitments")).to_be_visible()
        first = world.program.page(world.team_id, world.owner, "en").commitments[0]
        expect(page.locator("table.team-commitments").first).to_contain_text(first.what[:40])
        from tests.browser import axe_violations

        assert axe_violations(page) == []
    finally:
        context.close()


def test_the_phones_mark_the_commitments_too_where_the_step_says_so(world: World) -> None:
    import secrets

    runner = world.runner
    run = runner.create_run("check-in", "en", world.owner, team_id=world.team_id)
    assert run.id is not None
    phone = runner.add_participant(run, None, None)
    runner.move(run.id, +1)
    runner.move(run.id, +1)
    current = runner.run_view(run.id).current
    assert current is not None and current.takes_answers
    key = current.result.items[0].key  # type: ignore[attr-defined]
    runner.submit_answer(phone.token, "status", {f"status:{key}": "done"}, secrets.token_urlsafe(12))
    current = runner.run_view(run.id).current
    assert current is not None
    item = current.result.items[0]  # type: ignore[attr-defined]
    assert item.votes == {"done": 1} and item.status != "done"  # the tovholder's mark is what counts
    with pytest.raises(Exception, match="at least one"):
        runner.submit_answer(phone.token, "status", {"status:nothing": "done"}, secrets.token_urlsafe(12))
