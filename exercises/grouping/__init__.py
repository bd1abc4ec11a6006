"""Grouping: the tovholder clusters cards into named groups on the console while the room talks.

The cards are the answers of an earlier `open_text` step (`cards_from`), or participants write
them here. State: `{"groups": [{"id": "g1", "name": "...", "cards": ["c12", ...]}]}`, where a
card's id is `c<answer id>`. A later `dot_vote` with `options_from` reads the groups.

On request (`suggest`) the board also offers a grouping of the pile computed from the cards' words
(`exercises.grouping.suggest`); the tovholder accepts it whole or group by group, or ignores it."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from exercises.base import N_, AnswerInvalid, Entry, Exercise, StepContext, Strict, clean_text
from exercises.grouping.board import check_unique, clean_name, field, find, read_groups
from exercises.grouping.suggest import (
    CARD_ID,
    HARD_CAP,
    MAX_GROUPS,
    NAME_LENGTH,
    read_suggestion,
    suggest,
    unique_name,
)
from exercises.markdown import md, md_item, no_answers
from exercises.poster import PosterItem, PosterPart, PosterSlot
from exercises.words import Words

STEP_ID = r"^[a-z0-9][a-z0-9-]{0,62}$"


class GroupingSettings(Strict):
    cards_from: str | None = Field(default=None, pattern=STEP_ID)
    max_cards: int = Field(default=1, ge=1, le=10)
    max_length: int = Field(default=280, ge=10, le=HARD_CAP)


class GroupingAnswer(Strict):
    text: str = Field(min_length=1, max_length=HARD_CAP)


class Card(BaseModel):
    id: str
    text: str


class Group(BaseModel):
    id: str
    name: str
    cards: list[Card]


class SuggestedGroup(BaseModel):
    group: str  # an existing group's id, or "" for a new group
    name: str
    cards: list[Card]


class GroupingResult(BaseModel):
    count: int  # all cards, grouped or not
    groups: list[Group]
    ungrouped: list[Card]
    asked: bool = Field(default=False, exclude=True)  # the tovholder asked for a suggestion
    suggestion: list[SuggestedGroup] = Field(default_factory=list, exclude=True)

    def suggestion_field(self, index: int | None = None) -> str:
        """The suggestion (or one group of it) as the console sends it back to accept it."""
        chosen = self.suggestion if index is None else self.suggestion[index : index + 1]
        return json.dumps(
            [{"group": s.group, "name": s.name, "cards": [c.id for c in s.cards]} for s in chosen],
            ensure_ascii=False,
        )

    @property
    def grouped(self) -> int:
        return self.count - len(self.ungrouped)


def parse_sample(sample: str) -> tuple[str, str]:
    """A demo sample: "Group name" or "Group name | card text"."""
    name, _, card = sample.partition("|")
    return name.strip(), card.strip()


def _words(text: str) -> set[str]:
    # Word stems of five letters: "meetings" and "meeting" match; short words carry little.
    return {w[:5] for w in re.findall(r"\w+", text.casefold()) if len(w) >= 4}


class Grouping(Exercise[GroupingSettings, GroupingAnswer, GroupingResult]):
    name = "grouping"
    takes_text = True
    settings_model = GroupingSettings
    answer_model = GroupingAnswer
    result_model = GroupingResult
    has_actions = True
    poster_style = "cards"
    phone_shows_sources = False  # its phones look at the big screen, where the cards are grouped
    settles_state_on_open = False  # it opens with no groups, whoever is there

    def sources(self, settings: GroupingSettings) -> tuple[str, ...]:
        return (settings.cards_from,) if settings.cards_from else ()

    def max_answers(self, settings: GroupingSettings, ctx: StepContext) -> int:
        return 0 if settings.cards_from else settings.max_cards

    def parse_answer(
        self, settings: GroupingSettings, form: Mapping[str, Any], ctx: StepContext
    ) -> GroupingAnswer:
        if settings.cards_from:
            raise AnswerInvalid(N_("This step takes no answers: look at the big screen."))
        return GroupingAnswer(text=clean_text(form.get("text"), max_length=settings.max_length))

    def cards(
        self, settings: GroupingSettings, entries: Sequence[Entry[Any]], ctx: StepContext
    ) -> list[Card]:
        """The cards to group, oldest first: the source step's answers, or this step's own."""
        if settings.cards_from:
            source = ctx.sources.get(settings.cards_from)
            entries = source.entries if source is not None else ()
        cards: list[Card] = []
        for entry in entries:
            text = getattr(entry.answer, "text", None)
            if not isinstance(text, str):
                text = getattr(entry.answer, "word", None)  # a word_cloud step works as well
            if isinstance(text, str) and text:
                cards.append(Card(id=f"c{entry.id}", text=text))
        return cards

    def aggregate(
        self, settings: GroupingSettings, entries: Sequence[Entry[GroupingAnswer]], ctx: StepContext
    ) -> GroupingResult:
        cards = self.cards(settings, entries, ctx)
        by_id = {c.id: c for c in cards}
        placed: set[str] = set()
        groups: list[Group] = []
        for g in read_groups(ctx.state):
            members = []
            for cid in g["cards"]:
                if cid in by_id and cid not in placed:
                    placed.add(cid)
                    members.append(by_id[cid])
            groups.append(Group(id=g["id"], name=g["name"], cards=members))
        ungrouped = [c for c in cards if c.id not in placed]
        asked = bool(ctx.state.get("suggest"))
        suggestion = self._suggestion(cards, groups, ctx.locale) if asked and ungrouped else []
        return GroupingResult(
            count=len(cards), groups=groups, ungrouped=ungrouped, asked=asked, suggestion=suggestion
        )

    def _suggestion(self, cards: list[Card], groups: list[Group], locale: str) -> list[SuggestedGroup]:
        by_id = {c.id: c for c in cards}
        found = suggest(
            [(c.id, c.text) for c in cards],
            [(g.id, g.name, [c.id for c in g.cards]) for g in groups],
            locale,
            max_new=MAX_GROUPS - len(groups),
        )
        return [
            SuggestedGroup(group=s.group, name=s.name, cards=[by_id[c] for c in s.cards if c in by_id])
            for s in found
        ]

    def initial_state(self, settings: GroupingSettings, ctx: StepContext) -> dict[str, Any]:
        return {"groups": []}

    def act(
        self,
        settings: GroupingSettings,
        state: Mapping[str, Any],
        action: str,
        form: Mapping[str, Any],
        ctx: StepContext,
    ) -> dict[str, Any]:
        groups = read_groups(state)
        if action == "add_group":
            if len(groups) >= MAX_GROUPS:
                raise AnswerInvalid(
                    N_("There are already %(num)d groups, the most a step takes. Merge or remove one first."),
                    num=MAX_GROUPS,
                )
            name = clean_name(field(form, "name"))
            check_unique(groups, name)
            number = max((int(g["id"][1:]) for g in groups), default=0) + 1
            new: dict[str, Any] = {"id": f"g{number}", "name": name, "cards": []}
            card = field(form, "card")
            groups.append(new)
            if card:
                self._move(settings, groups, card, new["id"], ctx)
        elif action == "rename":
            group = find(groups, field(form, "group"))
            name = clean_name(field(form, "name"))
            check_unique(groups, name, skip=group["id"])
            group["name"] = name
        elif action == "assign":
            self._move(settings, groups, field(form, "card"), field(form, "group"), ctx)
        elif action == "remove_group":
            group = find(groups, field(form, "group"))
            groups.remove(group)  # its cards go back to the pile
        elif action == "suggest":
            return {"groups": groups, "suggest": True}
        elif action == "dismiss_suggestion":
            return {"groups": groups}
        elif action == "accept_suggestion":
            # All of a suggestion, or one of its groups ("keep": the rest stays on the screen).
            for item in read_suggestion(field(form, "groups")):
                self._accept(settings, groups, item, ctx)
            return {"groups": groups, "suggest": True} if field(form, "keep") else {"groups": groups}
        else:
            raise AnswerInvalid(N_("This step has no such action."))
        out: dict[str, Any] = {"groups": groups}
        if state.get("suggest"):
            out["suggest"] = True  # moving a card keeps the suggestion on the screen
        return out

    def _accept(
        self, settings: GroupingSettings, groups: list[dict[str, Any]], item: dict[str, Any], ctx: StepContext
    ) -> None:
        """Put a suggested group's cards where it says: into its existing group, or into a new group
        of its name. A card the tovholder has grouped since stays where it is."""
        grouped = {c for g in groups for c in g["cards"]}
        cards = [c for c in item["cards"] if c not in grouped]
        if not cards:
            return
        if item["group"]:
            target = find(groups, item["group"])
        else:
            if len(groups) >= MAX_GROUPS:
                raise AnswerInvalid(
                    N_("There are already %(num)d groups, the most a step takes. Merge or remove one first."),
                    num=MAX_GROUPS,
                )
            name = unique_name(groups, clean_name(item["name"]))
            number = max((int(g["id"][1:]) for g in groups), default=0) + 1
            target = {"id": f"g{number}", "name": name, "cards": []}
            groups.append(target)
        for card in cards:
            self._move(settings, groups, card, target["id"], ctx)

    def _move(
        self, settings: GroupingSettings, groups: list[dict[str, Any]], card: str, gid: str, ctx: StepContext
    ) -> None:
        """Put a card into a group ("" takes it out of every group, back to the pile)."""
        target = find(groups, gid) if gid else None
        if not self._known_card(settings, groups, card, ctx):
            raise AnswerInvalid(N_("That card is gone; the page now shows the cards as they are."))
        if target is not None and card in target["cards"]:
            return
        for g in groups:
            g["cards"] = [c for c in g["cards"] if c != card]
        if target is not None:
            target["cards"].append(card)

    def _known_card(
        self, settings: GroupingSettings, groups: Sequence[Mapping[str, Any]], card: str, ctx: StepContext
    ) -> bool:
        if any(card in g["cards"] for g in groups):
            return True
        if settings.cards_from:
            source = ctx.sources.get(settings.cards_from)
            return source is not None and card in {c.id for c in self.cards(settings, source.entries, ctx)}
        # Cards written in this step: act() is not handed the step's own answers, so only the
        # shape can be checked here; aggregate() leaves out an id that matches no card.
        return CARD_ID.match(card) is not None

    def simulate(
        self, settings: GroupingSettings, rng: random.Random, samples: Sequence[str], ctx: StepContext
    ) -> list[GroupingAnswer]:
        if settings.cards_from:
            return []
        texts = [card for _, card in map(parse_sample, samples) if card]
        if not texts:
            return []
        k = rng.randint(1, min(settings.max_cards, 2, len(texts)))
        return [GroupingAnswer(text=t[: settings.max_length]) for t in rng.sample(texts, k)]

    def simulate_state(
        self,
        settings: GroupingSettings,
        rng: random.Random,
        samples: Sequence[str],
        entries: Sequence[Entry[GroupingAnswer]],
        ctx: StepContext,
    ) -> dict[str, Any]:
        names: list[str] = []
        hints: dict[str, int] = {}
        for sample in samples:
            name, text = parse_sample(sample)
            name = " ".join(name.split())[:NAME_LENGTH].strip()
            if not name:
                continue
            folded = [n.casefold() for n in names]
            if name.casefold() not in folded:
                if len(names) >= MAX_GROUPS:
                    continue
                names.append(name)
                folded.append(name.casefold())
            if text:
                hints[text.casefold()] = folded.index(name.casefold())
        if not names:
            return self.initial_state(settings, ctx)
        groups: list[dict[str, Any]] = [
            {"id": f"g{i + 1}", "name": n, "cards": []} for i, n in enumerate(names)
        ]
        stems = [_words(n) for n in names]
        for card in self.cards(settings, entries, ctx):
            index = hints.get(card.text.casefold())
            if index is None:
                overlap = [len(_words(card.text) & s) for s in stems]
                best = max(overlap)
                if best:
                    index = overlap.index(best)
                elif rng.random() < 0.2:
                    continue  # a few cards stay in the pile, as when time runs out
                else:
                    index = rng.randrange(len(groups))
            groups[index]["cards"].append(card.id)
        return {"groups": groups}

    def card_text(self, settings: GroupingSettings, answer: GroupingAnswer) -> str:
        return answer.text

    def answer_text(
        self, settings: GroupingSettings, answer: GroupingAnswer, result: GroupingResult, words: Words
    ) -> str:
        return answer.text

    def markdown(self, settings: GroupingSettings, result: GroupingResult, words: Words) -> list[str]:
        lines: list[str] = []
        for group in result.groups:
            lines += [f"### {md(group.name)} ({len(group.cards)})", ""]
            lines += ["- " + md_item(c.text) for c in group.cards] or no_answers(words)
            lines.append("")
        if result.ungrouped:
            lines += ["### " + words.gettext(N_("Not grouped")), ""]
            lines += ["- " + md_item(c.text) for c in result.ungrouped]
            lines.append("")
        return lines[:-1] if lines else no_answers(words)

    def poster(
        self,
        settings: GroupingSettings,
        result: GroupingResult,
        entries: Sequence[Entry[GroupingAnswer]],
        slot: PosterSlot,
    ) -> PosterPart:
        """Each group with its cards as the note, then the cards left in the pile."""
        items = [
            PosterItem(
                id=group.id,
                text=group.name,
                note=" · ".join(c.text for c in group.cards) or None,
                weight=len(group.cards),
            )
            for group in result.groups
        ]
        items += [PosterItem(id=card.id, text=card.text) for card in result.ungrouped]
        return PosterPart(items=items)
