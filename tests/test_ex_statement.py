"""statement: settings, the draft, reactions per revision, the tovholder's edits, simulate()."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pydantic import ValidationError

from app.templating import make_env
from exercises import build_registry
from exercises.base import AnswerInvalid, Entry, StepContext
from exercises.statement import MAX_REACTIONS, Statement, StatementAnswer, StatementSettings

EX = Statement()
SETTINGS = StatementSettings(max_length=100, comment_length=20)
DRAFT = {"en": "Together we …", "nb": "Sammen …"}


def ctx(text: str = "We care.", revision: int = 2, locale: str = "en") -> StepContext:
    return StepContext(state={"text": text, "revision": revision}, locale=locale)


def parse(form: dict[str, Any], c: StepContext | None = None) -> StatementAnswer:
    return EX.parse_answer(SETTINGS, form, c or ctx())


def refusal(form: dict[str, Any], c: StepContext | None = None) -> str:
    with pytest.raises(AnswerInvalid) as caught:
        parse(form, c)
    return caught.value.message


def entry(
    i: int, reaction: str, revision: int, participant: int, comment: str = ""
) -> Entry[StatementAnswer]:
    answer = StatementAnswer(reaction=reaction, comment=comment, revision=revision)  # type: ignore[arg-type]
    return Entry(id=i, answer=answer, participant=participant)


# --- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ({}, True),
        ({"draft": DRAFT}, True),
        ({"draft": {}}, False),
        ({"draft": {"xx": "Hi"}}, False),
        ({"draft": {"en": " "}}, False),
        ({"max_length": 49}, False),
        ({"max_length": 50}, True),
        ({"max_length": 2000}, True),
        ({"max_length": 2001}, False),
        ({"comment_length": 9}, False),
        ({"comment_length": 10}, True),
        ({"comment_length": 500}, True),
        ({"comment_length": 501}, False),
        ({"draft": {"en": "x" * 50}, "max_length": 50}, True),
        ({"draft": {"en": "x" * 51}, "max_length": 50}, False),
        ({"text": "x"}, False),
    ],
)
def test_settings_bounds(raw: dict[str, Any], ok: bool) -> None:
    if ok:
        EX.settings(raw)
    else:
        with pytest.raises(ValidationError):
            EX.settings(raw)


# --- the draft ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "draft", "text"),
    [
        ("nb", DRAFT, "Sammen …"),
        ("sv", DRAFT, "Together we …"),  # no Swedish: English
        ("da", {"nn": "Saman …"}, "Saman …"),  # neither: any
    ],
)
def test_the_draft_waits_on_the_console_in_the_sessions_language(
    locale: str, draft: dict[str, str], text: str
) -> None:
    """The draft is where the tovholder starts writing: no version yet, nothing to agree with."""
    settings = StatementSettings(draft=draft)
    state = EX.initial_state(settings, StepContext(locale=locale))
    assert state == {"text": text, "revision": 0}
    assert EX.max_answers(settings, StepContext(state=state)) == 0
    shown = EX.act(settings, state, "edit", {"text": text}, StepContext(state=state))
    assert shown == {"text": text, "revision": 1}


def test_without_a_draft_there_is_no_text_and_no_reactions_yet() -> None:
    c = StepContext(state=EX.initial_state(SETTINGS, StepContext()))
    assert c.state == {"text": "", "revision": 0}
    assert EX.max_answers(SETTINGS, c) == 0
    assert "no text" in refusal({"reaction": "agree", "revision": "0"}, c)


def test_with_a_text_a_person_may_react_again() -> None:
    assert EX.max_answers(SETTINGS, ctx()) == MAX_REACTIONS == 20


# --- parse_answer ------------------------------------------------------------------------------


def test_agree_needs_no_comment() -> None:
    assert parse({"reaction": "agree", "revision": "2"}) == StatementAnswer(reaction="agree", revision=2)
    assert parse({"reaction": "agree", "revision": "2", "comment": "  "}).comment == ""


def test_agree_may_carry_a_comment() -> None:
    assert parse({"reaction": "agree", "revision": "2", "comment": " Yes! "}).comment == "Yes!"


def test_adjust_with_a_comment_keeps_its_lines() -> None:
    answer = parse({"reaction": "adjust", "revision": "2", "comment": "Add\r\nnights"})
    assert answer == StatementAnswer(reaction="adjust", comment="Add\nnights", revision=2)


@pytest.mark.parametrize("comment", [None, "", "   ", "\u200b"])
def test_adjust_without_a_comment_is_refused(comment: Any) -> None:
    form = {"reaction": "adjust", "revision": "2"}
    if comment is not None:
        form["comment"] = comment
    assert "what you would change" in refusal(form)


@pytest.mark.parametrize("reaction", [None, "", "yes", "AGREE", 1, ["agree"]])
def test_a_reaction_that_is_neither_is_refused(reaction: Any) -> None:
    assert "agree, or suggest" in refusal({"reaction": reaction, "revision": "2"})


def test_a_reaction_to_an_older_revision_is_refused_with_a_clear_message() -> None:
    assert (
        refusal({"reaction": "agree", "revision": "1"})
        == "The text changed while you answered; read it again."
    )
    assert "changed" in refusal({"reaction": "agree", "revision": "3"})


@pytest.mark.parametrize("revision", [None, "", "two", "-1", "1.0", True, 2.0])
def test_a_missing_or_malformed_revision_is_refused(revision: Any) -> None:
    form: dict[str, Any] = {"reaction": "agree"}
    if revision is not None:
        form["revision"] = revision
    assert "version" in refusal(form)


def test_the_revision_may_come_as_a_number_over_the_socket() -> None:
    assert parse({"reaction": "agree", "revision": 2}).revision == 2


def test_a_comment_at_the_cap_is_kept_and_over_it_refused() -> None:
    assert parse({"reaction": "adjust", "revision": "2", "comment": "x" * 20}).comment == "x" * 20
    with pytest.raises(AnswerInvalid) as caught:
        parse({"reaction": "adjust", "revision": "2", "comment": "x" * 21})
    assert caught.value.params == {"length": 21, "limit": 20}


def test_a_comment_that_is_not_text_is_refused() -> None:
    with pytest.raises(AnswerInvalid):
        parse({"reaction": "agree", "revision": "2", "comment": 5})


def test_the_answer_model_caps_the_comment() -> None:
    with pytest.raises(ValidationError):
        StatementAnswer(reaction="adjust", comment="x" * 501, revision=1)


# --- aggregate ---------------------------------------------------------------------------------


def test_no_reactions() -> None:
    result = EX.aggregate(SETTINGS, [], ctx())
    assert (result.text, result.revision, result.agree, result.adjust, result.comments, result.earlier) == (
        "We care.",
        2,
        0,
        0,
        [],
        0,
    )
    assert result.count == 0 and result.agree_share == 0


def test_no_text_yet() -> None:
    result = EX.aggregate(SETTINGS, [], StepContext(state={"text": "", "revision": 0}))
    assert result.revision == 0 and result.text == ""


def test_one_reaction() -> None:
    result = EX.aggregate(SETTINGS, [entry(1, "agree", 2, 1)], ctx())
    assert (result.agree, result.adjust, result.agree_share) == (1, 0, 100)


def test_a_tie_splits_the_bar_in_half() -> None:
    entries = [entry(1, "agree", 2, 1), entry(2, "adjust", 2, 2, "Shorter")]
    result = EX.aggregate(SETTINGS, entries, ctx())
    assert (result.agree, result.adjust, result.agree_share) == (1, 1, 50)


def test_only_each_persons_latest_reaction_to_the_current_revision_counts() -> None:
    entries = [
        entry(1, "adjust", 1, 1, "Old thought"),  # the draft: left out
        entry(2, "adjust", 2, 1, "Shorter"),
        entry(3, "agree", 2, 1),  # changed their mind: this counts
        entry(4, "adjust", 2, 2, "Add nights"),
        entry(5, "agree", 1, 3),  # reacted to the draft only
    ]
    result = EX.aggregate(SETTINGS, entries, ctx())
    assert (result.agree, result.adjust, result.earlier) == (1, 1, 1)
    assert [c.text for c in result.comments] == ["Add nights"]


def test_comments_are_newest_first_with_their_reaction() -> None:
    entries = [entry(1, "adjust", 2, 1, "First"), entry(2, "agree", 2, 2, "Second")]
    result = EX.aggregate(SETTINGS, entries, ctx())
    assert [(c.reaction, c.text) for c in result.comments] == [("agree", "Second"), ("adjust", "First")]


def test_the_share_is_in_steps_of_five() -> None:
    entries = [entry(i, "agree" if i < 3 else "adjust", 2, i, "x") for i in range(1, 8)]  # 2 of 7
    assert EX.aggregate(SETTINGS, entries, ctx()).agree_share == 30


def test_units_do_not_change_the_result() -> None:
    plain = [entry(i, "agree", 2, i) for i in range(1, 5)]
    units = [Entry(id=e.id, answer=e.answer, participant=e.participant, unit="Night") for e in plain]
    assert EX.aggregate(SETTINGS, plain, ctx()) == EX.aggregate(SETTINGS, units, ctx())


# --- the tovholder's edits ---------------------------------------------------------------------


def test_an_edit_is_a_new_revision() -> None:
    state = EX.act(
        SETTINGS, {"text": "We care.", "revision": 2}, "edit", {"text": " We care\r\nfor all. "}, ctx()
    )
    assert state == {"text": "We care\nfor all.", "revision": 3}


def test_the_first_text_is_revision_one() -> None:
    state = EX.act(SETTINGS, {"text": "", "revision": 0}, "edit", {"text": "First"}, ctx("", 0))
    assert state == {"text": "First", "revision": 1}


def test_an_edit_that_changes_nothing_keeps_the_revision_and_its_reactions() -> None:
    assert EX.act(SETTINGS, {"text": "Same", "revision": 4}, "edit", {"text": " Same "}, ctx()) == {
        "text": "Same",
        "revision": 4,
    }


@pytest.mark.parametrize("text", [None, "", "  ", "\u200b", 5])
def test_an_empty_edit_is_refused(text: Any) -> None:
    with pytest.raises(AnswerInvalid) as caught:
        EX.act(SETTINGS, {"text": "Same", "revision": 4}, "edit", {"text": text}, ctx())
    assert "write the text" in caught.value.message


def test_an_edit_over_the_cap_is_refused() -> None:
    EX.act(SETTINGS, {}, "edit", {"text": "x" * 100}, ctx())
    with pytest.raises(AnswerInvalid) as caught:
        EX.act(SETTINGS, {}, "edit", {"text": "x" * 101}, ctx())
    assert caught.value.params == {"length": 101, "limit": 100}


@pytest.mark.parametrize("action", ["", "publish", "EDIT", "add_group"])
def test_an_unknown_action_is_refused(action: str) -> None:
    with pytest.raises(AnswerInvalid):
        EX.act(SETTINGS, {"text": "x", "revision": 1}, action, {"text": "y"}, ctx())


def test_a_malformed_state_reads_as_no_text() -> None:
    for state in (
        {},
        {"text": 5, "revision": 2},
        {"text": "x", "revision": "2"},
        {"text": "x", "revision": True},
    ):
        assert EX.aggregate(SETTINGS, [], StepContext(state=state)).revision == 0


# --- simulate ----------------------------------------------------------------------------------

SAMPLES = ["Together we keep people safe at home.", "Add the nights.", "Good.", "Shorter, please."]
WITH_DRAFT = StatementSettings(draft=DRAFT, comment_length=20)


def test_simulated_reactions_are_answers_the_final_state_accepts() -> None:
    start = StepContext(state=EX.initial_state(WITH_DRAFT, StepContext()))
    final = EX.simulate_state(WITH_DRAFT, random.Random(0), SAMPLES, [], start)
    assert final == {"text": SAMPLES[0], "revision": 1}
    seen = set()
    for seed in range(40):
        for answer in EX.simulate(WITH_DRAFT, random.Random(seed), SAMPLES, start):
            assert answer.revision == 1
            seen.add((answer.revision, answer.reaction))
            form = {"reaction": answer.reaction, "comment": answer.comment, "revision": "1"}
            assert EX.parse_answer(WITH_DRAFT, form, StepContext(state=final)) == answer
    assert {(1, "agree"), (1, "adjust")} <= seen


def test_simulate_is_the_same_for_the_same_seed() -> None:
    c = StepContext(state=EX.initial_state(WITH_DRAFT, StepContext()))
    assert EX.simulate(WITH_DRAFT, random.Random(5), SAMPLES, c) == EX.simulate(
        WITH_DRAFT, random.Random(5), SAMPLES, c
    )


def test_simulate_without_samples_reacts_to_the_draft() -> None:
    c = StepContext(state=EX.initial_state(WITH_DRAFT, StepContext()))
    answers = EX.simulate(WITH_DRAFT, random.Random(1), [], c)
    assert answers == [StatementAnswer(reaction="agree", revision=1)]
    assert EX.simulate_state(WITH_DRAFT, random.Random(1), [], [], c) == {
        "text": "Together we …",
        "revision": 1,
    }


def test_simulate_without_samples_or_draft_gives_nothing() -> None:
    c = StepContext(state=EX.initial_state(SETTINGS, StepContext()))
    assert EX.simulate(SETTINGS, random.Random(1), [], c) == []
    assert EX.simulate_state(SETTINGS, random.Random(1), [], [], c) == {"text": "", "revision": 0}


# --- templates ---------------------------------------------------------------------------------

ENV = make_env(build_registry())


class _Run:
    version = 3


def render(name: str, c: StepContext, entries: list[Entry[StatementAnswer]] = (), **extra: Any) -> str:  # type: ignore[assignment]
    from app.flows import Step

    step = Step(id="core", exercise="statement", minutes=1, title={"en": "T"}, notes={"en": "N"})
    return ENV.get_template(f"statement/{name}").render(
        settings=SETTINGS,
        step=step,
        ctx=c,
        state=c.state,
        result=EX.aggregate(SETTINGS, entries, c),
        values={},
        run=_Run(),
        action_url="/runs/1/steps/core/",
        csrf_token="t",
        fallback_locale="en",
        **extra,
    )


def test_the_phone_form_carries_the_current_revision_and_both_choices() -> None:
    html = render("fields.html", ctx(revision=4))
    assert 'name="revision" value="4"' in html
    assert 'value="agree"' in html and 'value="adjust"' in html and 'name="comment"' in html


def test_the_views_escape_the_text_and_the_comments() -> None:
    c = ctx("<b>We</b>", 2)
    entries = [entry(1, "adjust", 2, 1, "<i>no</i>")]
    for name in ("results.html", "phone.html", "console.html"):
        html = render(name, c, entries)
        assert "<b>We" not in html and "&lt;b&gt;We" in html
        assert "<i>no" not in html and "style=" not in html


def test_a_sent_reaction_to_an_older_revision_says_so() -> None:
    html = render("sent.html", ctx(revision=3), answer=StatementAnswer(reaction="agree", revision=2))
    assert "changed since" in html
    html = render("sent.html", ctx(revision=2), answer=StatementAnswer(reaction="agree", revision=2))
    assert "changed since" not in html
