"""Groups: the people who joined, split into groups of a size, mixing units or keeping them
together, with roles handed out in order in every group. Every phone gets the same list and
finds itself in it by its public id; the projector shows the groups with first names."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from exercises.base import (
    N_,
    AnswerInvalid,
    Entry,
    LocalText,
    Member,
    NoAnswer,
    NoAnswers,
    StepContext,
    Strict,
)

ROLE_MAX_LENGTH = 60
SEED_MAX_LENGTH = 64


def _short_role(value: dict[str, str]) -> dict[str, str]:
    for locale, text in value.items():
        if len(text) > ROLE_MAX_LENGTH:
            raise ValueError(f"the role text for '{locale}' is over {ROLE_MAX_LENGTH} characters")
    return value


Role = Annotated[LocalText, AfterValidator(_short_role)]


class GroupsSettings(Strict):
    size: int = Field(default=4, ge=2, le=12)
    mode: Literal["mix", "keep"] = "mix"
    roles: list[Role] = Field(default_factory=list, max_length=6)


class GroupMember(BaseModel):
    public_id: str
    name: str | None  # the first name, where the person gave a name
    role: int | None  # an index into settings.roles


class GroupView(BaseModel):
    number: int
    members: list[GroupMember]

    @property
    def named(self) -> list[GroupMember]:
        return [m for m in self.members if m.name]

    @property
    def unnamed(self) -> int:
        return sum(1 for m in self.members if not m.name)


class GroupsResult(BaseModel):
    people: int  # everyone who has joined
    groups: list[GroupView]
    unplaced: int  # people who joined after the split


def first_name(name: str | None) -> str | None:
    parts = name.split() if name else []
    return parts[0] if parts else None


def group_count(people: int, size: int) -> int:
    """Groups of about `size`; never a group of one when two people could be together."""
    if people <= 0:
        return 0
    count = max(1, (2 * people + size) // (2 * size))  # people / size, rounded half up
    return max(1, min(count, people // 2))


def _rng(ids: Sequence[str], seed: str) -> random.Random:
    # The same people (and seed) always give the same split: every read of a step shows the same.
    digest = hashlib.sha256(("\x1f".join(sorted(ids)) + "\x1e" + seed).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _by_unit(members: Sequence[Member], rng: random.Random) -> list[list[str]]:
    """The members unit by unit, the largest unit first, each shuffled; people without a unit last."""
    units: dict[str | None, list[str]] = {}
    for m in sorted(members, key=lambda m: m.public_id):
        units.setdefault(m.unit, []).append(m.public_id)
    for ids in units.values():
        rng.shuffle(ids)
    order = sorted((u for u in units if u is not None), key=lambda u: (-len(units[u]), u))
    return [units[u] for u in order] + ([units[None]] if None in units else [])


def split(members: Sequence[Member], size: int, mode: str, seed: str = "") -> list[list[str]]:
    """Public ids in groups. `mix` deals every unit round-robin over the groups; `keep` puts a
    unit in as few groups as it fits (a unit bigger than a group fills whole groups first)."""
    people = [m for m in members if m.public_id]
    count = group_count(len(people), size)
    if count == 0:
        return []
    rng = _rng([m.public_id for m in people], seed)
    units = _by_unit(people, rng)
    groups: list[list[str]] = [[] for _ in range(count)]
    if mode == "keep":
        # Sizes differ by one at most, the larger ones first.
        room = [len(people) // count + (1 if i < len(people) % count else 0) for i in range(count)]
        for ids in units:
            rest = list(ids)
            while rest:
                fits = [i for i in range(count) if room[i] >= len(rest)]
                if fits:  # the tightest group that takes the whole rest of the unit
                    target = min(fits, key=lambda i: (room[i], i))
                    take = len(rest)
                else:  # too big for any group: fill the emptiest group with part of the unit
                    target = max(range(count), key=lambda i: (room[i], -i))
                    take = room[target]
                groups[target].extend(rest[:take])
                room[target] -= take
                rest = rest[take:]
    else:
        for i, pid in enumerate(pid for ids in units for pid in ids):
            groups[i % count].append(pid)
    for group in groups:  # roles go in order: the order in a group must not follow the units
        rng.shuffle(group)
    return groups


def _state(groups: Sequence[Sequence[str]], roles: int) -> dict[str, Any]:
    return {
        "groups": [
            {
                "number": n,
                "members": list(ids),
                "roles": {pid: i for i, pid in enumerate(ids[:roles])},
            }
            for n, ids in enumerate(groups, 1)
        ]
    }


def stored_groups(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The groups of a state, tolerating a state of another shape (nothing then)."""
    raw = state.get("groups")
    if not isinstance(raw, list):
        return []
    out: list[dict[str, Any]] = []
    for g in raw:
        if isinstance(g, Mapping) and isinstance(g.get("members"), list):
            roles = g.get("roles")
            out.append(
                {
                    "number": int(g.get("number") or len(out) + 1),
                    "members": [str(p) for p in g["members"]],
                    "roles": dict(roles) if isinstance(roles, Mapping) else {},
                }
            )
    return out


def _seed(form: Mapping[str, Any]) -> str:
    raw = form.get("seed", "")
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise AnswerInvalid(N_("The shuffle came without a usable number; please try again."))
    seed = str(raw).strip()
    if len(seed) > SEED_MAX_LENGTH:
        raise AnswerInvalid(N_("The shuffle came without a usable number; please try again."))
    return seed


class Groups(NoAnswers[GroupsSettings, GroupsResult]):
    name = "groups"
    settings_model = GroupsSettings
    result_model = GroupsResult
    has_actions = True
    audiences_share_frame = True  # NoAnswers: the screen around the group is the same for all
    reads_members = True  # the split, and the names in each group

    def initial_state(self, settings: GroupsSettings, ctx: StepContext) -> dict[str, Any]:
        return _state(split(ctx.members, settings.size, settings.mode), len(settings.roles))

    def aggregate(
        self, settings: GroupsSettings, entries: Sequence[Entry[NoAnswer]], ctx: StepContext
    ) -> GroupsResult:
        names = {m.public_id: first_name(m.name) for m in ctx.members if m.public_id}
        groups = []
        placed: set[str] = set()
        for g in stored_groups(ctx.state):
            members = []
            for pid in g["members"]:
                placed.add(pid)
                role = g["roles"].get(pid)
                members.append(
                    GroupMember(
                        public_id=pid,
                        name=names.get(pid),
                        role=role if isinstance(role, int) and 0 <= role < len(settings.roles) else None,
                    )
                )
            groups.append(GroupView(number=g["number"], members=members))
        return GroupsResult(
            people=len(names), groups=groups, unplaced=sum(1 for pid in names if pid not in placed)
        )

    def phone_audiences(
        self, settings: GroupsSettings, result: GroupsResult, ctx: StepContext
    ) -> dict[str, tuple[str, ...]]:
        return {str(g.number): tuple(m.public_id for m in g.members) for g in result.groups}

    def for_audience(
        self, settings: GroupsSettings, result: GroupsResult, ctx: StepContext, audience: str | None
    ) -> tuple[GroupsResult, StepContext]:
        """A group's phones see their group only; a phone that joined after the split, none."""
        return self.for_audiences(settings, result, ctx, [audience])[audience]

    def for_audiences(
        self,
        settings: GroupsSettings,
        result: GroupsResult,
        ctx: StepContext,
        audiences: Sequence[str | None],
    ) -> dict[str | None, tuple[GroupsResult, StepContext]]:
        """Each group looked up once, not once per group: 500 groups of an all-hands are 500
        lookups, not 250,000 comparisons."""
        if not result.groups:
            return {key: (result, ctx) for key in audiences}
        views: dict[str, list[GroupView]] = {}
        for g in result.groups:
            views.setdefault(str(g.number), []).append(g)
        raw = ctx.state.get("groups")
        stored: dict[str, list[Mapping[str, Any]]] = {}
        for g in raw if isinstance(raw, list) else []:
            if isinstance(g, Mapping):
                stored.setdefault(str(g.get("number")), []).append(g)
        out: dict[str | None, tuple[GroupsResult, StepContext]] = {}
        for key in audiences:
            mine = views.get(key, []) if key is not None else []
            state = {**ctx.state, "groups": stored.get(key, []) if key is not None else []}
            if not mine:
                state["late"] = True
            out[key] = (result.model_copy(update={"groups": mine}), replace(ctx, state=state))
        return out

    def act(
        self,
        settings: GroupsSettings,
        state: Mapping[str, Any],
        action: str,
        form: Mapping[str, Any],
        ctx: StepContext,
    ) -> dict[str, Any]:
        if action == "split":  # everyone again, people who joined later too; a seed reshuffles
            if not any(m.public_id for m in ctx.members):
                raise AnswerInvalid(N_("Nobody has joined yet, so there is nobody to split."))
            return _state(split(ctx.members, settings.size, settings.mode, _seed(form)), len(settings.roles))
        if action == "place":  # only the people who joined later, each into a small group
            return self._place(settings, state, ctx)
        raise AnswerInvalid(N_("This step has no such action."))

    def _place(self, settings: GroupsSettings, state: Mapping[str, Any], ctx: StepContext) -> dict[str, Any]:
        groups = stored_groups(state)
        if not groups:
            return self.act(settings, state, "split", {}, ctx)
        units = {m.public_id: m.unit for m in ctx.members if m.public_id}
        placed = {pid for g in groups for pid in g["members"]}
        late = [m for m in ctx.members if m.public_id and m.public_id not in placed]
        if not late:
            raise AnswerInvalid(N_("Everyone who has joined is in a group already."))
        for m in late:

            def same_unit(g: dict[str, Any], unit: str | None = m.unit) -> int:
                return sum(1 for pid in g["members"] if unit is not None and units.get(pid) == unit)

            if settings.mode == "keep":  # beside people of the same unit, where there is room
                target = min(
                    groups,
                    key=lambda g: (len(g["members"]) > settings.size, -same_unit(g), len(g["members"])),
                )
            else:
                target = min(groups, key=lambda g: (len(g["members"]), same_unit(g)))
            target["members"].append(m.public_id)
            taken = set(target["roles"].values())
            free = [i for i in range(len(settings.roles)) if i not in taken]
            if free:
                target["roles"][m.public_id] = free[0]
        return {"groups": groups}

    def simulate_state(
        self,
        settings: GroupsSettings,
        rng: random.Random,
        samples: Sequence[str],
        entries: Sequence[Entry[NoAnswer]],
        ctx: StepContext,
    ) -> dict[str, Any]:
        # The tovholder split the room once, with a shuffle of their own.
        seed = str(rng.randrange(1_000_000))
        return _state(split(ctx.members, settings.size, settings.mode, seed), len(settings.roles))
