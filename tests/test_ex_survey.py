"""survey: settings, parsing every item of a block, medians per item and per unit, the earlier
pulse, simulate(), and the templates rendered against real results."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pydantic import ValidationError

from app.templating import make_env, render
from exercises import build_registry
from exercises.base import AnswerInvalid, Entry, Source, StepContext
from exercises.survey import MAX_ITEMS, Survey, SurveyAnswer, SurveyResult, SurveySettings, shares_of

LOW = {"en": "Not at all", "nb": "Ikke i det hele tatt"}
HIGH = {"en": "Completely", "nb": "Helt"}
SURVEY = Survey()


def items(*ids: str) -> list[dict[str, Any]]:
    return [{"id": i, "text": {"en": f"Item {i}", "nb": f"Påstand {i}"}} for i in ids]


def settings(**extra: Any) -> SurveySettings:
    raw: dict[str, Any] = {"items": items("help", "trust", "plan"), "low": LOW, "high": HIGH}
    raw.update(extra)
    return SURVEY.settings(raw)


def ctx(**extra: Any) -> StepContext:
    return StepContext(**extra)


def entry(n: int, values: dict[str, int], unit: str | None = None) -> Entry[SurveyAnswer]:
    return Entry(id=n, answer=SurveyAnswer(values=values), participant=n, unit=unit)


def accepts(raw: dict[str, Any]) -> bool:
    try:
        SURVEY.settings(raw)
    except ValidationError:
        return False
    return True


# --- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "ok"),
    [
        ({}, True),
        ({"points": 7}, True),
        ({"points": 6}, False),
        ({"points": 3}, False),
        ({"by_unit": True}, True),
        ({"items": []}, False),
        ({"items": items(*[f"i{n}" for n in range(MAX_ITEMS)])}, True),
        ({"items": items(*[f"i{n}" for n in range(MAX_ITEMS + 1)])}, False),
        ({"items": items("same", "same")}, False),
        ({"items": items("Upper")}, False),
        ({"items": items("with space")}, False),
        ({"items": [{"id": "a", "text": {"en": "x" * 200}}]}, True),
        ({"items": [{"id": "a", "text": {"en": "x" * 201}}]}, False),
        ({"items": [{"id": "a", "text": {}}]}, False),
        ({"items": [{"id": "a", "text": {"xx": "Hei"}}]}, False),
        ({"low": {"en": "x" * 61}}, False),
        ({"low": {"en": ""}}, False),
        ({"colour": "red"}, False),
    ],
)
def test_settings_bounds(extra: dict[str, Any], ok: bool) -> None:
    raw: dict[str, Any] = {"items": items("a", "b"), "low": LOW, "high": HIGH}
    raw.update(extra)
    assert accepts(raw) is ok


def test_settings_need_low_and_high() -> None:
    assert not accepts({"items": items("a"), "low": LOW})
    assert not accepts({"items": items("a"), "high": HIGH})


def test_settings_are_frozen() -> None:
    s = settings()
    with pytest.raises(ValidationError):
        s.by_unit = True  # type: ignore[misc]


def test_one_answer_per_person() -> None:
    assert SURVEY.max_answers(settings(), ctx()) == 1


# --- parse_answer ------------------------------------------------------------------------------


def test_parse_takes_every_item_as_string_or_int() -> None:
    form = {"item:help": "1", "item:trust": 5, "item:plan": " 3 ", "other": "ignored"}
    answer = SURVEY.parse_answer(settings(), form, ctx())
    assert answer.values == {"help": 1, "trust": 5, "plan": 3}


def test_parse_seven_points_takes_seven() -> None:
    form = {"item:help": "7", "item:trust": "6", "item:plan": "1"}
    assert SURVEY.parse_answer(settings(points=7), form, ctx()).values["help"] == 7


@pytest.mark.parametrize("bad", ["0", "6", "-1", 6])
def test_parse_refuses_a_value_off_the_scale(bad: Any) -> None:
    form = {"item:help": bad, "item:trust": "3", "item:plan": "3"}
    with pytest.raises(AnswerInvalid) as caught:
        SURVEY.parse_answer(settings(), form, ctx())
    assert caught.value.params == {"points": 5}


@pytest.mark.parametrize("bad", ["abc", "2.5", "9" * 5000, True, ["3"]])
def test_parse_refuses_what_is_not_a_whole_number(bad: Any) -> None:
    form = {"item:help": bad, "item:trust": "3", "item:plan": "3"}
    with pytest.raises(AnswerInvalid) as caught:
        SURVEY.parse_answer(settings(), form, ctx())
    assert caught.value.message == "Please pick one of the numbers."


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_parse_refuses_an_open_item_and_counts_them(blank: Any) -> None:
    form: dict[str, Any] = {"item:help": "3"}
    if blank is not None:
        form["item:trust"] = blank
    with pytest.raises(AnswerInvalid) as caught:
        SURVEY.parse_answer(settings(), form, ctx())
    assert caught.value.params == {"num": 2}


def test_parse_of_an_empty_form_is_refused() -> None:
    with pytest.raises(AnswerInvalid):
        SURVEY.parse_answer(settings(), {}, ctx())


def test_answer_model_caps_values_and_ids() -> None:
    with pytest.raises(ValidationError):
        SURVEY.load_answer({"values": {"a": 8}})
    with pytest.raises(ValidationError):
        SURVEY.load_answer({"values": {"Bad Id": 3}})
    with pytest.raises(ValidationError):
        SURVEY.load_answer({"values": {f"i{n}": 3 for n in range(MAX_ITEMS + 1)}})
    with pytest.raises(ValidationError):
        SURVEY.load_answer({"values": {}})


# --- aggregate ---------------------------------------------------------------------------------


def test_shares_sum_to_a_hundred_in_steps_of_five() -> None:
    for counts in ([1, 1, 1], [1, 0, 0, 0, 2], [3, 3, 3, 3, 3, 3, 3], [0, 0, 1, 0, 0], [7, 1, 0, 0, 1]):
        shares = shares_of(counts)
        assert sum(shares) == 100
        assert all(s % 5 == 0 for s in shares)
    assert shares_of([0, 0, 0]) == [0, 0, 0]


def test_aggregate_of_no_answers() -> None:
    result = SURVEY.aggregate(settings(by_unit=True), [], ctx())
    assert result.count == 0
    assert [i.id for i in result.items] == ["help", "trust", "plan"]
    for item in result.items:
        assert (item.count, item.median, item.mean, item.counts) == (0, None, None, [0] * 5)
        assert item.unit_medians == {} and item.other_median is None and item.hidden == 0
    assert not result.has_other and not result.has_earlier and result.unit_columns == []


def test_aggregate_of_one_answer() -> None:
    result = SURVEY.aggregate(settings(), [entry(1, {"help": 2, "trust": 4, "plan": 5})], ctx())
    assert result.count == 1
    help_, trust, plan = result.items
    assert help_.counts == [0, 1, 0, 0, 0] and help_.median == 2.0 and help_.mean == 2.0
    assert help_.shares == [0, 100, 0, 0, 0]
    assert trust.median == 4.0 and plan.median == 5.0


def test_aggregate_medians_of_even_counts_are_midpoints_and_means_rounded() -> None:
    answers = [entry(i, {"help": v, "trust": 3, "plan": 3}) for i, v in enumerate([1, 2, 2, 5])]
    help_ = SURVEY.aggregate(settings(), answers, ctx()).items[0]
    assert help_.median == 2.0
    assert help_.mean == 2.5
    answers = [entry(i, {"help": v, "trust": 3, "plan": 3}) for i, v in enumerate([1, 2, 4])]
    assert SURVEY.aggregate(settings(), answers, ctx()).items[0].mean == 2.33


def test_aggregate_ignores_values_off_the_scale_and_items_not_answered() -> None:
    """Answers stored under a 7-point version of the flow, or with an item since removed."""
    answers = [entry(1, {"help": 7, "trust": 2, "gone": 3}), entry(2, {"help": 4, "trust": 2, "plan": 1})]
    result = SURVEY.aggregate(settings(), answers, ctx())
    help_, trust, plan = result.items
    assert help_.count == 1 and help_.median == 4.0
    assert trust.count == 2
    assert plan.count == 1


def unit_entries(sizes: dict[str, int], value: int = 4) -> list[Entry[SurveyAnswer]]:
    out: list[Entry[SurveyAnswer]] = []
    n = 0
    for unit, size in sizes.items():
        for _ in range(size):
            n += 1
            out.append(entry(n, {"help": value, "trust": 3, "plan": 2}, unit))
    return out


def test_by_unit_shows_a_unit_at_the_threshold() -> None:
    result = SURVEY.aggregate(settings(by_unit=True), unit_entries({"Day": 5}), ctx(units=("Day", "Night")))
    assert result.unit_columns == ["Day"]
    assert result.items[0].unit_medians == {"Day": 4.0}
    assert not result.has_other and result.hidden == 0


def test_by_unit_hides_a_lone_unit_under_the_threshold() -> None:
    result = SURVEY.aggregate(settings(by_unit=True), unit_entries({"Day": 5, "Night": 4}), ctx())
    assert result.unit_columns == ["Day"]
    help_ = result.items[0]
    assert "Night" not in help_.unit_medians
    assert help_.other_median is None
    assert help_.hidden == 4 and result.hidden == 4
    assert result.count == 9
    assert help_.median == 4.0  # the whole room still counts in the overall median


def test_by_unit_merges_small_units_that_reach_the_threshold_together() -> None:
    answers = unit_entries({"Day": 6, "Night": 3})
    answers += [entry(100 + i, {"help": 1, "trust": 1, "plan": 1}, "Office") for i in range(2)]
    result = SURVEY.aggregate(settings(by_unit=True), answers, ctx())
    help_ = result.items[0]
    assert help_.unit_medians == {"Day": 4.0}
    assert help_.other_units == 2
    assert help_.other_median == 4.0  # 4, 4, 4, 1, 1
    assert result.has_other and result.hidden == 0


def test_by_unit_off_shows_no_units() -> None:
    result = SURVEY.aggregate(settings(), unit_entries({"Day": 6}), ctx())
    assert result.unit_columns == [] and result.items[0].unit_medians == {}


def test_by_unit_follows_the_sessions_threshold() -> None:
    result = SURVEY.aggregate(settings(by_unit=True), unit_entries({"Day": 3}), ctx(min_group_size=3))
    assert result.unit_columns == ["Day"] and result.min_group_size == 3


def earlier_source(medians: dict[str, float], exercise: str = "survey") -> Source:
    earlier_settings = SURVEY.settings({"items": items(*medians), "low": LOW, "high": HIGH})
    answers = [entry(1, {k: int(v) for k, v in medians.items()})]
    result = SURVEY.aggregate(earlier_settings, answers, ctx())
    return Source(exercise=exercise, result=result)


def test_earlier_median_and_change_for_items_in_both() -> None:
    earlier = earlier_source({"help": 2, "plan": 5, "retired": 3})
    answers = [entry(1, {"help": 4, "trust": 3, "plan": 3})]
    result = SURVEY.aggregate(settings(), answers, ctx(earlier=earlier))
    help_, trust, plan = result.items
    assert (help_.earlier_median, help_.change) == (2.0, 2.0)
    assert (trust.earlier_median, trust.change) == (None, None)
    assert (plan.earlier_median, plan.change) == (5.0, -2.0)
    assert result.has_earlier


def test_earlier_without_answers_now_shows_the_earlier_median_only() -> None:
    result = SURVEY.aggregate(settings(), [], ctx(earlier=earlier_source({"help": 3})))
    assert (result.items[0].earlier_median, result.items[0].change) == (3.0, None)


def test_earlier_of_another_exercise_is_ignored() -> None:
    result = SURVEY.aggregate(settings(), [], ctx(earlier=earlier_source({"help": 3}, exercise="scale")))
    assert not result.has_earlier


# --- no actions, simulate ----------------------------------------------------------------------


def test_survey_has_no_actions() -> None:
    with pytest.raises(AnswerInvalid):
        SURVEY.act(settings(), {}, "anything", {}, ctx())


@pytest.mark.parametrize("points", [5, 7])
def test_simulate_gives_an_answer_the_phone_could_send(points: int) -> None:
    s = settings(points=points)
    rng = random.Random(42)
    seen: set[int] = set()
    for _ in range(300):
        answers = SURVEY.simulate(s, rng, [], ctx())
        assert len(answers) == 1
        form = {f"item:{k}": str(v) for k, v in answers[0].values.items()}
        assert SURVEY.parse_answer(s, form, ctx()) == answers[0]
        seen.update(answers[0].values.values())
    assert len(seen) >= 3
    assert SURVEY.simulate_state(s, rng, [], [], ctx()) == {}


# --- templates ---------------------------------------------------------------------------------

ENV = make_env(build_registry())


def render_results(result: SurveyResult, s: SurveySettings, locale: str = "en") -> str:
    return render(
        ENV, "survey/results.html", locale, result=result, settings=s, ctx=ctx(), state={}, step=None
    )


def test_results_render_the_empty_and_the_full_table() -> None:
    s = settings(by_unit=True)
    assert "No answers yet." in render_results(SURVEY.aggregate(s, [], ctx()), s)
    answers = unit_entries({"Day <b>": 5, "Night": 2})
    answers += [entry(99, {"help": 1, "trust": 1, "plan": 1}, "Office")]
    earlier = earlier_source({"help": 2, "trust": 4})
    html = render_results(SURVEY.aggregate(s, answers, ctx(earlier=earlier)), s)
    assert "Day &lt;b&gt;" in html and "<b>" not in html
    assert "Item help" in html and "Median" in html and "+2" in html and "−1" in html
    assert "fewer than 5 answers" in html
    assert "style=" not in html


def test_results_render_without_settings_as_an_earlier_session() -> None:
    """templates/_earlier.html passes the earlier Source's settings, which may be None."""
    s = settings()
    result = SURVEY.aggregate(s, [entry(1, {"help": 3, "trust": 3, "plan": 3})], ctx())
    html = render(ENV, "survey/results.html", "en", result=result, settings=None, ctx=None, state={})
    assert "Item plan" in html


def test_fields_and_sent_render() -> None:
    s = settings()
    html = render(
        ENV,
        "survey/fields.html",
        "nb",
        settings=s,
        values={"item:trust": "4"},
        step=None,
        ctx=ctx(),
        state={},
    )
    assert html.count('name="item:help"') == 5
    assert 'value="4" required checked' in html
    assert "Påstand help" in html
    answer = SurveyAnswer(values={"help": 1, "trust": 2, "plan": 3})
    sent = render(ENV, "survey/sent.html", "en", settings=s, answer=answer, ctx=ctx(), state={})
    assert "Item trust" in sent and ">2<" in sent
