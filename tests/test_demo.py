"""`tovholder demo` fills every shipped flow, in every language, with plausible answers."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa

from app.config import Settings
from app.demo import make_demo_run
from app.flows import load_flows
from exercises import build_registry
from exercises.base import StepContext
from tests.databases import Templates
from tests.harness import ROOT

REGISTRY = build_registry()
FLOWS = load_flows(ROOT / "sessions", REGISTRY)


@pytest.fixture(scope="module")
def settings(templates: Templates, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data = tmp_path_factory.mktemp("demo")
    templates.sqlite_copy(data, account=False)
    return Settings(_env_file=None, data_dir=data, secret_key="x" * 32)  # type: ignore[call-arg]


@pytest.mark.parametrize("flow_name", sorted(FLOWS))
def test_demo_fills_every_answering_step_of_each_flow_with_three_units(
    settings: Settings, flow_name: str
) -> None:
    flow = FLOWS[flow_name]
    for locale in flow.locales:
        run_id = make_demo_run(settings, flow_name, 12, random.Random(7), locale=locale, units=3)
        engine = sa.create_engine(settings.resolved_database_url)
        with engine.connect() as conn:
            per_step = dict(
                conn.execute(
                    sa.text("SELECT step_id, count(*) FROM answer WHERE run_id = :r GROUP BY step_id"),
                    {"r": run_id},
                ).all()
            )
            units = conn.execute(
                sa.text("SELECT count(DISTINCT unit) FROM participant WHERE run_id = :r"), {"r": run_id}
            ).scalar_one()
            status = conn.execute(sa.text("SELECT status FROM run WHERE id = :r"), {"r": run_id}).scalar_one()
        engine.dispose()
        assert status == "closed"
        assert units == 3
        for step in flow.steps:
            exercise = REGISTRY[step.exercise]
            ctx = StepContext(units=("a", "b", "c"), unit="a")
            if exercise.collects_answers and exercise.max_answers(exercise.settings(step.settings), ctx):
                assert per_step.get(step.id, 0) > 0, f"{flow_name}/{step.id} ({locale}) got no demo answers"
            elif not exercise.collects_answers:
                assert step.id not in per_step


def test_a_sample_tagged_with_a_unit_goes_only_to_that_unit() -> None:
    from app.demo import unit_samples

    samples = ["[1] Day: we see it first", "Anyone: we share", "[2] Evening: we close the day"]
    assert unit_samples(samples, 1) == ["Day: we see it first", "Anyone: we share"]
    assert unit_samples(samples, 2) == ["Anyone: we share", "Evening: we close the day"]
    assert unit_samples(samples, 0) == ["Anyone: we share"]
