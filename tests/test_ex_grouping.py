"""grouping: settings, cards written here, the tovholder's actions, the result, simulate()."""

from __future__ import annotations

import random
from typing import Any

import pytest
from pydantic import ValidationError

from app.config import Settings
from app.templating import make_env
from exercises import build_registry
from exercises.base import AnswerInvalid, Entry, Source, StepContext
from exercises.grouping import MAX_GROUPS, Grouping, GroupingAnswer, GroupingSettings
from exercises.open_text import OpenTextAnswer, OpenTextResult

EX = Grouping()
FROM = GroupingSettings(cards_from="ideas")
HERE = GroupingSettings(max_cards=2, max_length=50)


def source(*texts: str, first_id: int = 10) -> dict[str, Source]:
    entries = tuple(
        Entry(id=first_id + i, answer=OpenTextAnswer(text=t), participant=i, unit=None)
        for i, t in enumerate(texts)
    )
    return {
        "ideas": Source(
            exercise="open_text", result=OpenTextResult(count=len(texts), cards=list(texts)), entries=entries
        )
    }


def ctx(
    state: dict[str, Any] | None = None, texts: tuple[str, ...] = ("Alpha", "Beta", "Gamma")
) -> StepContext:
    return StepContext(state=state if state is not None else {"groups": []}, sources=source(*texts))


def act(state: dict[str, Any], action: str, settings: GroupingSettings = FROM, **form: Any) -> dict[str, Any]:
    return EX.act(settings, state, action, form, ctx(state))


def refused(state: dict[str, Any], action: str, settings: GroupingSettings = FROM, **form: Any) -> str:
    with pytest.raises(AnswerInvalid) as caught:
        act(state, action, settings, **form)
    return str(caught.value)


def group(gid: str, name: str, *cards: str) -> dict[str, Any]:
    return {"id": gid, "name": name, "cards": list(cards)}


# --- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ({}, True),
        ({"cards_from": "ideas"}, True),
        ({"cards_from": "Ideas"}, False),
        ({"cards_from": ""}, False),
        ({"cards_from": "-ideas"}, False),
        ({"cards_from": "a" * 64}, False),
        ({"max_cards": 0}, False),
        ({"max_cards": 1}, True),
        ({"max_cards": 10}, True),
        ({"max_cards": 11}, False),
        ({"max_length": 9}, False),
        ({"max_length": 10}, True),
        ({"max_length": 1000}, True),
        ({"max_length": 1001}, False),
        ({"groups": []}, False),
    ],
)
def test_settings_bounds(raw: dict[str, Any], ok: bool) -> None:
    if ok:
        EX.settings(raw)
    else:
        with pytest.raises(ValidationError):
            EX.settings(raw)


def test_sources_name_the_card_step_only_when_set() -> None:
    assert EX.sources(FROM) == ("ideas",)
    assert EX.sources(HERE) == ()


def test_max_answers_is_none_when_cards_come_from_elsewhere() -> None:
    assert EX.max_answers(FROM, ctx()) == 0
    assert EX.max_answers(HERE, ctx()) == 2


# --- cards written here ------------------------------------------------------------------------


def test_a_card_written_here_is_cleaned() -> None:
    answer = EX.parse_answer(HERE, {"text": "  Storm\u200b day\r\nlater  "}, ctx())
    assert answer == GroupingAnswer(text="Storm day\nlater")


@pytest.mark.parametrize("raw", ["", "   ", None, 5, ["x"]])
def test_a_blank_or_missing_card_is_refused(raw: Any) -> None:
    with pytest.raises(AnswerInvalid):
        EX.parse_answer(HERE, {"text": raw}, ctx())


def test_a_card_at_the_cap_is_kept_and_over_it_refused() -> None:
    assert EX.parse_answer(HERE, {"text": "x" * 50}, ctx()).text == "x" * 50
    with pytest.raises(AnswerInvalid) as caught:
        EX.parse_answer(HERE, {"text": "x" * 51}, ctx())
    assert caught.value.params == {"length": 51, "limit": 50}


def test_no_card_is_taken_when_the_cards_come_from_another_step() -> None:
    with pytest.raises(AnswerInvalid):
        EX.parse_answer(FROM, {"text": "A card"}, ctx())


# --- aggregate ---------------------------------------------------------------------------------


def test_no_cards_and_no_groups() -> None:
    result = EX.aggregate(FROM, [], ctx(texts=()))
    assert (result.count, result.groups, result.ungrouped) == (0, [], [])


def test_a_missing_source_gives_no_cards() -> None:
    result = EX.aggregate(FROM, [], StepContext(state={"groups": []}))
    assert result.count == 0


def test_the_cards_of_the_source_are_the_pile_until_grouped() -> None:
    result = EX.aggregate(FROM, [], ctx())
    assert result.count == 3
    assert [(c.id, c.text) for c in result.ungrouped] == [("c10", "Alpha"), ("c11", "Beta"), ("c12", "Gamma")]


def test_one_card_in_one_group() -> None:
    result = EX.aggregate(FROM, [], ctx({"groups": [group("g1", "Greek", "c11")]}, texts=("Alpha", "Beta")))
    assert [(g.id, g.name, [c.text for c in g.cards]) for g in result.groups] == [("g1", "Greek", ["Beta"])]
    assert [c.id for c in result.ungrouped] == ["c10"]
    assert result.grouped == 1


def test_the_cards_written_here_are_grouped_by_their_own_ids() -> None:
    entries = [Entry(id=4, answer=GroupingAnswer(text="Mine"), participant=1)]
    result = EX.aggregate(HERE, entries, StepContext(state={"groups": [group("g1", "G", "c4")]}))
    assert [c.text for c in result.groups[0].cards] == ["Mine"]
    assert result.ungrouped == []


def test_unknown_cards_in_the_state_are_left_out_and_a_card_counts_once() -> None:
    state = {"groups": [group("g1", "A", "c10", "c99", "c10"), group("g2", "B", "c10", "c11")]}
    result = EX.aggregate(FROM, [], ctx(state))
    assert [c.id for c in result.groups[0].cards] == ["c10"]
    assert [c.id for c in result.groups[1].cards] == ["c11"]
    assert [c.id for c in result.ungrouped] == ["c12"]


@pytest.mark.parametrize(
    "state",
    [
        {},
        {"groups": "x"},
        {"groups": [1, None, {"id": "bad", "name": "X", "cards": []}, {"id": "g1", "name": 5, "cards": []}]},
    ],
)
def test_a_malformed_state_reads_as_no_groups(state: dict[str, Any]) -> None:
    result = EX.aggregate(FROM, [], ctx(state))
    assert result.groups == [] and len(result.ungrouped) == 3


def test_units_do_not_change_the_result() -> None:
    """The groups show card texts only: nothing about who or which unit wrote them."""
    plain = [Entry(id=i, answer=GroupingAnswer(text=f"c{i}"), participant=i) for i in range(1, 6)]
    units = [
        Entry(id=i, answer=GroupingAnswer(text=f"c{i}"), participant=i, unit="Night") for i in range(1, 6)
    ]
    empty = StepContext(state={"groups": []})
    assert EX.aggregate(HERE, plain, empty) == EX.aggregate(HERE, units, empty)
    assert "Night" not in EX.aggregate(HERE, units, empty).model_dump_json()


# --- the tovholder's actions -------------------------------------------------------------------


def test_add_group_names_it_cleanly_with_the_next_id() -> None:
    state = act({"groups": []}, "add_group", name="  Safety   at\u200b home ")
    assert state == {"groups": [group("g1", "Safety at home")]}
    state = act(state, "add_group", name="Dignity")
    assert [g["id"] for g in state["groups"]] == ["g1", "g2"]


def test_add_group_does_not_change_the_state_it_was_given() -> None:
    before: dict[str, Any] = {"groups": [group("g1", "A", "c10")]}
    act(before, "add_group", name="B")
    act(before, "assign", card="c10", group="")
    assert before == {"groups": [group("g1", "A", "c10")]}


@pytest.mark.parametrize("name", ["", "   ", "\u200b"])
def test_add_group_without_a_name_is_refused(name: str) -> None:
    assert "name" in refused({"groups": []}, "add_group", name=name)


def test_add_group_without_the_field_is_refused() -> None:
    with pytest.raises(AnswerInvalid):
        EX.act(FROM, {"groups": []}, "add_group", {}, ctx())


def test_a_group_name_of_sixty_is_kept_and_longer_refused() -> None:
    assert act({"groups": []}, "add_group", name="x" * 60)["groups"][0]["name"] == "x" * 60
    assert "60" in refused({"groups": []}, "add_group", name="x" * 61)


def test_two_groups_cannot_share_a_name_in_any_case() -> None:
    state = {"groups": [group("g1", "Safety")]}
    assert "Safety" in refused(state, "add_group", name="SAFETY")
    two = {"groups": [*state["groups"], group("g2", "Other")]}
    assert "Safety" in refused(two, "rename", group="g2", name="SAFETY")


def test_at_most_twelve_groups() -> None:
    state: dict[str, Any] = {"groups": []}
    for i in range(MAX_GROUPS):
        state = act(state, "add_group", name=f"Group {i}")
    assert len(state["groups"]) == 12
    assert "12" in refused(state, "add_group", name="One more")


def test_ids_are_not_reused_while_a_higher_one_stands() -> None:
    state = {"groups": [group("g1", "A"), group("g2", "B"), group("g3", "C")]}
    state = act(state, "remove_group", group="g2")
    state = act(state, "add_group", name="D")
    assert [g["id"] for g in state["groups"]] == ["g1", "g3", "g4"]


def test_add_group_can_take_a_card_at_once() -> None:
    state = act({"groups": [group("g1", "A", "c10")]}, "add_group", name="B", card="c10")
    assert state["groups"] == [group("g1", "A"), group("g2", "B", "c10")]


def test_add_group_with_an_unknown_card_is_refused_as_a_whole() -> None:
    with pytest.raises(AnswerInvalid):
        act({"groups": []}, "add_group", name="B", card="c99")


def test_rename_keeps_the_cards_and_may_keep_its_own_name_in_another_case() -> None:
    state = {"groups": [group("g1", "safety", "c10")]}
    assert act(state, "rename", group="g1", name="Safety")["groups"] == [group("g1", "Safety", "c10")]


@pytest.mark.parametrize("gid", ["g9", "", "x", 1])
def test_rename_of_an_unknown_group_is_refused(gid: Any) -> None:
    refused({"groups": [group("g1", "A")]}, "rename", group=gid, name="B")


def test_rename_to_nothing_is_refused() -> None:
    refused({"groups": [group("g1", "A")]}, "rename", group="g1", name=" ")


def test_assign_moves_a_card_from_the_pile_between_groups_and_back() -> None:
    state: dict[str, Any] = {"groups": [group("g1", "A"), group("g2", "B")]}
    state = act(state, "assign", card="c10", group="g1")
    state = act(state, "assign", card="c11", group="g1")
    assert state["groups"][0]["cards"] == ["c10", "c11"]
    state = act(state, "assign", card="c10", group="g2")
    assert state["groups"] == [group("g1", "A", "c11"), group("g2", "B", "c10")]
    state = act(state, "assign", card="c10", group="")
    assert state["groups"] == [group("g1", "A", "c11"), group("g2", "B")]


def test_assign_to_the_group_it_is_in_changes_nothing() -> None:
    state = {"groups": [group("g1", "A", "c10", "c11")]}
    assert act(state, "assign", card="c10", group="g1") == state


@pytest.mark.parametrize("card", ["c99", "", "c1x", "10", 10])
def test_assign_of_an_unknown_card_is_refused(card: Any) -> None:
    assert "card" in refused({"groups": [group("g1", "A")]}, "assign", card=card, group="g1")


def test_assign_to_an_unknown_group_is_refused() -> None:
    assert "group" in refused({"groups": [group("g1", "A")]}, "assign", card="c10", group="g7")


def test_cards_written_here_are_checked_by_their_shape() -> None:
    """act() is not handed the step's own answers: any card-shaped id is taken, and aggregate()
    leaves out one that matches no answer."""
    state = EX.act(
        HERE, {"groups": [group("g1", "A")]}, "assign", {"card": "c7", "group": "g1"}, StepContext()
    )
    assert state["groups"][0]["cards"] == ["c7"]
    with pytest.raises(AnswerInvalid):
        EX.act(HERE, state, "assign", {"card": "7", "group": "g1"}, StepContext())


def test_remove_group_puts_its_cards_back_on_the_pile() -> None:
    state = act({"groups": [group("g1", "A", "c10"), group("g2", "B", "c11")]}, "remove_group", group="g1")
    assert state == {"groups": [group("g2", "B", "c11")]}
    result = EX.aggregate(FROM, [], ctx(state))
    assert [c.id for c in result.ungrouped] == ["c10", "c12"]


def test_remove_of_an_unknown_group_is_refused() -> None:
    refused({"groups": []}, "remove_group", group="g1")


@pytest.mark.parametrize("action", ["edit", "", "ADD_GROUP", "next"])
def test_an_unknown_action_is_refused(action: str) -> None:
    assert "no such action" in refused({"groups": []}, action, name="A")


# --- simulate ----------------------------------------------------------------------------------

SAMPLES = ["Safety at home", "Working with relatives", "Dignity"]


def test_simulate_gives_nothing_when_the_cards_come_from_elsewhere() -> None:
    assert EX.simulate(FROM, random.Random(1), SAMPLES, ctx()) == []


def test_simulate_writes_the_cards_of_name_and_card_samples() -> None:
    samples = ["Safety | Grab rails in the bathroom", "Safety | Night lights", "Dignity"]
    for seed in range(20):
        answers = EX.simulate(HERE, random.Random(seed), samples, ctx())
        assert 1 <= len(answers) <= HERE.max_cards
        for a in answers:
            assert a.text in {"Grab rails in the bathroom", "Night lights"}
            assert EX.parse_answer(HERE, {"text": a.text}, ctx()) == a
    assert EX.simulate(HERE, random.Random(1), ["Only names"], ctx()) == []


def test_simulate_state_makes_the_named_groups_and_places_every_card_at_most_once() -> None:
    texts = ("Safety first at home", "Relatives call us", "Respect", "Lunch", "Dignity in care", "x")
    c = ctx(texts=texts)
    state = EX.simulate_state(FROM, random.Random(3), SAMPLES, [], c)
    assert [g["name"] for g in state["groups"]] == SAMPLES
    placed = [cid for g in state["groups"] for cid in g["cards"]]
    assert len(placed) == len(set(placed))
    assert set(placed) <= {f"c{10 + i}" for i in range(len(texts))}
    by_name = {g["name"]: g["cards"] for g in state["groups"]}
    assert "c10" in by_name["Safety at home"]  # a shared word decides
    assert "c11" in by_name["Working with relatives"]
    assert "c14" in by_name["Dignity"]
    # The state is one the actions accept: every card can be moved on from where it is.
    for cid in placed:
        act(state, "assign", card=cid, group="")


def test_simulate_state_is_the_same_for_the_same_seed() -> None:
    c = ctx(texts=tuple(f"card {i}" for i in range(30)))
    assert EX.simulate_state(FROM, random.Random(9), SAMPLES, [], c) == EX.simulate_state(
        FROM, random.Random(9), SAMPLES, [], c
    )


def test_simulate_state_uses_the_card_hints_and_caps_the_groups() -> None:
    samples = [f"Group {i} | card {i}" for i in range(15)]
    entries = [Entry(id=i + 1, answer=GroupingAnswer(text=f"card {i}"), participant=i) for i in range(15)]
    state = EX.simulate_state(HERE, random.Random(1), samples, entries, StepContext())
    assert len(state["groups"]) == MAX_GROUPS
    assert state["groups"][0]["cards"] == ["c1"]
    assert state["groups"][11]["cards"] == ["c12"]


def test_simulate_state_without_samples_is_the_empty_board() -> None:
    assert EX.simulate_state(FROM, random.Random(1), [], [], ctx()) == {"groups": []}


# --- templates ---------------------------------------------------------------------------------

ENV = make_env(build_registry())


class _Run:
    version = 7


def render(name: str, settings: GroupingSettings, c: StepContext, **extra: Any) -> str:
    from app.flows import Step

    step = Step(id="sort", exercise="grouping", minutes=1, title={"en": "T"}, notes={"en": "N"})
    result = EX.aggregate(settings, [], c)
    return ENV.get_template(f"grouping/{name}").render(
        settings=settings,
        step=step,
        ctx=c,
        state=c.state,
        result=result,
        values={},
        run=_Run(),
        action_url="/runs/1/steps/sort/",
        csrf_token="t",
        fallback_locale="en",
        **extra,
    )


def test_the_views_escape_what_people_wrote() -> None:
    c = ctx({"groups": [group("g1", "<b>Bold</b>", "c10")]}, texts=("<script>x</script>", "plain"))
    for name in ("results.html", "console.html"):
        html = render(name, FROM, c)
        assert "<script>x" not in html and "&lt;script&gt;x" in html
        assert "<b>Bold" not in html and "&lt;b&gt;Bold" in html
        assert "style=" not in html


def test_the_console_offers_a_move_per_pile_card_and_an_ungroup_per_grouped_card() -> None:
    html = render("console.html", FROM, ctx({"groups": [group("g1", "A", "c10"), group("g2", "B")]}))
    assert html.count('action="/runs/1/steps/sort/assign"') == 3  # two to move, one to ungroup
    assert html.count('<select class="input gboard__input"') == 2
    assert 'name="group" value=""' in html
    assert 'action="/runs/1/steps/sort/add_group"' in html
    assert html.count('action="/runs/1/steps/sort/rename"') == 2
    assert html.count('action="/runs/1/steps/sort/remove_group"') == 2


def test_the_results_show_tiles_and_the_pile() -> None:
    html = render("results.html", FROM, ctx({"groups": [group("g1", "A", "c10")]}))
    assert "grouping__groups--n1" in html and "grouping--pile" in html
    assert "2 cards not grouped yet" in html
    assert "No cards yet." in render("results.html", FROM, ctx(texts=()))


def test_the_phone_says_look_up_when_the_cards_come_from_elsewhere() -> None:
    assert "big screen" in render("phone.html", FROM, ctx())
    assert render("phone.html", HERE, ctx()).strip() == ""


def test_a_phones_view_of_grouping_skips_the_cards_it_never_shows(migrated_settings: Settings) -> None:
    """Grouping's phones look at the big screen (phone_shows_sources = False): the phone's view and
    push read no source step, while the projector's view has every card of it."""
    from tests.stagehand import FLOWS, stagehand

    flow = FLOWS["core-task-1"]
    index = next(i for i, s in enumerate(flow.steps) if s.exercise == "grouping")
    source = EX.sources(EX.settings(flow.steps[index].settings))
    assert source, "the shipped grouping step takes its cards from a step before it"
    with stagehand(migrated_settings.resolved_database_url) as hand:
        scene = hand.scene("core-task-1", "en", index, people=6)
        full = hand.runner.run_view(scene.run_id).current
        assert full is not None and full.ctx.sources[source[0]].entries
        phone = hand.runner.phone_view(hand.runner.participant(scene.phone_token)).current
        _run, _flow, pushed = hand.runner.open_step(scene.run_id)
        assert phone is not None and pushed is not None
        assert phone.ctx.sources == {} and pushed.ctx.sources == {}
        assert phone.step.id == full.step.id and not phone.takes_answers


def test_opening_a_grouping_step_stores_no_state_and_acting_on_it_still_works(
    migrated_settings: Settings,
) -> None:
    """Grouping opens with no groups whoever is there (settles_state_on_open = False): moving onto
    it stores no state (so it reads no cards), and the tovholder's first group is stored as it
    comes. A groups step still stores its split when it opens."""
    from tests.stagehand import FLOWS, Stagehand, stagehand

    def opened(hand: Stagehand, flow_name: str, exercise: str) -> tuple[int, str, bool]:
        steps = FLOWS[flow_name].steps
        index = next(i for i, s in enumerate(steps) if s.exercise == exercise)
        before = max(i for i in range(index) if not steps[i].off)
        scene = hand.scene(flow_name, "en", before, people=6)
        run = hand.runner.move(scene.run_id, +1)
        assert run.step_index == index
        with hand.runner._reading() as db:
            stored = hand.runner.reader.state(db, run, steps[index].id) is not None
        return scene.run_id, steps[index].id, stored

    with stagehand(migrated_settings.resolved_database_url) as hand:
        assert opened(hand, "core-task-2", "groups")[2], "a split is stored when the step opens"
        run_id, step_id, stored = opened(hand, "core-task-1", "grouping")
        assert not stored
        hand.runner.act(run_id, step_id, "add_group", {"name": "Safety"})
        groups = hand.runner.run_view(run_id).current.ctx.state["groups"]  # type: ignore[union-attr]
        assert [g["name"] for g in groups] == ["Safety"]
