"""Each exercise on its own: settings bounds, answer parsing and cleaning, aggregates, simulate()."""

from __future__ import annotations

import random
import unicodedata
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from app.flows import load_flow
from exercises import build_registry
from exercises.base import AnswerInvalid, Entry, StepContext
from exercises.open_text import HARD_CAP, OpenText, OpenTextAnswer, OpenTextSettings
from exercises.scale import Scale, ScaleAnswer, ScaleSettings
from exercises.talk import NoAnswer, Talk, TalkSettings
from exercises.word_cloud import SHOWN, WordCloud, WordCloudAnswer, WordCloudSettings
from tests.harness import ROOT

CTX = StepContext()


def entries(answers: list[Any]) -> list[Entry[Any]]:
    """Answers as the runner hands them over: each from another person, no unit."""
    return [Entry(id=i, answer=a, participant=i) for i, a in enumerate(answers, 1)]


LOW = {"en": "Low", "nb": "Lav"}
HIGH = {"en": "High", "nb": "Høy"}

# Unicode's Bidi_Control characters (PropList.txt): marks, embeddings, overrides and isolates.
BIDI_CONTROLS = [
    "\u061c",
    "\u200e",
    "\u200f",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
]
# Every C0 and C1 control but the tab and the line breaks, which text may carry.
CONTROLS = [
    chr(i) for i in range(0x110000) if unicodedata.category(chr(i)) == "Cc" and chr(i) not in "\t\n\r"
]


# --- settings --------------------------------------------------------------------------------------


def accepts(exercise: Any, raw: dict[str, Any]) -> bool:
    try:
        exercise.settings(raw)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ({}, True),
        ({"max_cards": 0}, False),
        ({"max_cards": 1}, True),
        ({"max_cards": 10}, True),
        ({"max_cards": 11}, False),
        ({"max_length": 9}, False),
        ({"max_length": 10}, True),
        ({"max_length": HARD_CAP}, True),
        ({"max_length": HARD_CAP + 1}, False),
        ({"placeholder": {"en": "Write…"}}, True),
        ({"placeholder": {}}, False),
        ({"placeholder": {"xx": "Write…"}}, False),
        ({"placeholder": {"en": "   "}}, False),
        ({"colour": "red"}, False),
    ],
)
def test_open_text_settings_bounds(raw: dict[str, Any], ok: bool) -> None:
    assert accepts(OpenText(), raw) is ok


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ({}, True),
        ({"max_words": 0}, False),
        ({"max_words": 1}, True),
        ({"max_words": 5}, True),
        ({"max_words": 6}, False),
        ({"max_length": 2}, False),
        ({"max_length": 3}, True),
        ({"max_length": 60}, True),
        ({"max_length": 61}, False),
        ({"colour": "red"}, False),
    ],
)
def test_word_cloud_settings_bounds(raw: dict[str, Any], ok: bool) -> None:
    assert accepts(WordCloud(), raw) is ok


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ({"low": LOW, "high": HIGH}, True),
        ({"points": 5, "low": LOW, "high": HIGH}, True),
        ({"points": 7, "low": LOW, "high": HIGH}, True),
        ({"points": 4, "low": LOW, "high": HIGH}, False),
        ({"points": 6, "low": LOW, "high": HIGH}, False),
        ({"points": 10, "low": LOW, "high": HIGH}, False),
        ({"points": 5, "high": HIGH}, False),
        ({"points": 5, "low": LOW}, False),
        ({"points": 5, "low": {"en": ""}, "high": HIGH}, False),
        ({"points": 5, "low": LOW, "high": HIGH, "colour": "red"}, False),
    ],
)
def test_scale_settings_bounds(raw: dict[str, Any], ok: bool) -> None:
    assert accepts(Scale(), raw) is ok


@pytest.mark.parametrize(("n", "ok"), [(0, True), (8, True), (9, False)])
def test_talk_settings_take_at_most_eight_points(n: int, ok: bool) -> None:
    assert accepts(Talk(), {"points": [{"en": f"Point {i}"} for i in range(n)]}) is ok


def test_settings_are_frozen() -> None:
    settings = OpenText().settings({"max_cards": 2})
    with pytest.raises(ValidationError):
        settings.max_cards = 5  # type: ignore[misc]


# --- parse_answer: the text exercises share the cleaning rules ------------------------------------

# (exercise, the form field, its settings, single-line?)
TEXT_CASES = [
    pytest.param(OpenText(), "text", OpenTextSettings(max_length=50), False, id="open_text"),
    pytest.param(WordCloud(), "word", WordCloudSettings(max_length=50), True, id="word_cloud"),
]


def parsed(exercise: Any, field: str, settings: BaseModel, raw: Any) -> str:
    answer = exercise.parse_answer(settings, {field: raw}, CTX)
    value = answer.model_dump()[field]
    assert isinstance(value, str)
    return value


def refusal(exercise: Any, field: str, settings: BaseModel, raw: Any) -> AnswerInvalid:
    with pytest.raises(AnswerInvalid) as caught:
        exercise.parse_answer(settings, {field: raw}, CTX)
    return caught.value


@pytest.mark.parametrize(("exercise", "field", "settings", "single_line"), TEXT_CASES)
def test_text_answer_valid_is_trimmed(exercise: Any, field: str, settings: Any, single_line: bool) -> None:
    assert parsed(exercise, field, settings, "  Storm på Nordlandet ✓  ") == "Storm på Nordlandet ✓"


@pytest.mark.parametrize(("exercise", "field", "settings", "single_line"), TEXT_CASES)
@pytest.mark.parametrize("raw", ["", "   ", "\n\t \r\n ", "\u200b\u200b", "\x00\x07"])
def test_text_answer_empty_or_blank_is_refused(
    exercise: Any, field: str, settings: Any, single_line: bool, raw: str
) -> None:
    assert refusal(exercise, field, settings, raw).message == "Please write something before you send."


@pytest.mark.parametrize(("exercise", "field", "settings", "single_line"), TEXT_CASES)
@pytest.mark.parametrize("raw", [None, 42, ["a"]])
def test_text_answer_that_is_not_text_is_refused(
    exercise: Any, field: str, settings: Any, single_line: bool, raw: Any
) -> None:
    assert refusal(exercise, field, settings, raw).message == "Please write something before you send."


@pytest.mark.parametrize(("exercise", "field", "settings", "single_line"), TEXT_CASES)
def test_text_answer_missing_field_is_refused(
    exercise: Any, field: str, settings: Any, single_line: bool
) -> None:
    with pytest.raises(AnswerInvalid):
        exercise.parse_answer(settings, {}, CTX)


@pytest.mark.parametrize(("exercise", "field", "settings", "single_line"), TEXT_CASES)
def test_text_answer_at_the_cap_is_kept_and_over_it_refused_with_both_numbers(
    exercise: Any, field: str, settings: Any, single_line: bool
) -> None:
    cap = settings.max_length
    assert parsed(exercise, field, settings, "x" * cap) == "x" * cap
    error = refusal(exercise, field, settings, "x" * (cap + 1))
    assert error.params == {"length": cap + 1, "limit": cap}
    assert str(cap + 1) in str(error) and str(cap) in str(error)


@pytest.mark.parametrize(("exercise", "field", "settings", "single_line"), TEXT_CASES)
def test_text_answer_cap_counts_characters_after_nfc(
    exercise: Any, field: str, settings: Any, single_line: bool
) -> None:
    decomposed = "e\u0301" * settings.max_length  # twice the cap in code points, the cap once composed
    assert parsed(exercise, field, settings, decomposed) == "é" * settings.max_length


@pytest.mark.parametrize(("exercise", "field", "settings", "single_line"), TEXT_CASES)
def test_text_answer_is_nfc(exercise: Any, field: str, settings: Any, single_line: bool) -> None:
    assert parsed(exercise, field, settings, "Ka\u0308re og A\u030asa") == "Käre og Åsa"


@pytest.mark.parametrize(("exercise", "field", "settings", "single_line"), TEXT_CASES)
def test_text_answer_is_nfc_even_after_an_invisible_character_is_stripped(
    exercise: Any, field: str, settings: Any, single_line: bool
) -> None:
    text = parsed(exercise, field, settings, "cafe\u200b\u0301")
    assert text == "café"
    assert unicodedata.is_normalized("NFC", text)


@pytest.mark.parametrize(("exercise", "field", "settings", "single_line"), TEXT_CASES)
def test_text_answer_control_characters_are_stripped(
    exercise: Any, field: str, settings: Any, single_line: bool
) -> None:
    kept = [c for c in CONTROLS if parsed(exercise, field, settings, f"a{c}b") != "ab"]
    assert kept == [], [f"U+{ord(c):04X}" for c in kept]


@pytest.mark.parametrize(("exercise", "field", "settings", "single_line"), TEXT_CASES)
def test_text_answer_bidi_controls_are_stripped(
    exercise: Any, field: str, settings: Any, single_line: bool
) -> None:
    kept = [c for c in BIDI_CONTROLS if parsed(exercise, field, settings, f"abc{c}def") != "abcdef"]
    assert kept == [], [f"U+{ord(c):04X}" for c in kept]
    # The classic spoof: an override that makes "exe.txt" read as "txt.exe".
    assert parsed(exercise, field, settings, "invoice\u202etxt.exe") == "invoicetxt.exe"


@pytest.mark.parametrize(("exercise", "field", "settings", "single_line"), TEXT_CASES)
@pytest.mark.parametrize("invisible", ["\u200b", "\u2060", "\ufeff"], ids=["zwsp", "word-joiner", "bom"])
def test_text_answer_invisible_characters_are_stripped(
    exercise: Any, field: str, settings: Any, single_line: bool, invisible: str
) -> None:
    """Else "storm" and "storm" + an invisible character count as two words that look the same."""
    assert parsed(exercise, field, settings, f"{invisible}storm{invisible}") == "storm"


@pytest.mark.parametrize(("exercise", "field", "settings", "single_line"), TEXT_CASES)
def test_text_answer_keeps_joiners_that_emoji_and_scripts_need(
    exercise: Any, field: str, settings: Any, single_line: bool
) -> None:
    technologist = "\U0001f469\u200d\U0001f4bb"  # woman + ZWJ + laptop: one emoji
    assert parsed(exercise, field, settings, f"Team {technologist}") == f"Team {technologist}"
    persian = "می\u200cخواهم"  # the ZWNJ is part of the spelling
    assert parsed(exercise, field, settings, persian) == persian


def test_open_text_keeps_line_breaks_and_unifies_them() -> None:
    settings = OpenTextSettings()
    assert parsed(OpenText(), "text", settings, "one\r\ntwo\rthree\nfour") == "one\ntwo\nthree\nfour"


def test_word_cloud_answer_is_one_line_with_single_spaces() -> None:
    settings = WordCloudSettings()
    assert parsed(WordCloud(), "word", settings, "  good \n\t  team\r\nwork ") == "good team work"


def test_word_cloud_cap_counts_the_collapsed_text() -> None:
    settings = WordCloudSettings(max_length=5)
    assert parsed(WordCloud(), "word", settings, "a    b\n\n c") == "a b c"


def test_open_text_max_answers_is_max_cards() -> None:
    assert OpenText().max_answers(OpenTextSettings(max_cards=3), CTX) == 3


def test_word_cloud_max_answers_is_max_words() -> None:
    assert WordCloud().max_answers(WordCloudSettings(max_words=2), CTX) == 2


# --- scale -----------------------------------------------------------------------------------------


def scale(points: int = 5) -> ScaleSettings:
    return Scale().settings({"points": points, "low": LOW, "high": HIGH})


@pytest.mark.parametrize(("raw", "value"), [("1", 1), ("5", 5), (" 3 ", 3), (4, 4), ("+2", 2)])
def test_scale_accepts_a_number_on_the_scale(raw: Any, value: int) -> None:
    assert Scale().parse_answer(scale(5), {"value": raw}, CTX) == ScaleAnswer(value=value)


@pytest.mark.parametrize("raw", ["0", "6", "7", "-1", 0, 6])
def test_scale_refuses_a_number_off_a_five_point_scale(raw: Any) -> None:
    with pytest.raises(AnswerInvalid) as caught:
        Scale().parse_answer(scale(5), {"value": raw}, CTX)
    assert caught.value.params == {"points": 5}
    assert "from 1 to 5" in str(caught.value)


def test_scale_of_seven_takes_seven_and_refuses_eight() -> None:
    assert Scale().parse_answer(scale(7), {"value": "7"}, CTX).value == 7
    with pytest.raises(AnswerInvalid):
        Scale().parse_answer(scale(7), {"value": "8"}, CTX)


@pytest.mark.parametrize("raw", ["", "   ", "abc", "2.5", "3.0", None, "9" * 5000])
def test_scale_refuses_what_is_not_a_whole_number(raw: Any) -> None:
    with pytest.raises(AnswerInvalid) as caught:
        Scale().parse_answer(scale(5), {"value": raw}, CTX)
    assert caught.value.message == "Please pick one of the numbers."


def test_scale_missing_value_is_refused() -> None:
    with pytest.raises(AnswerInvalid):
        Scale().parse_answer(scale(5), {}, CTX)


def test_scale_takes_one_answer_per_person() -> None:
    assert Scale().max_answers(scale(5), CTX) == 1


def test_scale_aggregate_of_no_answers_has_no_median() -> None:
    result = Scale().aggregate(scale(5), entries([]), CTX)
    assert (result.count, result.counts, result.median, result.mean, result.peak) == (
        0,
        [0] * 5,
        None,
        None,
        0,
    )


def test_scale_aggregate_of_one_answer() -> None:
    result = Scale().aggregate(scale(7), entries([ScaleAnswer(value=6)]), CTX)
    assert result.count == 1
    assert result.counts == [0, 0, 0, 0, 0, 1, 0]
    assert result.median == 6.0 and result.mean == 6.0
    assert result.points == 7


def test_scale_median_of_an_even_count_is_the_midpoint() -> None:
    result = Scale().aggregate(scale(5), entries([ScaleAnswer(value=2), ScaleAnswer(value=3)]), CTX)
    assert result.median == 2.5
    assert result.mean == 2.5


def test_scale_median_of_an_odd_count_and_a_rounded_mean() -> None:
    answers = [ScaleAnswer(value=v) for v in (1, 2, 2)]
    result = Scale().aggregate(scale(5), entries(answers), CTX)
    assert result.median == 2.0
    assert result.mean == 1.67
    assert result.counts == [1, 2, 0, 0, 0]
    assert result.peak == 2


def test_scale_aggregate_ignores_values_outside_its_points() -> None:
    """A stored 6 or 7 (say, the flow went from 7 to 5 points) is left out, not crashed on."""
    answers = [ScaleAnswer(value=v) for v in (1, 6, 7, 5)]
    result = Scale().aggregate(scale(5), entries(answers), CTX)
    assert result.count == 2
    assert result.counts == [1, 0, 0, 0, 1]
    assert result.median == 3.0


def test_scale_answer_model_refuses_values_outside_one_to_seven() -> None:
    for value in (0, 8):
        with pytest.raises(ValidationError):
            Scale().load_answer({"value": value})


# --- open text aggregate -----------------------------------------------------------------------------


def test_open_text_aggregate_of_no_answers() -> None:
    assert OpenText().aggregate(OpenTextSettings(), entries([]), CTX).model_dump() == {
        "count": 0,
        "cards": [],
    }


def test_open_text_aggregate_keeps_every_card_in_order_with_duplicates() -> None:
    texts = ["Second", "First", "Second"]
    result = OpenText().aggregate(OpenTextSettings(), entries([OpenTextAnswer(text=t) for t in texts]), CTX)
    assert result.count == 3
    assert result.cards == texts


# --- word cloud aggregate ----------------------------------------------------------------------------


def cloud(*words: str) -> Any:
    return WordCloud().aggregate(WordCloudSettings(), entries([WordCloudAnswer(word=w) for w in words]), CTX)


def test_word_cloud_of_no_answers() -> None:
    result = cloud()
    assert (result.count, result.distinct, result.words) == (0, 0, [])


def test_word_cloud_of_one_answer_is_middle_sized() -> None:
    result = cloud("Calm")
    assert [(w.text, w.count, w.size) for w in result.words] == [("Calm", 1, 3)]


def test_word_cloud_merges_the_same_word_in_any_case() -> None:
    result = cloud("Storm", "storm", "STORM", "calm")
    assert result.count == 4
    assert result.distinct == 2
    assert {w.text.casefold(): w.count for w in result.words} == {"storm": 3, "calm": 1}


def test_word_cloud_merges_by_casefold_not_only_lower() -> None:
    result = cloud("Straße", "STRASSE")
    assert result.distinct == 1
    assert result.words[0].count == 2


def test_word_cloud_shows_the_most_used_spelling() -> None:
    result = cloud("storm", "Storm", "Storm")
    assert [w.text for w in result.words] == ["Storm"]


def test_word_cloud_shows_the_first_spelling_on_a_tie() -> None:
    assert [w.text for w in cloud("teamwork", "Teamwork").words] == ["teamwork"]
    assert [w.text for w in cloud("Teamwork", "teamwork").words] == ["Teamwork"]


def test_word_cloud_is_alphabetical_ignoring_case() -> None:
    result = cloud("beta", "Alpha", "gamma", "alpha", "Delta", "beta", "beta")
    assert [w.text.casefold() for w in result.words] == ["alpha", "beta", "delta", "gamma"]


def test_word_cloud_sizes_run_from_one_to_five_by_count() -> None:
    result = cloud(*["a"] * 5, *["b"] * 3, "c")
    sizes = {w.text: w.size for w in result.words}
    assert sizes == {"a": 5, "b": 3, "c": 1}


def test_word_cloud_ties_in_count_get_the_same_size() -> None:
    result = cloud("a", "a", "b", "b", "c")
    sizes = {w.text: w.size for w in result.words}
    assert sizes["a"] == sizes["b"] == 5
    assert sizes["c"] == 1


def test_word_cloud_shows_the_most_frequent_words_and_breaks_ties_alphabetically() -> None:
    words = [f"w{i:02d}" for i in range(SHOWN + 5)]
    result = cloud(*words, "w44", "w44")  # w44 is the most frequent, so it is shown despite sorting last
    assert result.count == len(words) + 2
    assert result.distinct == len(words)
    shown = [w.text for w in result.words]
    assert len(shown) == SHOWN
    assert "w44" in shown
    assert shown[:-1] == words[: SHOWN - 1]  # the other places go to the alphabetically first


# --- talk ---------------------------------------------------------------------------------------------


def test_talk_takes_no_answers() -> None:
    talk = Talk()
    settings = TalkSettings()
    assert talk.collects_answers is False
    assert talk.max_answers(settings, CTX) == 0
    with pytest.raises(AnswerInvalid):
        talk.parse_answer(settings, {"text": "hello"}, CTX)
    assert talk.aggregate(settings, entries([]), CTX).model_dump() == {}
    assert talk.simulate(settings, random.Random(1), ["x"], CTX) == []
    assert talk.load_answer({}) == NoAnswer()


# --- simulate ----------------------------------------------------------------------------------------


FLOW = load_flow(ROOT / "sessions" / "reflection.yaml", build_registry())
REGISTRY = build_registry()
# The one-field exercises of this file; each newer exercise tests its simulate() in its own file.
ONE_FIELD = {"open_text": "text", "word_cloud": "word", "scale": "value"}
ANSWERING_STEPS = [s for s in FLOW.steps if s.exercise in ONE_FIELD]


@pytest.mark.parametrize("step", ANSWERING_STEPS, ids=lambda s: s.id)
@pytest.mark.parametrize("locale", FLOW.locales)
def test_simulate_gives_answers_a_phone_could_send_within_the_cap(step: Any, locale: str) -> None:
    exercise = REGISTRY[step.exercise]
    settings = exercise.settings(step.settings)
    samples = step.demo.get(locale, [])
    rng = random.Random(1234)
    field = ONE_FIELD[step.exercise]
    for _ in range(300):
        answers = exercise.simulate(settings, rng, samples, CTX)
        assert 1 <= len(answers) <= exercise.max_answers(settings, CTX)
        for answer in answers:
            value = answer.model_dump()[field]
            assert exercise.parse_answer(settings, {field: str(value)}, CTX) == answer
        if step.exercise == "word_cloud":
            words = [a.model_dump()["word"] for a in answers]
            assert len(words) == len(set(words)), "one person sends a word once"


@pytest.mark.parametrize("points", [5, 7])
def test_simulated_scale_values_cover_the_scale_and_stay_on_it(points: int) -> None:
    settings = scale(points)
    rng = random.Random(7)
    values = [a.value for _ in range(2000) for a in Scale().simulate(settings, rng, [], CTX)]
    assert set(values) <= set(range(1, points + 1))
    assert len(set(values)) >= 3, "a simulated room shows some spread"


@pytest.mark.parametrize(
    ("exercise", "settings"),
    [(OpenText(), OpenTextSettings(max_cards=3)), (WordCloud(), WordCloudSettings(max_words=3))],
    ids=["open_text", "word_cloud"],
)
def test_simulate_without_samples_gives_nothing(exercise: Any, settings: Any) -> None:
    assert exercise.simulate(settings, random.Random(1), [], CTX) == []


def test_simulate_cuts_long_samples_to_the_cap() -> None:
    settings = WordCloudSettings(max_words=1, max_length=4)
    answers = WordCloud().simulate(settings, random.Random(3), ["teamwork"], CTX)
    assert [a.word for a in answers] == ["team"]


def test_simulate_respects_one_card() -> None:
    settings = OpenTextSettings(max_cards=1)
    rng = random.Random(5)
    assert all(len(OpenText().simulate(settings, rng, ["a", "b", "c"], CTX)) == 1 for _ in range(100))


@pytest.mark.parametrize("step", ANSWERING_STEPS, ids=lambda s: s.id)
def test_simulate_with_the_same_seed_repeats_itself(step: Any) -> None:
    exercise = REGISTRY[step.exercise]
    settings = exercise.settings(step.settings)
    samples = step.demo.get("en", [])
    first = [exercise.simulate(settings, random.Random(99), samples, CTX) for _ in range(3)]
    again = [exercise.simulate(settings, random.Random(99), samples, CTX) for _ in range(3)]
    assert first == again


def test_a_type_that_stores_nothing_on_opening_opens_alike_whoever_is_there() -> None:
    """A type whose step stores no state when it opens (settles_state_on_open = False) has an
    opening state that needs nothing of the room: the same for nobody as for a room of people
    and units. (One that draws from the room, a speaking order or a split, stores it.)"""
    from exercises.base import Member
    from tests.stagehand import FLOWS

    registry = build_registry()
    shipped = {step.exercise: step.settings for flow in FLOWS.values() for step in flow.steps}
    room = StepContext(
        locale="nb",
        units=("Kjøkken", "Pleie"),
        members=tuple(
            Member(public_id=f"p{i}", name=f"Navn {i}", unit=("Kjøkken", "Pleie")[i % 2]) for i in range(9)
        ),
    )
    nobody = StepContext(locale="nb")

    def opening(name: str, ctx: StepContext) -> dict[str, Any]:
        exercise = registry[name]
        return exercise.initial_state(exercise.settings(shipped[name]), ctx)

    lazy = [name for name, ex in registry.items() if ex.has_actions and not ex.settles_state_on_open]
    assert {"grouping", "timer", "commitments", "follow_up"} <= set(lazy)
    for name in lazy:
        assert opening(name, nobody) == opening(name, room), name
    assert registry["groups"].settles_state_on_open  # a split draws from the room: it is stored
    assert opening("groups", nobody) != opening("groups", room)
