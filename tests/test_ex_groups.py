"""Groups: a deterministic split of the people who joined; mix or keep units; roles in order;
split again (with a seed to reshuffle) and place people who joined later."""

from __future__ import annotations

import random
import re
from collections import Counter
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError

from app.templating import make_env, render
from exercises import build_registry
from exercises.base import AnswerInvalid, Member, StepContext
from exercises.groups import (
    Groups,
    GroupsResult,
    GroupsSettings,
    NoAnswer,
    first_name,
    group_count,
    split,
)

GROUPS = Groups()
ROLES = [{"en": "Timekeeper", "nb": "Tidtaker"}, {"en": "Scribe", "nb": "Referent"}]


def people(n: int, units: list[str | None] | None = None, named: bool = True) -> tuple[Member, ...]:
    return tuple(
        Member(
            public_id=f"id{i:03d}",
            name=f"Name{i} Surname" if named else None,
            unit=units[i % len(units)] if units else None,
        )
        for i in range(n)
    )


def settings(**raw: Any) -> GroupsSettings:
    return GROUPS.settings(raw)


def ctx(members: tuple[Member, ...] = (), state: dict[str, Any] | None = None) -> StepContext:
    return StepContext(members=members, state=state or {})


def sizes(state: dict[str, Any]) -> list[int]:
    return [len(g["members"]) for g in state["groups"]]


def all_ids(state: dict[str, Any]) -> list[str]:
    return [pid for g in state["groups"] for pid in g["members"]]


# --- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ({}, True),
        ({"size": 1}, False),
        ({"size": 2}, True),
        ({"size": 12}, True),
        ({"size": 13}, False),
        ({"mode": "mix"}, True),
        ({"mode": "keep"}, True),
        ({"mode": "random"}, False),
        ({"roles": ROLES}, True),
        ({"roles": [{"en": f"Role {i}"} for i in range(6)]}, True),
        ({"roles": [{"en": f"Role {i}"} for i in range(7)]}, False),
        ({"roles": [{"en": ""}]}, False),
        ({"roles": [{"xx": "Role"}]}, False),
        ({"roles": [{"en": "x" * 60}]}, True),
        ({"roles": [{"en": "x" * 61}]}, False),
        ({"roles": [{"en": "Fine", "nb": "x" * 61}]}, False),
        ({"colour": "red"}, False),
    ],
)
def test_settings_bounds(raw: dict[str, Any], ok: bool) -> None:
    try:
        GROUPS.settings(raw)
    except ValidationError:
        assert not ok
    else:
        assert ok


def test_settings_defaults_and_frozen() -> None:
    s = settings()
    assert (s.size, s.mode, s.roles) == (4, "mix", [])
    with pytest.raises(ValidationError):
        s.size = 5  # type: ignore[misc]


def test_takes_no_answers() -> None:
    assert GROUPS.collects_answers is False
    assert GROUPS.has_actions is True
    assert GROUPS.max_answers(settings(), ctx()) == 0
    with pytest.raises(AnswerInvalid):
        GROUPS.parse_answer(settings(), {"text": "hi"}, ctx())
    assert GROUPS.simulate(settings(), random.Random(1), [], ctx()) == []
    assert GROUPS.load_answer({}) == NoAnswer()


# --- the split --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "size", "expected"),
    [
        (0, 4, []),
        (1, 4, [1]),
        (2, 4, [2]),
        (5, 4, [5]),
        (6, 4, [3, 3]),
        (7, 4, [4, 3]),
        (9, 4, [5, 4]),
        (10, 4, [4, 3, 3]),
        (40, 4, [4] * 10),
        (41, 4, [5] + [4] * 9),
        (3, 2, [3]),  # not 2 + 1: nobody alone
        (5, 2, [3, 2]),
        (40, 12, [14, 13, 13]),
    ],
)
def test_group_sizes(n: int, size: int, expected: list[int]) -> None:
    for mode in ("mix", "keep"):
        state = GROUPS.initial_state(settings(size=size, mode=mode), ctx(people(n)))
        assert sizes(state) == expected
        assert sorted(all_ids(state)) == [f"id{i:03d}" for i in range(n)]


@pytest.mark.parametrize("size", range(2, 13))
def test_never_a_group_of_one_when_avoidable(size: int) -> None:
    for n in range(2, 60):
        assert min(len(g) for g in split(people(n), size, "mix")) >= 2
        assert group_count(n, size) >= 1


def test_the_numbers_run_from_one() -> None:
    state = GROUPS.initial_state(settings(), ctx(people(12)))
    assert [g["number"] for g in state["groups"]] == [1, 2, 3]


def test_the_split_is_stable_whatever_the_order_of_members() -> None:
    members = people(23, ["A", "B", "C"])
    first = GROUPS.initial_state(settings(), ctx(members))
    again = GROUPS.initial_state(settings(), ctx(tuple(reversed(members))))
    assert first == again


def test_a_seed_reshuffles() -> None:
    members = people(20)
    plain = GROUPS.act(settings(), {}, "split", {}, ctx(members))
    assert plain == GROUPS.initial_state(settings(), ctx(members))
    shuffled = {str(GROUPS.act(settings(), {}, "split", {"seed": str(s)}, ctx(members))) for s in range(5)}
    assert len(shuffled) == 5
    assert GROUPS.act(settings(), {}, "split", {"seed": 3}, ctx(members)) == GROUPS.act(
        settings(), {}, "split", {"seed": "3"}, ctx(members)
    )


@pytest.mark.parametrize("seed", ["x" * 65, True, ["1"], None])
def test_a_seed_that_is_not_text_or_too_long_is_refused(seed: Any) -> None:
    with pytest.raises(AnswerInvalid, match="shuffle"):
        GROUPS.act(settings(), {}, "split", {"seed": seed}, ctx(people(4)))


def test_mix_spreads_every_unit_over_the_groups() -> None:
    units: list[str | None] = [*["A"] * 10, *["B"] * 10, *["C"] * 10, *["D"] * 10]
    members = tuple(Member(public_id=f"id{i:03d}", unit=u) for i, u in enumerate(units))
    unit_of = {m.public_id: m.unit for m in members}
    state = GROUPS.initial_state(settings(size=4, mode="mix"), ctx(members))
    for g in state["groups"]:
        assert max(Counter(unit_of[p] for p in g["members"]).values()) <= 2
    assert sizes(state) == [4] * 10


def test_keep_keeps_units_together_and_splits_only_big_ones() -> None:
    units: list[str | None] = ["A"] * 9 + ["B"] * 4 + ["C"] * 3 + [None] * 4
    members = tuple(Member(public_id=f"id{i:03d}", unit=u) for i, u in enumerate(units))
    unit_of = {m.public_id: m.unit for m in members}
    state = GROUPS.initial_state(settings(size=4, mode="keep"), ctx(members))
    assert sizes(state) == [4] * 5
    groups_of: dict[str | None, set[int]] = {}
    for g in state["groups"]:
        for p in g["members"]:
            groups_of.setdefault(unit_of[p], set()).add(g["number"])
    assert len(groups_of["A"]) == 3  # 9 people in groups of 4: split, but no wider than needed
    assert len(groups_of["B"]) == 1
    assert len(groups_of["C"]) == 1


def test_roles_go_in_order_in_every_group() -> None:
    state = GROUPS.initial_state(settings(roles=ROLES), ctx(people(10)))
    for g in state["groups"]:
        assert g["roles"] == {g["members"][0]: 0, g["members"][1]: 1}


def test_more_roles_than_people_leaves_the_rest_out() -> None:
    roles = [{"en": f"Role {i}"} for i in range(6)]
    state = GROUPS.initial_state(settings(roles=roles, size=2), ctx(people(2)))
    assert sorted(state["groups"][0]["roles"].values()) == [0, 1]


def test_no_roles_no_role_map() -> None:
    state = GROUPS.initial_state(settings(), ctx(people(8)))
    assert all(g["roles"] == {} for g in state["groups"])


def test_nobody_joined_means_no_groups() -> None:
    assert GROUPS.initial_state(settings(), ctx()) == {"groups": []}
    assert GROUPS.initial_state(settings(), ctx((Member(public_id=""),))) == {"groups": []}
    with pytest.raises(AnswerInvalid, match="Nobody has joined"):
        GROUPS.act(settings(), {}, "split", {}, ctx())


def test_the_state_is_plain_json() -> None:
    import json

    state = GROUPS.initial_state(settings(roles=ROLES), ctx(people(9, ["A", "B"])))
    assert json.loads(json.dumps(state)) == state


# --- actions on a stored split ---------------------------------------------------------------------


def test_split_again_includes_people_who_joined_later() -> None:
    first = GROUPS.initial_state(settings(), ctx(people(8)))
    later = people(11)
    again = GROUPS.act(settings(), first, "split", {}, ctx(later, first))
    assert sorted(all_ids(again)) == [m.public_id for m in later]
    assert sizes(again) == [4, 4, 3]


def test_place_puts_latecomers_in_the_smallest_groups_and_keeps_everyone_else() -> None:
    s = settings(roles=ROLES)
    first = GROUPS.initial_state(s, ctx(people(10)))  # 4, 3, 3
    later = people(12)
    placed = GROUPS.act(s, first, "place", {}, ctx(later, first))
    for before, after in zip(first["groups"], placed["groups"], strict=True):
        assert after["members"][: len(before["members"])] == before["members"]
        assert {k: v for k, v in after["roles"].items() if k in before["members"]} == before["roles"]
    assert sizes(placed) == [4, 4, 4]
    assert sorted(all_ids(placed)) == [m.public_id for m in later]


def test_place_hands_out_a_role_still_free_in_the_group() -> None:
    s = settings(roles=ROLES, size=2)
    first = GROUPS.initial_state(s, ctx(people(1)))
    assert first["groups"][0]["roles"] == {"id000": 0}
    placed = GROUPS.act(s, first, "place", {}, ctx(people(2), first))
    assert placed["groups"][0]["roles"] == {"id000": 0, "id001": 1}


def test_place_in_keep_mode_goes_beside_the_own_unit() -> None:
    s = settings(mode="keep", size=4)
    members = tuple(Member(public_id=f"id{i:03d}", unit=u) for i, u in enumerate(["A"] * 3 + ["B"] * 3))
    first = GROUPS.initial_state(s, ctx(members))
    late = (*members, Member(public_id="late", unit="B"))
    placed = GROUPS.act(s, first, "place", {}, ctx(late, first))
    home = next(g for g in placed["groups"] if "late" in g["members"])
    assert {m.unit for m in members if m.public_id in home["members"]} == {"B"}


def test_place_when_everyone_is_in_is_refused() -> None:
    first = GROUPS.initial_state(settings(), ctx(people(8)))
    with pytest.raises(AnswerInvalid, match="in a group already"):
        GROUPS.act(settings(), first, "place", {}, ctx(people(8), first))


def test_place_without_groups_splits() -> None:
    placed = GROUPS.act(settings(), {"groups": []}, "place", {}, ctx(people(8)))
    assert sizes(placed) == [4, 4]


@pytest.mark.parametrize("action", ["shuffle", "", "SPLIT", "next"])
def test_unknown_action_is_refused(action: str) -> None:
    with pytest.raises(AnswerInvalid, match="no such action"):
        GROUPS.act(settings(), {}, action, {}, ctx(people(4)))


# --- aggregate --------------------------------------------------------------------------------------


def test_aggregate_of_nobody() -> None:
    assert GROUPS.aggregate(settings(), [], ctx()) == GroupsResult(people=0, groups=[], unplaced=0)


def test_aggregate_gives_first_names_roles_and_latecomers() -> None:
    s = settings(roles=ROLES)
    members = people(5)
    state = GROUPS.initial_state(s, ctx(members))
    later = (*members, Member(public_id="late", name="Late Comer"), Member(public_id="anon"))
    result = GROUPS.aggregate(s, [], ctx(later, state))
    assert result.people == 7
    assert result.unplaced == 2
    [group] = result.groups
    assert {m.name for m in group.members} == {f"Name{i}" for i in range(5)}
    assert sorted(m.role for m in group.members if m.role is not None) == [0, 1]
    assert group.unnamed == 0


def test_aggregate_counts_the_people_without_a_name() -> None:
    members = (*people(2), *(Member(public_id=f"x{i}") for i in range(3)))
    state = GROUPS.initial_state(settings(size=5), ctx(members))
    [group] = GROUPS.aggregate(settings(size=5), [], ctx(members, state)).groups
    assert len(group.named) == 2 and group.unnamed == 3


def test_aggregate_ignores_roles_the_settings_no_longer_have_and_garbled_states() -> None:
    state = {"groups": [{"number": 1, "members": ["id000"], "roles": {"id000": 5}}, "junk"]}
    [group] = GROUPS.aggregate(settings(roles=ROLES), [], ctx(people(1), state)).groups
    assert group.members[0].role is None
    assert GROUPS.aggregate(settings(), [], ctx(people(1), {"groups": "nope"})).groups == []


@pytest.mark.parametrize(
    ("name", "first"),
    [("Kari Nordmann", "Kari"), ("  Ola  ", "Ola"), ("", None), (None, None), ("   ", None)],
)
def test_first_name(name: str | None, first: str | None) -> None:
    assert first_name(name) == first


# --- simulate_state ---------------------------------------------------------------------------------


def test_simulate_state_is_a_valid_split_of_everyone_and_repeats_with_the_seed() -> None:
    members = people(17, ["A", "B", None])
    s = settings(roles=ROLES)
    state = GROUPS.simulate_state(s, random.Random(4), [], [], ctx(members))
    assert sorted(all_ids(state)) == sorted(m.public_id for m in members)
    assert sizes(state) == [5, 4, 4, 4]
    assert state == GROUPS.simulate_state(s, random.Random(4), [], [], ctx(members))
    assert GROUPS.aggregate(s, [], ctx(members, state)).unplaced == 0


# --- templates --------------------------------------------------------------------------------------

ENV = make_env(build_registry())


def page(
    name: str, s: GroupsSettings, members: tuple[Member, ...], state: dict[str, Any], **extra: Any
) -> str:
    c = ctx(members, state)
    return render(
        ENV,
        f"groups/{name}",
        "en",
        settings=s,
        state=state,
        ctx=c,
        step=None,
        run=SimpleNamespace(version=3),
        action_url="/runs/1/steps/g/",
        **{"result": GROUPS.aggregate(s, [], c), **extra},
    )


def test_phone_renders_every_group_with_its_members_and_hidden_roles() -> None:
    s = settings(roles=ROLES)
    members = people(10)
    state = GROUPS.initial_state(s, ctx(members))
    html = page("phone.html", s, members, state)
    found = re.findall(r'data-members="([^"]*)"', html)
    assert [f.split() for f in found] == [g["members"] for g in state["groups"]]
    roles = re.findall(r'<p class="groups-phone__role" data-role-of="([^"]+)" hidden>', html)
    assert len(roles) == 6  # two roles in each of three groups, all hidden until the script finds its own
    assert "data-mine" not in html
    assert "Group 3" in html and "Your role: Timekeeper" in html and "Name1" in html
    assert "Surname" not in html


def test_phone_marks_its_own_group_when_rendered_for_one_phone() -> None:
    s = settings(roles=ROLES)
    members = people(8)
    state = GROUPS.initial_state(s, ctx(members))
    me = state["groups"][1]["members"][0]
    html = page("phone.html", s, members, state, screen=SimpleNamespace(me=me))
    assert html.count("data-mine") == 1
    assert f'data-role-of="{me}" >' in html or f'data-role-of="{me}">' in html


def test_phone_without_groups_says_they_come_soon() -> None:
    html = page("phone.html", settings(), (), {"groups": []})
    assert "makes the groups in a moment" in html and "data-members" not in html


def test_phone_counts_people_when_nobody_gave_a_name() -> None:
    members = people(4, named=False)
    state = GROUPS.initial_state(settings(), ctx(members))
    assert "4 people" in page("phone.html", settings(), members, state)


def test_projector_shows_first_names_or_a_count_and_escapes_names() -> None:
    members = (Member(public_id="a", name="<b>Kari</b> N"), *people(3, named=False))
    state = GROUPS.initial_state(settings(), ctx(members))
    html = page("results.html", settings(), members, state)
    assert "&lt;b&gt;Kari&lt;/b&gt;" in html and "<b>Kari" not in html
    assert "and 3 more" in html
    anonymous = people(8, named=False)
    html = page("results.html", settings(), anonymous, GROUPS.initial_state(settings(), ctx(anonymous)))
    assert html.count("4 people") == 2


def test_console_offers_split_and_place() -> None:
    s = settings()
    first = GROUPS.initial_state(s, ctx(people(8)))
    html = page("console.html", s, people(8), first)
    assert '/steps/g/split"' in html and 'name="seed" value="3"' in html
    assert '/steps/g/place"' not in html
    html = page("console.html", s, people(9), first)
    assert '/steps/g/place"' in html and "1 person joined after the split" in html
    html = page("console.html", s, (), {"groups": []})
    assert "/steps/g/" not in html and "Nobody has joined yet" in html


def test_templates_have_no_inline_style_or_script() -> None:
    s = settings(roles=ROLES)
    members = people(9)
    state = GROUPS.initial_state(s, ctx(members))
    for name in ("results.html", "phone.html", "console.html"):
        html = page(name, s, members, state)
        assert "style=" not in html and "<script" not in html


def test_each_group_is_an_audience_that_sees_only_its_own_group() -> None:
    s = settings(roles=ROLES)
    members = people(10)
    c = ctx(members, GROUPS.initial_state(s, ctx(members)))
    result = GROUPS.aggregate(s, [], c)
    audiences = GROUPS.phone_audiences(s, result, c)
    assert sorted(pid for ids in audiences.values() for pid in ids) == [m.public_id for m in members]
    mine, mine_ctx = GROUPS.for_audience(s, result, c, "2")
    assert [g.number for g in mine.groups] == [2] and [g["number"] for g in mine_ctx.state["groups"]] == [2]
    html = page("phone.html", s, members, mine_ctx.state, result=mine)
    assert re.findall(r'data-members="([^"]*)"', html) == [" ".join(audiences["2"])]
    late, late_ctx = GROUPS.for_audience(s, result, c, None)
    assert late.groups == [] and late_ctx.state["late"]
    html = page("phone.html", s, members, late_ctx.state, result=late)
    assert "You joined after the groups were made" in html and "data-members" not in html


def test_all_audiences_at_once_are_each_audience_alone() -> None:
    """for_audiences (the step opening for every group) gives each group what for_audience gives
    it, and the phones in no group the late screen."""
    s = settings(roles=ROLES)
    members = people(23)
    c = ctx(members, GROUPS.initial_state(s, ctx(members)))
    result = GROUPS.aggregate(s, [], c)
    keys: list[str | None] = [*GROUPS.phone_audiences(s, result, c), None]
    assert len(keys) > 3
    together = GROUPS.for_audiences(s, result, c, keys)
    assert together == {key: GROUPS.for_audience(s, result, c, key) for key in keys}
    assert together[None][0].groups == [] and together[None][1].state["late"]
    shown = {g.number for key in keys[:-1] for g in together[key][0].groups}
    assert shown == {g.number for g in result.groups}


def test_before_the_split_there_are_no_audiences() -> None:
    c = ctx(people(4), {"groups": []})
    result = GROUPS.aggregate(settings(), [], c)
    assert GROUPS.phone_audiences(settings(), result, c) == {}
    assert GROUPS.for_audience(settings(), result, c, None) == (result, c)
