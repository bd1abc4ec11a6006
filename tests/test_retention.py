"""Deleting a session removes every answer in it; sessions past the retention period go by
themselves."""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.flows import load_flows
from app.models import Run, utcnow
from app.runner import Runner
from exercises import build_registry
from tests.harness import ROOT, csrf_of, start_run
from tests.inprocess import InProcess

REGISTRY = build_registry()
FLOWS = load_flows(ROOT / "sessions", REGISTRY)


class Silent:
    def notify(self, run_id: int, what: str, run: object = None) -> None:
        pass


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()  # noqa: S608
            for t in ("run", "participant", "answer")
        }


def answered_run(runner: Runner) -> int:
    run = runner.create_run("check-in", "en", None)
    assert run.id is not None
    token = runner.join(run.code).token
    runner.move(run.id, +1)
    runner.move(run.id, +1)
    runner.move(run.id, +1)  # the progress scale (after the welcome and the follow-up of commitments)
    runner.submit_answer(token, "progress", {"value": "4"}, secrets.token_urlsafe(12))
    return run.id


def test_deleting_a_session_deletes_its_people_and_answers(migrated_engine: Engine) -> None:
    runner = Runner(migrated_engine, FLOWS, REGISTRY, Silent())
    keep, gone = answered_run(runner), answered_run(runner)
    assert counts(migrated_engine) == {"run": 2, "participant": 2, "answer": 2}
    runner.delete_run(gone)
    assert counts(migrated_engine) == {"run": 1, "participant": 1, "answer": 1}
    assert runner.get_run(keep).id == keep


def test_sessions_past_the_retention_period_are_deleted(migrated_engine: Engine) -> None:
    runner = Runner(migrated_engine, FLOWS, REGISTRY, Silent())
    old, recent = answered_run(runner), answered_run(runner)
    with session_scope(migrated_engine) as db:
        run = db.get(Run, old)
        assert run is not None
        run.closed_at = utcnow() - timedelta(days=400)
        db.add(run)
        db.commit()
    assert runner.delete_expired(365) == 1
    assert counts(migrated_engine) == {"run": 1, "participant": 1, "answer": 1}
    assert runner.get_run(recent).id == recent


def test_the_results_page_deletes_a_session_only_when_confirmed(inproc: InProcess) -> None:
    tov = inproc.login()
    run_id, _ = start_run(tov, "check-in")
    page = tov.get(f"/runs/{run_id}/results")
    token = csrf_of(page.text)
    refused = tov.post(f"/runs/{run_id}/results/delete", data={"csrf_token": token})
    assert refused.status_code == 400
    assert tov.get(f"/runs/{run_id}/results").status_code == 200
    done = tov.post(f"/runs/{run_id}/results/delete", data={"csrf_token": token, "confirm": "yes"})
    assert done.status_code == 303
    assert tov.get(f"/runs/{run_id}/results").status_code == 404
