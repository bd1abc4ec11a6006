"""Flows are data: the shipped ones load complete, and a broken one names its file, line and reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.flows import MAX_FLOW_BYTES, FlowError, Problem, load_flow, load_flows, missing_translations
from exercises import REGISTERED, RegistryError, build_registry
from exercises.base import AnswerInvalid, StepContext
from exercises.talk import Talk
from tests.harness import ROOT

SESSIONS = ROOT / "sessions"
SHIPPED = sorted(SESSIONS.glob("*.yaml"))
REGISTRY = build_registry()

CTX = StepContext()


# --- the shipped flows --------------------------------------------------------------------------


def test_there_are_shipped_flows() -> None:
    assert SHIPPED, f"no flow files in {SESSIONS}"


def test_shipped_flows_load_under_their_file_names() -> None:
    flows = load_flows(SESSIONS, REGISTRY)
    assert set(flows) == {p.stem for p in SHIPPED}
    for stem, flow in flows.items():
        assert flow.name == stem


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_flow_has_every_text_in_every_locale(path: Path) -> None:
    flow = load_flow(path, REGISTRY)
    assert missing_translations(flow) == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_flow_has_notes_in_every_locale_for_every_step(path: Path) -> None:
    flow = load_flow(path, REGISTRY)
    for step in flow.steps:
        for locale in flow.locales:
            assert step.notes.get(locale, "").strip(), f"step {step.id} has no {locale!r} notes"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_flow_step_minutes_add_up_to_its_duration(path: Path) -> None:
    flow = load_flow(path, REGISTRY)
    assert sum(step.minutes for step in flow.steps) == flow.duration_minutes


def _commitment(sample: str) -> dict[str, str] | None:
    """ "what | who | when", or "what | who | when | forum" for one that needs a decision elsewhere."""
    what, who, when, *where = (part.strip() for part in sample.split("|"))
    decided = {"decide": "elsewhere", "where": where[0]} if where else {"decide": "now"}
    return {"what": what, "who": who, "when": when} | decided


# How each exercise uses its demo samples: a sample to a phone's form (None: a name or text that
# simulate_state uses), and how many leading samples are not answers (a statement's final text).
SAMPLE_USE: dict[str, tuple[Any, int]] = {
    "open_text": (lambda s: {"text": s}, 0),
    "word_cloud": (lambda s: {"word": s}, 0),
    "commitments": (_commitment, 0),
    "grouping": (lambda s: None, 0),
    "statement": (lambda s: None, 0),
    "dot_vote": (lambda s: None, 0),
    "ranking": (lambda s: None, 0),
}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_flow_demo_samples_are_answers_a_phone_could_send(path: Path) -> None:
    """`tovholder demo` stores these samples; each must pass the step's own answer check."""
    flow = load_flow(path, REGISTRY)
    for step in flow.steps:
        exercise = REGISTRY[step.exercise]
        settings = exercise.settings(step.settings)
        for locale, samples in step.demo.items():
            assert locale in flow.locales, f"step {step.id} has demo samples in {locale!r}"
            assert step.exercise in SAMPLE_USE, f"step {step.id} ({step.exercise}) has samples it never uses"
            for sample in samples[SAMPLE_USE[step.exercise][1] :]:
                form = SAMPLE_USE[step.exercise][0](sample)
                if form is None:
                    continue  # used as a name or a text by simulate_state: checked in its own tests
                try:
                    answer = exercise.parse_answer(settings, form, CTX)
                except AnswerInvalid as exc:
                    pytest.fail(f"step {step.id} demo sample {sample!r} is refused: {exc}")
                given = {v for k, v in form.items() if k != "decide"}  # the choice is no value of its own
                assert given <= {str(v) for v in answer.model_dump().values()}


# --- broken flows: file, line, reason ------------------------------------------------------------

GOOD = """\
# A small flow for tests.
name: tiny
title:
  en: "Tiny"
  nb: "Liten"
purpose:
  en: "A flow for tests."
  nb: "En flyt for tester."
duration_minutes: 10
source: "tests"
licence: "CC0"
default_locale: en
locales: [en, nb]
steps:
  - id: hello
    exercise: talk
    minutes: 4
    title:
      en: "Hello"
      nb: "Hei"
    notes:
      en: "Say hello."
      nb: "Si hei."
  - id: rate
    exercise: scale
    minutes: 6
    title:
      en: "Rate"
      nb: "Vurder"
    notes:
      en: "Ask for a rating."
      nb: "Be om en vurdering."
    settings:
      points: 5
      low: {en: "Low", nb: "Lav"}
      high: {en: "High", nb: "Høy"}
"""


def write(directory: Path, content: str | bytes, stem: str = "tiny") -> Path:
    path = directory / f"{stem}.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def line_of(text: str, marker: str, occurrence: int = 1) -> int:
    """The 1-based line of the n-th line that contains `marker`."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(hits) >= occurrence, f"{marker!r} occurs {len(hits)} times"
    return hits[occurrence - 1]


def replaced(old: str, new: str, occurrence: int = 1) -> str:
    assert GOOD.count(old) >= occurrence, old
    head, *rest = GOOD.split(old)
    return head + "".join((new if i + 1 == occurrence else old) + part for i, part in enumerate(rest))


def the_problem(path: Path) -> Problem:
    with pytest.raises(FlowError) as caught:
        load_flow(path, REGISTRY)
    problems = caught.value.problems
    assert len(problems) == 1, problems
    problem = problems[0]
    assert problem.file == str(path)
    assert str(problem).startswith(f"{path}:{problem.line}: ")
    return problem


def test_the_good_test_flow_loads(tmp_path: Path) -> None:
    """Each broken flow below is this one with one thing broken."""
    flow = load_flow(write(tmp_path, GOOD), REGISTRY)
    assert [s.id for s in flow.steps] == ["hello", "rate"]
    assert missing_translations(flow) == []


def test_unknown_exercise_names_file_line_and_the_known_ones(tmp_path: Path) -> None:
    text = replaced("exercise: scale", "exercise: poll")
    problem = the_problem(write(tmp_path, text))
    assert problem.line == line_of(text, "exercise: poll")
    assert "unknown exercise 'poll'" in problem.message
    assert "scale" in problem.message and "word_cloud" in problem.message


def test_missing_notes_names_the_step_and_its_line(tmp_path: Path) -> None:
    text = replaced('    notes:\n      en: "Ask for a rating."\n      nb: "Be om en vurdering."\n', "")
    problem = the_problem(write(tmp_path, text))
    assert problem.line == line_of(text, "- id: rate")
    assert "steps[1].notes" in problem.message
    assert "required" in problem.message.lower()


def test_missing_title_of_the_flow_is_reported(tmp_path: Path) -> None:
    text = replaced('title:\n  en: "Tiny"\n  nb: "Liten"\n', "")
    problem = the_problem(write(tmp_path, text))
    assert problem.message.startswith("title:")
    assert "required" in problem.message.lower()


def test_empty_text_in_a_language_is_refused(tmp_path: Path) -> None:
    text = replaced('nb: "Si hei."', 'nb: "  "')
    problem = the_problem(write(tmp_path, text))
    assert problem.line == line_of(text, "    notes:")  # the text's mapping, in the first step
    assert "steps[0].notes" in problem.message and "'nb' is empty" in problem.message


def test_duplicate_step_id_points_at_the_second_one(tmp_path: Path) -> None:
    text = replaced("- id: rate", "- id: hello")
    problem = the_problem(write(tmp_path, text))
    assert problem.line == line_of(text, "- id: hello", occurrence=2)
    assert "duplicate step id 'hello'" in problem.message
    assert "steps[0]" in problem.message


def test_bad_setting_names_the_setting_and_its_line(tmp_path: Path) -> None:
    text = replaced("points: 5", "points: 6")
    problem = the_problem(write(tmp_path, text))
    assert problem.line == line_of(text, "points: 6")
    assert "steps[1].settings.points" in problem.message


def test_unknown_setting_is_refused(tmp_path: Path) -> None:
    text = replaced("      points: 5\n", "      points: 5\n      colour: red\n")
    problem = the_problem(write(tmp_path, text))
    assert problem.line == line_of(text, "colour: red")
    assert "steps[1].settings.colour" in problem.message


def test_duplicate_yaml_key_points_at_the_second_key(tmp_path: Path) -> None:
    text = replaced("    minutes: 4\n", "    minutes: 4\n    minutes: 3\n")
    problem = the_problem(write(tmp_path, text))
    assert problem.line == line_of(text, "minutes: 3")
    assert "duplicate key 'minutes'" in problem.message


def test_invalid_yaml_syntax_names_the_line(tmp_path: Path) -> None:
    text = replaced("duration_minutes: 10", "duration_minutes: 10: 5")
    problem = the_problem(write(tmp_path, text))
    assert problem.line == line_of(text, "duration_minutes: 10: 5")
    assert problem.message.startswith("not valid YAML")


def test_unknown_top_level_key_names_the_key_and_its_line(tmp_path: Path) -> None:
    text = replaced('licence: "CC0"\n', 'licence: "CC0"\ncolour: blue\n')
    problem = the_problem(write(tmp_path, text))
    assert problem.line == line_of(text, "colour: blue")
    assert problem.message.startswith("colour:")
    assert "not permitted" in problem.message


def test_name_that_differs_from_the_file_stem_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD, stem="other")
    problem = the_problem(path)
    assert problem.line == line_of(GOOD, "name: tiny")
    assert "'tiny'" in problem.message and "'other'" in problem.message


def test_steps_that_do_not_add_up_to_the_duration_are_refused(tmp_path: Path) -> None:
    text = replaced("duration_minutes: 10", "duration_minutes: 12")
    problem = the_problem(write(tmp_path, text))
    assert problem.line == line_of(text, "duration_minutes: 12")
    assert "add up to 10" in problem.message


def test_unknown_locale_is_refused(tmp_path: Path) -> None:
    text = replaced("locales: [en, nb]", "locales: [en, xx]")
    problem = the_problem(write(tmp_path, text))
    assert problem.line == line_of(text, "locales: [en, xx]")
    assert "unknown language xx" in problem.message


@pytest.mark.parametrize("content", ["", "# only a comment\n"], ids=["empty", "comment-only"])
def test_empty_file_is_refused_at_line_1(tmp_path: Path, content: str) -> None:
    problem = the_problem(write(tmp_path, content))
    assert problem.line == 1
    assert "empty" in problem.message


def test_a_list_instead_of_a_mapping_is_refused(tmp_path: Path) -> None:
    problem = the_problem(write(tmp_path, "- just\n- a list\n"))
    assert problem.line == 1
    assert "mapping" in problem.message


def test_non_utf8_file_is_refused_at_line_1(tmp_path: Path) -> None:
    problem = the_problem(write(tmp_path, GOOD.encode("latin-1")))
    assert problem.line == 1
    assert "not UTF-8" in problem.message


def test_huge_file_is_refused_before_parsing(tmp_path: Path) -> None:
    padding = "# " + "x" * 1000 + "\n"
    text = GOOD + padding * (MAX_FLOW_BYTES // len(padding) + 1)
    assert len(text.encode()) > MAX_FLOW_BYTES
    problem = the_problem(write(tmp_path, text))
    assert problem.line == 1
    assert "512 KiB" in problem.message


def test_a_file_just_under_the_size_cap_still_loads(tmp_path: Path) -> None:
    padding = "# " + "x" * 1000 + "\n"
    text = GOOD + padding * ((MAX_FLOW_BYTES - len(GOOD.encode())) // len(padding))
    assert len(text.encode()) <= MAX_FLOW_BYTES
    assert load_flow(write(tmp_path, text), REGISTRY).name == "tiny"


def test_load_flows_reports_the_problems_of_every_broken_file_together(tmp_path: Path) -> None:
    write(tmp_path, replaced("exercise: scale", "exercise: poll"), stem="tiny")
    write(tmp_path, GOOD.replace("name: tiny", "name: second"), stem="second")
    write(tmp_path, "", stem="third")
    with pytest.raises(FlowError) as caught:
        load_flows(tmp_path, REGISTRY)
    files = {Path(p.file).stem for p in caught.value.problems}
    assert files == {"tiny", "third"}


def test_missing_translation_is_listed_with_where_it_is(tmp_path: Path) -> None:
    text = replaced('high: {en: "High", nb: "Høy"}', 'high: {en: "High"}')
    flow = load_flow(write(tmp_path, text), REGISTRY)
    assert missing_translations(flow) == ["steps[1].settings.high: no 'nb' text"]


# --- the exercise registry -----------------------------------------------------------------------


def test_registry_holds_every_registered_exercise_by_name() -> None:
    assert set(REGISTRY) == {cls.name for cls in REGISTERED}
    assert {"talk", "open_text", "scale", "word_cloud"} <= set(REGISTRY)


def test_registry_refuses_the_same_exercise_twice() -> None:
    with pytest.raises(RegistryError) as caught:
        build_registry((Talk, Talk))
    assert "'talk'" in str(caught.value)
    assert str(caught.value).count("exercises.talk.Talk") == 2


def test_registry_refuses_two_exercises_with_one_name_naming_both() -> None:
    class AnotherTalk(Talk):
        name = "talk"

    with pytest.raises(RegistryError) as caught:
        build_registry((Talk, AnotherTalk))
    message = str(caught.value)
    assert "exercises.talk.Talk" in message
    assert f"{AnotherTalk.__module__}.{AnotherTalk.__qualname__}" in message
