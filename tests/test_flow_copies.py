"""A session's own copy of its flow, and flows as YAML files: export, import, edit."""

from __future__ import annotations

import re

import pytest
import yaml

from app.flow_copies import edited_copy, to_yaml
from app.flows import FlowError, load_flow, validate_flow
from exercises import build_registry
from tests.harness import ROOT, csrf_of, start_run
from tests.inprocess import InProcess

REGISTRY = build_registry()
REFLECTION = load_flow(ROOT / "sessions" / "reflection.yaml", REGISTRY)


def form_for(flow_steps: list[str], **extra: str) -> dict[str, str]:
    return {**{f"on:{sid}": "on" for sid in flow_steps}, **extra}


def test_an_edited_copy_switches_steps_off_and_changes_texts_in_the_session_language() -> None:
    ids = [s.id for s in REFLECTION.steps]
    keep = [i for i in ids if i != ids[1]]
    copy = edited_copy(
        REFLECTION,
        "nb",
        form_for(keep, **{f"title:{ids[0]}": "Velkommen, alle sammen", f"prompt:{ids[0]}": ""}),
        REGISTRY,
    )
    assert copy.steps[1].off and not copy.steps[0].off
    assert copy.steps[0].title["nb"] == "Velkommen, alle sammen"
    assert copy.steps[0].title["en"] == REFLECTION.steps[0].title["en"]  # other languages stay
    assert copy.steps[0].prompt is None or "nb" not in copy.steps[0].prompt
    assert REFLECTION.steps[1].off is False  # the shipped flow is untouched


def test_a_copy_with_every_step_off_is_refused() -> None:
    with pytest.raises(FlowError, match="at least one step"):
        edited_copy(REFLECTION, "en", {}, REGISTRY)


def test_yaml_export_round_trips_through_validation() -> None:
    again = validate_flow(yaml.safe_load(to_yaml(REFLECTION)), REGISTRY)
    assert again == REFLECTION


def test_import_edit_and_run_a_flow_over_http(inproc: InProcess) -> None:
    tov = inproc.login()
    exported = tov.get("/flows/reflection.yaml")
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/x-yaml")
    data = yaml.safe_load(exported.text)
    data["name"] = "our-reflection"
    data["title"]["en"] = "Our own reflection"
    upload = yaml.safe_dump(data, allow_unicode=True).encode()
    r = tov.post("/flows/import", files={"file": ("our-reflection.yaml", upload, "application/x-yaml")})
    assert r.status_code == 303, r.text
    dashboard = tov.get("/dashboard")
    assert "Our own reflection" in dashboard.text

    broken = upload.replace(b"exercise: word_cloud", b"exercise: quiz")
    r = tov.post("/flows/import", files={"file": ("x.yaml", broken, "application/x-yaml")})
    assert r.status_code == 422
    assert "unknown exercise" in r.text and "line" in r.text

    run_id, _ = start_run(tov, "our-reflection")
    edit = tov.get(f"/runs/{run_id}/edit")
    assert edit.status_code == 200
    ids = [s["id"] for s in data["steps"]]
    fields = {f"on:{sid}": "on" for sid in ids if sid != ids[1]}
    fields.update({"csrf_token": csrf_of(edit.text), f"title:{ids[0]}": "Hello, team"})
    r = tov.post(f"/runs/{run_id}/edit", data=fields)
    assert r.status_code == 303, r.text
    tov.post(f"/runs/{run_id}/next")  # into the first step
    console = tov.get(f"/runs/{run_id}/console")
    assert "Hello, team" in console.text
    tov.post(f"/runs/{run_id}/next")  # the second step is off: next goes to the third
    console = tov.get(f"/runs/{run_id}/console")
    assert re.search(r"Now: step 3 of", console.text), "the switched-off step was not passed by"
