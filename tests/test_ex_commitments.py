"""commitments: settings, what/who/when, the list by date, the follow-up date, simulate()."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from app.templating import make_env
from exercises import build_registry
from exercises.base import AnswerInvalid, Entry, StepContext
from exercises.commitments import Commitments, CommitmentsAnswer, CommitmentsSettings

EX = Commitments()
SETTINGS = CommitmentsSettings(max_items=2, max_length=40)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def ctx(state: dict[str, Any] | None = None, locale: str = "en") -> StepContext:
    return StepContext(state=state or {}, locale=locale, now=NOW)


def parse(what: Any = "Share the list", who: Any = "Kari", when: Any = "", **extra: Any) -> CommitmentsAnswer:
    form = {"what": what, "who": who, "when": when, **extra}
    return EX.parse_answer(SETTINGS, form, ctx())


def refusal(**form: Any) -> AnswerInvalid:
    with pytest.raises(AnswerInvalid) as caught:
        parse(**form)
    return caught.value


def entry(
    i: int, what: str, who: str = "Kari", when: str = "", participant: int | None = None
) -> Entry[CommitmentsAnswer]:
    return Entry(id=i, answer=CommitmentsAnswer(what=what, who=who, when=when), participant=participant or i)


# --- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ({}, True),
        ({"max_items": 0}, False),
        ({"max_items": 1}, True),
        ({"max_items": 10}, True),
        ({"max_items": 11}, False),
        ({"max_length": 19}, False),
        ({"max_length": 20}, True),
        ({"max_length": 300}, True),
        ({"max_length": 301}, False),
        ({"follow_up": "2027-01-01"}, False),
    ],
)
def test_settings_bounds(raw: dict[str, Any], ok: bool) -> None:
    if ok:
        EX.settings(raw)
    else:
        with pytest.raises(ValidationError):
            EX.settings(raw)


def test_max_answers_is_max_items() -> None:
    assert EX.max_answers(SETTINGS, ctx()) == 2


# --- parse_answer ------------------------------------------------------------------------------


def test_a_commitment_with_a_date() -> None:
    assert parse(" Share\r\nthe list ", "  Day   team ", " 2027-01-15 ") == CommitmentsAnswer(
        what="Share\nthe list", who="Day team", when="2027-01-15"
    )


def test_when_may_be_words_or_nothing() -> None:
    assert parse(when="next  staff meeting").when == "next staff meeting"
    assert parse(when="").when == ""
    assert parse(when="   ").when == ""
    assert EX.parse_answer(SETTINGS, {"what": "x", "who": "y"}, ctx()).when == ""


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("2027-2-5", "2027-02-05"),
        ("5.2.2027", "2027-02-05"),
        ("05.02.2027", "2027-02-05"),
        ("2028-02-29", "2028-02-29"),
    ],
)
def test_a_date_is_stored_as_yyyy_mm_dd(raw: str, stored: str) -> None:
    assert parse(when=raw).when == stored


@pytest.mark.parametrize("raw", ["2027-02-30", "2027-13-01", "2027-00-10", "31.4.2027", "2027-02-29"])
def test_a_date_that_does_not_exist_is_refused(raw: str) -> None:
    error = refusal(when=raw)
    assert "not a real date" in error.message and error.params == {"value": raw}


def test_a_date_gone_by_is_refused_with_a_day_of_slack_for_time_zones() -> None:
    assert parse(when="2026-11-22").when == "2026-11-22"
    error = refusal(when="2026-11-21")
    assert "passed" in error.message


def test_a_date_more_than_five_years_ahead_is_refused() -> None:
    assert parse(when="2031-12-31").when == "2031-12-31"
    assert "far ahead" in refusal(when="2032-01-01").message


def test_when_of_forty_is_kept_and_longer_refused() -> None:
    assert parse(when="x" * 40).when == "x" * 40
    error = refusal(when="x" * 41)
    assert error.params == {"limit": 40}


@pytest.mark.parametrize("what", [None, "", "  ", "\u200b", 3])
def test_what_is_needed(what: Any) -> None:
    assert "what will be done" in refusal(what=what).message


def test_what_at_the_cap_is_kept_and_over_it_refused() -> None:
    assert parse(what="x" * 40).what == "x" * 40
    assert refusal(what="x" * 41).params == {"length": 41, "limit": 40}


@pytest.mark.parametrize("who", [None, "", "  ", ["Kari"]])
def test_who_is_needed(who: Any) -> None:
    assert "who does it" in refusal(who=who).message


def test_who_is_one_line_of_at_most_eighty() -> None:
    assert parse(who="Kari\nand Per").who == "Kari and Per"
    assert parse(who="x" * 80).who == "x" * 80
    assert refusal(who="x" * 81).params == {"limit": 80}


def test_when_that_is_not_text_reads_as_no_date() -> None:
    assert parse(when=20270115).when == ""


# --- aggregate ---------------------------------------------------------------------------------


def test_no_commitments() -> None:
    result = EX.aggregate(SETTINGS, [], ctx())
    assert (result.count, result.people, result.items, result.follow_up, result.follow_up_label) == (
        0,
        0,
        [],
        None,
        None,
    )


def test_one_commitment() -> None:
    result = EX.aggregate(SETTINGS, [entry(1, "Call", when="2027-01-15")], ctx())
    assert [(i.what, i.date, i.label, i.count) for i in result.items] == [
        ("Call", "2027-01-15", "Jan 15, 2027", 1)
    ]


def test_dated_soonest_first_then_undated_newest_first() -> None:
    entries = [
        entry(1, "Later", when="2027-03-01"),
        entry(2, "Words old", when="next meeting"),
        entry(3, "Sooner", when="2027-01-10"),
        entry(4, "Nothing"),
        entry(5, "Same day, sent later", when="2027-01-10"),
    ]
    result = EX.aggregate(SETTINGS, entries, ctx())
    assert [i.what for i in result.items] == [
        "Sooner",
        "Same day, sent later",
        "Later",
        "Nothing",
        "Words old",
    ]
    assert [i.label for i in result.items][3:] == ["", "next meeting"]


def test_the_same_commitment_from_several_people_is_listed_once_with_its_count() -> None:
    entries = [
        entry(1, "Share the list", "Kari", "2027-01-15"),
        entry(2, "share  the LIST", "kari", "2027-01-15"),
        entry(3, "Share the list", "Per", "2027-01-15"),
    ]
    result = EX.aggregate(SETTINGS, entries, ctx())
    assert [(i.what, i.who, i.count) for i in result.items] == [
        ("Share the list", "Kari", 2),
        ("Share the list", "Per", 1),
    ]
    assert (result.count, result.people) == (3, 3)


def test_dates_and_the_follow_up_are_written_in_the_sessions_language() -> None:
    result = EX.aggregate(
        SETTINGS, [entry(1, "Ring", when="2027-01-15")], ctx({"follow_up": "2027-02-04"}, "nb")
    )
    assert result.items[0].label == "15. jan. 2027"
    assert result.follow_up == "2027-02-04"
    assert result.follow_up_label == "torsdag 4. februar 2027"


@pytest.mark.parametrize("state", [{"follow_up": "soon"}, {"follow_up": 5}, {"follow_up": "2027-02-30"}, {}])
def test_a_malformed_follow_up_reads_as_none(state: dict[str, Any]) -> None:
    assert EX.aggregate(SETTINGS, [], ctx(state)).follow_up is None


def test_units_do_not_change_the_result() -> None:
    plain = [entry(i, f"Step {i}") for i in range(1, 5)]
    units = [Entry(id=e.id, answer=e.answer, participant=e.participant, unit="Night") for e in plain]
    assert EX.aggregate(SETTINGS, plain, ctx()) == EX.aggregate(SETTINGS, units, ctx())


# --- the follow-up date ------------------------------------------------------------------------


def test_follow_up_sets_and_clears_the_date() -> None:
    state = EX.act(SETTINGS, {}, "follow_up", {"date": "2027-01-07"}, ctx())
    assert state == {"follow_up": "2027-01-07"}
    assert EX.act(SETTINGS, state, "follow_up", {"date": ""}, ctx()) == {"follow_up": None}
    assert EX.act(SETTINGS, state, "follow_up", {}, ctx()) == {"follow_up": None}


@pytest.mark.parametrize("raw", ["soon", "7.1.2027", "2027-02-30", "2027-01-07T10:00"])
def test_follow_up_refuses_what_is_no_date(raw: str) -> None:
    with pytest.raises(AnswerInvalid):
        EX.act(SETTINGS, {}, "follow_up", {"date": raw}, ctx())


def test_follow_up_refuses_a_date_gone_by() -> None:
    with pytest.raises(AnswerInvalid) as caught:
        EX.act(SETTINGS, {}, "follow_up", {"date": "2026-01-01"}, ctx())
    assert "passed" in caught.value.message


@pytest.mark.parametrize("action", ["", "edit", "FOLLOW_UP", "assign"])
def test_an_unknown_action_is_refused(action: str) -> None:
    with pytest.raises(AnswerInvalid):
        EX.act(SETTINGS, {}, action, {"date": "2027-01-07"}, ctx())


# --- simulate ----------------------------------------------------------------------------------

SAMPLES = [
    "Share the hand-off list | Day team | 2027-01-15",
    "Invite the therapists | Evening team | next staff meeting",
    "Book the room | Tovholder | +14",
    "Old date moves on | Kari | 2025-03-01",
    "A step without a date | Per",
]


def test_simulated_commitments_are_answers_a_phone_could_send() -> None:
    seen: set[str] = set()
    for seed in range(60):
        answers = EX.simulate(SETTINGS, random.Random(seed), SAMPLES, ctx())
        assert len(answers) <= SETTINGS.max_items
        for a in answers:
            form = {"what": a.what, "who": a.who, "when": a.when}
            assert EX.parse_answer(SETTINGS, form, ctx()) == a
            seen.add(a.when)
    assert {"2027-01-15", "next staff meeting", "2026-12-07", "2027-03-01", ""} <= seen


def test_simulate_is_the_same_for_the_same_seed() -> None:
    assert EX.simulate(SETTINGS, random.Random(4), SAMPLES, ctx()) == EX.simulate(
        SETTINGS, random.Random(4), SAMPLES, ctx()
    )


def test_simulate_without_samples_gives_nothing() -> None:
    assert EX.simulate(SETTINGS, random.Random(1), [], ctx()) == []


def test_simulate_state_sets_a_weekday_four_to_six_weeks_on() -> None:
    for seed in range(20):
        state = EX.simulate_state(SETTINGS, random.Random(seed), SAMPLES, [], ctx())
        day = date.fromisoformat(state["follow_up"])
        assert 28 <= (day - NOW.date()).days <= 44 and day.weekday() < 5
        assert EX.act(SETTINGS, {}, "follow_up", {"date": state["follow_up"]}, ctx()) == state


# --- templates ---------------------------------------------------------------------------------

ENV = make_env(build_registry())


class _Run:
    version = 3


def render(name: str, c: StepContext, entries: list[Entry[CommitmentsAnswer]], **extra: Any) -> str:
    from app.flows import Step

    step = Step(id="steps", exercise="commitments", minutes=1, title={"en": "T"}, notes={"en": "N"})
    return ENV.get_template(f"commitments/{name}").render(
        settings=SETTINGS,
        step=step,
        ctx=c,
        state=c.state,
        result=EX.aggregate(SETTINGS, entries, c),
        values={},
        run=_Run(),
        action_url="/runs/1/steps/steps/",
        csrf_token="t",
        fallback_locale="en",
        **extra,
    )


def test_the_list_escapes_what_people_wrote_and_says_how_many_more() -> None:
    entries = [entry(i, f"<b>Step {i}</b>", "<i>Kari</i>") for i in range(1, 10)]
    html = render("results.html", ctx({"follow_up": "2027-01-07"}), entries)
    assert "<b>Step" not in html and "&lt;b&gt;Step 1" in html and "&lt;i&gt;Kari" in html
    assert "9 commitments" in html and "Follow-up" in html and "style=" not in html


def test_the_console_has_a_date_input_and_a_clear_button_once_set() -> None:
    html = render("console.html", ctx({"follow_up": "2027-01-07"}), [])
    assert 'type="date"' in html and 'value="2027-01-07"' in html
    assert 'type="hidden" name="date" value=""' in html  # the clear button
    assert 'type="hidden" name="date"' not in render("console.html", ctx(), [])


def test_the_phone_form_has_what_who_and_when() -> None:
    html = render("fields.html", ctx(), [])
    for field in ('name="what"', 'name="who"', 'name="when"'):
        assert field in html


def test_a_commitment_is_sorted_into_start_now_or_another_forum() -> None:
    ex = Commitments()
    settings = CommitmentsSettings(ask_where=True)
    ctx = StepContext()
    now = ex.parse_answer(settings, {"what": "A", "who": "B", "decide": "now"}, ctx)
    other = ex.parse_answer(
        settings, {"what": "C", "who": "D", "decide": "elsewhere", "where": " the board "}, ctx
    )
    assert now.where == "" and other.where == "the board"
    with pytest.raises(AnswerInvalid):
        ex.parse_answer(settings, {"what": "C", "who": "D", "decide": "elsewhere", "where": ""}, ctx)
    with pytest.raises(AnswerInvalid):
        ex.parse_answer(settings, {"what": "C", "who": "D", "decide": "later"}, ctx)
    assert ex.parse_answer(settings, {"what": "C", "who": "D"}, ctx).where == ""  # the form's default
    plain = ex.parse_answer(
        CommitmentsSettings(), {"what": "E", "who": "F", "decide": "elsewhere", "where": "x"}, ctx
    )
    assert plain.where == ""  # a step that does not ask, does not sort


def test_the_markdown_export_shows_what_starts_now_and_what_needs_a_decision_elsewhere() -> None:
    from exercises.words import Words

    ex = Commitments()
    settings = CommitmentsSettings(ask_where=True)
    ctx = StepContext()
    answers = [
        ex.parse_answer(settings, {"what": "Start the huddle", "who": "Day team", "decide": "now"}, ctx),
        ex.parse_answer(
            settings,
            {"what": "Shared night pool", "who": "Leaders", "decide": "elsewhere", "where": "Board"},
            ctx,
        ),
    ]
    entries = [Entry(id=i, answer=a, participant=i) for i, a in enumerate(answers)]
    result = ex.aggregate(settings, entries, ctx)
    lines = "\n".join(ex.markdown(settings, result, Words("en")))
    assert lines.index("We start now") < lines.index("Start the huddle") < lines.index("Needs a decision")
    assert lines.index("Needs a decision") < lines.index("Shared night pool") and "Board" in lines
    assert sorted(t.where for t in ex.takeaways(settings, result)) == ["", "Board"]
