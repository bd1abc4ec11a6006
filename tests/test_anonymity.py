"""The anonymity promise through the real runner and templates: a result split by unit shows a
unit only where at least `min_group_size` (5) people answered, and the projector says why."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.flows import Flow, validate_flow
from app.house import House
from app.models import Team
from app.runner import Runner
from app.screens import stage_html
from exercises import build_registry
from tests.harness import ROOT
from tests.small_flows import small_flow, small_step

REGISTRY = build_registry()


def flow() -> Flow:
    """One step: a one-item pulse split by unit."""
    pulse = {
        "points": 5,
        "low": {"en": "Low"},
        "high": {"en": "High"},
        "by_unit": True,
        "items": [{"id": "trust", "text": {"en": "We trust each other"}}],
    }
    data = small_flow("pulse-only", small_step("pulse", "survey", settings=pulse), uses_units=True)
    return validate_flow(data, REGISTRY)


class Silent:
    def notify(self, run_id: int, what: str, run: object = None) -> None:
        pass


@pytest.fixture
def runner(migrated_engine: Engine) -> Runner:
    return Runner(migrated_engine, {"pulse-only": flow()}, REGISTRY, Silent())


def run_with(runner: Runner, sizes: dict[str, int]) -> int:
    with session_scope(runner.engine) as db:
        team = Team(name="Home care", units=list(sizes))
        db.add(team)
        db.commit()
        db.refresh(team)
    run = runner.create_run("pulse-only", "en", None, team_id=team.id)
    assert run.id is not None
    runner.move(run.id, +1)
    for unit, people in sizes.items():
        for i in range(people):
            token = runner.join(run.code, None, unit).token
            value = 5 if unit == "Day team" else 2
            runner.submit_answer(
                token, "pulse", {"item:trust": str(value if i else 3)}, secrets.token_urlsafe(12)
            )
    return run.id


def projector(runner: Runner, run_id: int, tmp_path: Path) -> str:
    from app.templating import make_env

    view = runner.run_view(run_id)
    return stage_html(make_env(REGISTRY), view, join_url="http://x/j/ABC", qr_svg="")


def test_a_unit_of_five_is_shown_and_a_unit_of_four_is_not(runner: Runner, tmp_path: Path) -> None:
    run_id = run_with(runner, {"Day team": 5, "Evening team": 4})
    result = runner.run_view(run_id).current
    assert result is not None
    item = result.result.items[0]  # type: ignore[attr-defined]
    assert set(item.unit_medians) == {"Day team"}  # 5 answered: shown
    assert item.other_median is None and item.hidden == 4  # 4 answered: left out, even merged
    html = projector(runner, run_id, tmp_path)
    assert "Day team" in html
    assert "Evening team" not in html
    assert "fewer than 5 answers" in html  # the projector says why


def test_two_small_units_together_reach_the_threshold_as_other_units(runner: Runner, tmp_path: Path) -> None:
    run_id = run_with(runner, {"Day team": 5, "Evening team": 3, "Therapists": 2})
    current = runner.run_view(run_id).current
    assert current is not None
    item = current.result.items[0]  # type: ignore[attr-defined]
    assert set(item.unit_medians) == {"Day team"}
    assert item.other_median is not None and item.other_units == 2 and item.hidden == 0
    html = projector(runner, run_id, tmp_path)
    assert "Other units" in html and "Evening team" not in html and "Therapists" not in html


def test_the_shipped_flows_split_by_unit_only_through_the_threshold() -> None:
    """Every shipped step that splits by unit uses an exercise that applies split_by_unit."""
    from app.flows import load_flows

    splitting = {"survey", "matrix"}
    for flow_ in load_flows(ROOT / "sessions", REGISTRY).values():
        for step in flow_.steps:
            if step.settings.get("by_unit"):
                assert step.exercise in splitting, f"{flow_.name}/{step.id} splits by unit"
    assert House  # the app module imports cleanly with every exercise registered
