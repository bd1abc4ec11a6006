"""dot_vote: settings (exactly one of options and options_from), options from a grouping or an
open_text step, the budget rules, ties sharing a place, simulate(), and the templates."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from app.templating import make_env, render
from exercises import build_registry
from exercises.base import AnswerInvalid, Entry, Source, StepContext, places
from exercises.dot_vote import MAX_BUDGET, MAX_OPTIONS, DotVote, DotVoteAnswer, DotVoteSettings
from exercises.open_text import OpenTextAnswer

VOTE = DotVote()


def options(*ids: str) -> list[dict[str, Any]]:
    return [{"id": i, "text": {"en": f"Option {i}", "nb": f"Valg {i}"}} for i in ids]


def settings(**extra: Any) -> DotVoteSettings:
    raw: dict[str, Any] = {"options": options("a", "b", "c")}
    raw.update(extra)
    return VOTE.settings(raw)


def entry(n: int, dots: dict[str, int], unit: str | None = None) -> Entry[DotVoteAnswer]:
    return Entry(id=n, answer=DotVoteAnswer(dots=dots), participant=n, unit=unit)


class Empty(BaseModel):
    pass


def grouping_ctx(groups: Any) -> StepContext:
    return StepContext(
        sources={"themes": Source(exercise="grouping", result=Empty(), state={"groups": groups})}
    )


def open_text_ctx(texts: list[str]) -> StepContext:
    entries = tuple(
        Entry(id=10 + i, answer=OpenTextAnswer(text=t), participant=i) for i, t in enumerate(texts)
    )
    return StepContext(sources={"ideas": Source(exercise="open_text", result=Empty(), entries=entries)})


GROUPS = [
    {"id": "g1", "name": "Hand-offs", "cards": ["c1", "c2"]},
    {"id": "g2", "name": "<b>Phones</b>", "cards": []},
    {"id": "g3", "name": "Rotas", "cards": ["c3"]},
]


def accepts(raw: dict[str, Any]) -> bool:
    try:
        VOTE.settings(raw)
    except ValidationError:
        return False
    return True


# --- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ({"options": options("a", "b")}, True),
        ({"options": options("a")}, False),
        ({"options": options(*[f"o{i}" for i in range(MAX_OPTIONS)])}, True),
        ({"options": options(*[f"o{i}" for i in range(MAX_OPTIONS + 1)])}, False),
        ({"options": options("a", "a")}, False),
        ({"options": options("A", "b")}, False),
        ({"options": [{"id": "a", "text": {"en": "x" * 201}}, {"id": "b", "text": {"en": "y"}}]}, False),
        ({"options_from": "themes"}, True),
        ({"options_from": "Themes!"}, False),
        ({}, False),
        ({"options": options("a", "b"), "options_from": "themes"}, False),
        ({"options": options("a", "b"), "budget": 0}, False),
        ({"options": options("a", "b"), "budget": 1}, True),
        ({"options": options("a", "b"), "budget": MAX_BUDGET}, True),
        ({"options": options("a", "b"), "budget": MAX_BUDGET + 1}, False),
        ({"options": options("a", "b"), "budget": 5, "max_per_option": 5}, True),
        ({"options": options("a", "b"), "budget": 5, "max_per_option": 6}, False),
        ({"options": options("a", "b"), "budget": 5, "max_per_option": 0}, False),
        ({"options": options("a", "b"), "colour": "red"}, False),
    ],
)
def test_settings_bounds(raw: dict[str, Any], ok: bool) -> None:
    assert accepts(raw) is ok


@pytest.mark.parametrize(("budget", "per_option"), [(5, 3), (1, 1), (2, 2), (20, 3)])
def test_max_per_option_defaults_to_three_or_the_budget(budget: int, per_option: int) -> None:
    assert settings(budget=budget).per_option == per_option


def test_sources_name_the_options_step() -> None:
    assert VOTE.sources(settings()) == ()
    assert VOTE.sources(VOTE.settings({"options_from": "themes"})) == ("themes",)


# --- the options -------------------------------------------------------------------------------


def test_options_from_a_grouping_are_its_groups() -> None:
    s = VOTE.settings({"options_from": "themes"})
    choices = s.choices(grouping_ctx(GROUPS))
    assert [(c.id, c.text["en"]) for c in choices] == [
        ("g1", "Hand-offs"),
        ("g2", "<b>Phones</b>"),
        ("g3", "Rotas"),
    ]


def test_options_from_a_grouping_skip_what_is_malformed() -> None:
    s = VOTE.settings({"options_from": "themes"})
    groups = [
        *GROUPS,
        "junk",
        {"id": "bad id", "name": "x"},
        {"id": "g9", "name": "  "},
        {"id": "g1", "name": "Twin"},
    ]
    choices = s.choices(grouping_ctx(groups))
    assert [c.id for c in choices] == ["g1", "g2", "g3", "g9"]
    assert choices[3].text["en"] == "g9"  # a group without a name shows its id
    assert s.choices(grouping_ctx("not a list")) == []


def test_options_from_open_text_are_its_cards() -> None:
    s = VOTE.settings({"options_from": "ideas"})
    choices = s.choices(open_text_ctx(["Shorter meetings", "A shared rota"]))
    assert [(c.id, c.text["en"]) for c in choices] == [("c10", "Shorter meetings"), ("c11", "A shared rota")]


def test_options_from_open_text_take_the_same_card_once() -> None:
    s = VOTE.settings({"options_from": "ideas"})
    choices = s.choices(open_text_ctx(["Shorter meetings", "A rota", "shorter   MEETINGS", "A rota"]))
    assert [(c.id, c.text["en"]) for c in choices] == [("c10", "Shorter meetings"), ("c11", "A rota")]


def test_options_from_open_text_are_capped() -> None:
    s = VOTE.settings({"options_from": "ideas"})
    assert len(s.choices(open_text_ctx([f"Idea {i}" for i in range(50)]))) == MAX_OPTIONS


def test_options_from_a_missing_or_other_source_are_none() -> None:
    s = VOTE.settings({"options_from": "themes"})
    assert s.choices(StepContext()) == []
    other = StepContext(sources={"themes": Source(exercise="scale", result=Empty())})
    assert s.choices(other) == []


# --- parse_answer ------------------------------------------------------------------------------


def test_parse_spreads_dots_and_leaves_out_zeros() -> None:
    form = {"dots:a": "2", "dots:b": 0, "dots:c": " 3 "}
    assert VOTE.parse_answer(settings(), form, StepContext()).dots == {"a": 2, "c": 3}


def test_parse_takes_a_missing_or_blank_field_as_zero() -> None:
    assert VOTE.parse_answer(settings(), {"dots:b": "1", "dots:c": ""}, StepContext()).dots == {"b": 1}


def test_parse_ignores_options_that_are_not_there() -> None:
    answer = VOTE.parse_answer(settings(), {"dots:a": "1", "dots:zzz": "3"}, StepContext())
    assert answer.dots == {"a": 1}


def test_parse_the_whole_budget_is_fine_and_one_more_is_refused() -> None:
    s = settings(budget=5, max_per_option=3)
    assert sum(VOTE.parse_answer(s, {"dots:a": "3", "dots:b": "2"}, StepContext()).dots.values()) == 5
    with pytest.raises(AnswerInvalid) as caught:
        VOTE.parse_answer(s, {"dots:a": "3", "dots:b": "2", "dots:c": "1"}, StepContext())
    assert caught.value.params == {"used": 6, "budget": 5}


def test_parse_refuses_more_than_max_per_option() -> None:
    with pytest.raises(AnswerInvalid) as caught:
        VOTE.parse_answer(settings(budget=5), {"dots:a": "4"}, StepContext())
    assert caught.value.params == {"max": 3}


@pytest.mark.parametrize("bad", ["-1", "x", "1.5", True, "9" * 5000])
def test_parse_refuses_what_is_not_a_count(bad: Any) -> None:
    with pytest.raises(AnswerInvalid) as caught:
        VOTE.parse_answer(settings(), {"dots:a": bad}, StepContext())
    assert caught.value.params == {"max": 3}


def test_parse_refuses_no_dots_at_all() -> None:
    with pytest.raises(AnswerInvalid) as caught:
        VOTE.parse_answer(settings(), {"dots:a": "0", "dots:b": "0"}, StepContext())
    assert caught.value.message == "Please put at least one dot on an option."
    with pytest.raises(AnswerInvalid):
        VOTE.parse_answer(settings(), {}, StepContext())


def test_parse_refuses_when_there_is_nothing_to_vote_on_yet() -> None:
    s = VOTE.settings({"options_from": "themes"})
    with pytest.raises(AnswerInvalid) as caught:
        VOTE.parse_answer(s, {"dots:g1": "1"}, grouping_ctx(GROUPS[:1]))
    assert "nothing to vote on" in str(caught.value)


def test_parse_votes_on_groups() -> None:
    s = VOTE.settings({"options_from": "themes"})
    answer = VOTE.parse_answer(s, {"dots:g2": "2", "dots:g3": 1}, grouping_ctx(GROUPS))
    assert answer.dots == {"g2": 2, "g3": 1}


def test_answer_model_caps() -> None:
    with pytest.raises(ValidationError):
        VOTE.load_answer({"dots": {}})
    with pytest.raises(ValidationError):
        VOTE.load_answer({"dots": {"a": 0}})
    with pytest.raises(ValidationError):
        VOTE.load_answer({"dots": {"a": MAX_BUDGET + 1}})
    with pytest.raises(ValidationError):
        VOTE.load_answer({"dots": {f"o{i}": 1 for i in range(MAX_OPTIONS + 1)}})
    with pytest.raises(ValidationError):
        VOTE.load_answer({"dots": {f"o{i}": 3 for i in range(MAX_BUDGET // 3 + 1)}})
    with pytest.raises(ValidationError):
        VOTE.load_answer({"dots": {"has space": 1}})


def test_one_answer_per_person() -> None:
    assert VOTE.max_answers(settings(), StepContext()) == 1


# --- aggregate ---------------------------------------------------------------------------------


def test_places_are_competition_ranks() -> None:
    assert places([10, 8, 8, 5]) == [1, 2, 2, 4]
    assert places([0, 0]) == [1, 1]
    assert places([]) == []


def test_aggregate_of_no_answers_lists_the_options_in_order() -> None:
    result = VOTE.aggregate(settings(), [], StepContext())
    assert (result.count, result.dots) == (0, 0)
    assert [(r.id, r.dots, r.place, r.share) for r in result.options] == [
        ("a", 0, 1, 0),
        ("b", 0, 1, 0),
        ("c", 0, 1, 0),
    ]


def test_aggregate_of_one_answer() -> None:
    result = VOTE.aggregate(settings(), [entry(1, {"b": 3, "c": 1})], StepContext())
    assert result.count == 1 and result.dots == 4
    assert [(r.id, r.dots, r.voters, r.place, r.share) for r in result.options] == [
        ("b", 3, 1, 1, 100),
        ("c", 1, 1, 2, 35),
        ("a", 0, 0, 3, 0),
    ]


def test_aggregate_ties_share_a_place_and_keep_the_flows_order() -> None:
    answers = [entry(1, {"c": 2, "a": 1}), entry(2, {"a": 1, "b": 1})]
    rows = VOTE.aggregate(settings(), answers, StepContext()).options
    assert [(r.id, r.dots, r.place) for r in rows] == [("a", 2, 1), ("c", 2, 1), ("b", 1, 3)]
    assert rows[0].voters == 2


def test_aggregate_leaves_out_options_no_longer_there() -> None:
    """A group removed after people voted: its dots no longer count, nor does a voter only of it."""
    s = VOTE.settings({"options_from": "themes"})
    answers = [entry(1, {"g1": 2, "g4": 3}), entry(2, {"g4": 1})]
    result = VOTE.aggregate(s, answers, grouping_ctx(GROUPS))
    assert result.count == 1 and result.dots == 2
    assert [r.id for r in result.options] == ["g1", "g2", "g3"]


def test_aggregate_counts_people_not_answers() -> None:
    answers = [entry(1, {"a": 1}), Entry(id=2, answer=DotVoteAnswer(dots={"b": 1}), participant=1)]
    assert VOTE.aggregate(settings(), answers, StepContext()).count == 1


def test_no_actions() -> None:
    with pytest.raises(AnswerInvalid):
        VOTE.act(settings(), {}, "reset", {}, StepContext())


# --- simulate ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "context"),
    [
        ({"options": options("a", "b", "c", "d"), "budget": 5}, StepContext()),
        ({"options": options("a", "b"), "budget": 7, "max_per_option": 2}, StepContext()),
        ({"options_from": "themes", "budget": 3, "max_per_option": 1}, grouping_ctx(GROUPS)),
        ({"options_from": "ideas"}, open_text_ctx(["One", "Two", "Three"])),
    ],
)
def test_simulate_gives_answers_the_phone_could_send(raw: dict[str, Any], context: StepContext) -> None:
    s = VOTE.settings(raw)
    rng = random.Random(5)
    for _ in range(300):
        answers = VOTE.simulate(s, rng, ["b", "Rotas", "Option a"], context)
        assert len(answers) == 1
        form = {f"dots:{k}": str(v) for k, v in answers[0].dots.items()}
        assert VOTE.parse_answer(s, form, context) == answers[0]


def test_simulate_favours_the_samples() -> None:
    s = settings(options=options("a", "b", "c", "d"))
    rng = random.Random(1)
    answers = [e for i in range(200) for e in VOTE.simulate(s, rng, ["Option c"], StepContext())]
    result = VOTE.aggregate(s, [entry(i, a.dots) for i, a in enumerate(answers)], StepContext())
    assert result.options[0].id == "c"


def test_simulate_without_options_gives_nothing() -> None:
    s = VOTE.settings({"options_from": "themes"})
    assert VOTE.simulate(s, random.Random(1), [], StepContext()) == []
    assert VOTE.simulate_state(s, random.Random(1), [], [], StepContext()) == {}


# --- templates ---------------------------------------------------------------------------------

ENV = make_env(build_registry())


def test_templates_render_group_names_escaped() -> None:
    s = VOTE.settings({"options_from": "themes", "budget": 4})
    context = grouping_ctx(GROUPS)
    fields = render(
        ENV, "dot_vote/fields.html", "en", settings=s, ctx=context, values={}, step=None, state={}
    )
    assert fields.count('name="dots:g2"') == 4  # radio tiles 0..3
    assert "&lt;b&gt;Phones&lt;/b&gt;" in fields and "<b>" not in fields
    assert "You have 4 dots." in fields
    result = VOTE.aggregate(s, [entry(1, {"g2": 3, "g1": 1})], context)
    html = render(ENV, "dot_vote/results.html", "en", settings=s, ctx=context, result=result, state={})
    assert "&lt;b&gt;Phones&lt;/b&gt;" in html and "<b>" not in html
    assert "3 dots" in html and "1 person voted" in html
    assert "style=" not in html
    sent = render(
        ENV,
        "dot_vote/sent.html",
        "en",
        settings=s,
        ctx=context,
        answer=DotVoteAnswer(dots={"g2": 3}),
        state={},
    )
    assert "●●●" in sent and "Phones" in sent


def test_fields_use_a_number_input_for_a_high_cap_and_keep_values() -> None:
    s = settings(budget=10, max_per_option=8)
    html = render(
        ENV,
        "dot_vote/fields.html",
        "en",
        settings=s,
        ctx=StepContext(),
        values={"dots:b": "6"},
        step=None,
        state={},
    )
    assert 'type="number" name="dots:b" min="0" max="8"' in html and 'value="6"' in html


def test_fields_and_results_with_nothing_to_vote_on() -> None:
    s = VOTE.settings({"options_from": "themes"})
    context = StepContext()
    fields = render(
        ENV, "dot_vote/fields.html", "en", settings=s, ctx=context, values={}, step=None, state={}
    )
    assert "nothing to vote on" in fields
    result = VOTE.aggregate(s, [], context)
    html = render(ENV, "dot_vote/results.html", "en", settings=s, ctx=context, result=result, state={})
    assert "nothing to vote on" in html
