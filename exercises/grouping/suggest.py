"""A suggested grouping of cards, computed here from their words: no network, no model.

Each card becomes a set of weighted features: the stems of its meaningful words (`exercises.nordic`),
the parts of its compound words that other cards use on their own ("kommuneoverlegen" shares
"kommun" and "leg"), and typos folded into the commoner spelling. Words few cards share weigh most
(inverse document frequency); a word on one card only links nothing. Cards are linked by the
cosine similarity of their features, and grouped where the links are denser inside than chance
would give (greedy modularity, then single cards moved while that improves it). The groups the
tovholder already made are kept whole and may take more cards; two of them are never merged. A
card that resembles nothing stays in the pile. The tovholder accepts, moves or ignores the result.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from exercises.base import N_, AnswerInvalid
from exercises.nordic import GENERIC, fold_typos, stem, tokens

HARD_CAP = 1000
MAX_GROUPS = 12
NAME_LENGTH = 60
GROUP_ID = re.compile(r"^g[1-9][0-9]{0,5}$")
CARD_ID = re.compile(r"^c[1-9][0-9]{0,17}$")

RESOLUTION = 1.0  # above 1: more and smaller groups; below: fewer and larger
ATTACH = 0.05  # a lone card joins the most similar group from this similarity on
COMPOUND_PART = 4  # the shortest stem that counts as the first part of a compound (the last: 3)
PART_WEIGHT = 0.6  # a compound's part counts a little less than the word on its own
MAX_ENDING = 4  # letters of inflection after a compound's last part ("-ene", "-arna")
# Endings that make a word of another word ("overlevering", "trygghet"): never a compound's part.
ENDINGS = frozenset(
    "ring ning ling ting else elser sjon tion het hed heit skap skab dom lig end ende ande".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Suggested:
    """One suggested group: an existing group's id (cards to add to it) or "" (a new group)."""

    group: str
    name: str
    cards: tuple[str, ...]


Vector = dict[str, float]
Bag = dict[str, float]  # a card's features and their weights


def _theme_words(text: str, locale: str) -> list[tuple[str, str]]:
    """(word, stem) of the words that can carry a theme."""
    stop = GENERIC.get(locale, GENERIC["en"])
    # "pn-medisin" is a "medisin" too: a hyphenated word counts as itself and as its parts.
    words = [p for w in tokens(text) for p in ([w, *w.split("-")] if "-" in w else [w])]
    return [(w, stem(w, locale)) for w in words if w not in stop and len(w) > 2]


def _is_part(part: str, word: str, word_stem: str) -> bool:
    """Whether `part` (a stem other cards use alone) is the first or the last part of a compound:
    "kommune|overlegen" starts with "kommun"; "tilsyns|legen" ends with "leg" and an ending."""
    if part == word_stem:
        return False
    if len(part) >= COMPOUND_PART and word_stem.startswith(part):
        return True
    if part in ENDINGS:
        return False
    at = word.rfind(part)
    return at >= COMPOUND_PART and len(word) - at - len(part) <= MAX_ENDING


def _features(texts: Sequence[str], locale: str) -> list[Bag]:
    words = [_theme_words(t, locale) for t in texts]
    vocabulary = {s for card in words for _, s in card if len(s) >= COMPOUND_PART - 1}
    bags: list[Bag] = []
    for card in words:
        bag: Bag = {}
        for word, s in card:
            bag[s] = bag.get(s, 0.0) + 1.0
            if len(word) >= COMPOUND_PART + 3:
                for part in vocabulary:
                    if _is_part(part, word, s):
                        bag[part] = bag.get(part, 0.0) + PART_WEIGHT
        bags.append(bag)
    df: Counter[str] = Counter(f for bag in bags for f in bag)
    heads = fold_typos(df.items())
    folded: list[Bag] = []
    for bag in bags:
        merged: Bag = {}
        for f, w in bag.items():
            merged[heads[f]] = max(merged.get(heads[f], 0.0), w)
        folded.append(merged)
    return folded


def _vectors(bags: Sequence[Bag]) -> list[Vector]:
    n = len(bags)
    df: Counter[str] = Counter(f for bag in bags for f in bag)
    vectors: list[Vector] = []
    for bag in bags:
        vector = {f: w * math.log((n + 1) / df[f]) for f, w in bag.items() if df[f] > 1}
        lone = sum(1 for f in bag if df[f] == 1)
        norm = math.sqrt(sum(v * v for v in vector.values()) + 0.25 * lone)  # lone words dilute a little
        vectors.append({f: v / norm for f, v in vector.items()} if norm else {})
    return vectors


def _cosine(a: Vector, b: Vector) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(f, 0.0) for f, v in a.items())


def suggest(
    cards: Sequence[tuple[str, str]],
    groups: Sequence[tuple[str, str, Sequence[str]]],
    locale: str,
    *,
    max_new: int,
) -> list[Suggested]:
    """Where the ungrouped cards could go. `cards`: (id, text) of every card; `groups`: (id, name,
    card ids) as the tovholder made them. At most `max_new` new groups."""
    return list(_suggest(tuple(cards), tuple((g, n, tuple(c)) for g, n, c in groups), locale, max_new))


def communities(weights: list[list[float]], fixed: Sequence[Sequence[int]]) -> list[list[int]]:
    """Groups of the nodes of a weighted graph by greedy modularity: start from `fixed` groups
    (never merged with each other, never broken up) and single nodes, merge the pair that raises
    modularity most while one does, then move single free nodes while that raises it."""
    n = len(weights)
    degree = [sum(row) for row in weights]
    total = sum(degree)
    if total <= 0:
        return [list(g) for g in fixed if g]
    owner = list(range(n))  # node -> cluster id
    locked = set()
    for g in fixed:
        for i in g:
            owner[i] = g[0]
            locked.add(i)
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(owner[i], []).append(i)
    is_fixed = {g[0] for g in fixed if g}
    size = {c: sum(degree[i] for i in m) for c, m in members.items()}
    link: dict[int, dict[int, float]] = {c: {} for c in members}
    for i in range(n):
        for j in range(n):
            if weights[i][j] and owner[i] != owner[j]:
                row = link[owner[i]]
                row[owner[j]] = row.get(owner[j], 0.0) + weights[i][j]

    def gain(a: int, b: int) -> float:
        return 2 * (link[a].get(b, 0.0) / total - RESOLUTION * size[a] * size[b] / total**2)

    while True:
        best, pair = 0.0, None
        for x in link:
            for y in link[x]:
                if x < y and not (x in is_fixed and y in is_fixed):
                    up = gain(x, y)
                    if up > best:
                        best, pair = up, (x, y)
        if pair is None:
            break
        a, b = pair if pair[0] in is_fixed or pair[1] not in is_fixed else (pair[1], pair[0])
        for c, w in link.pop(b).items():
            if c == a:
                continue
            link[a][c] = link[a].get(c, 0.0) + w
            link[c][a] = link[c].get(a, 0.0) + w
            del link[c][b]
        link[a].pop(b, None)
        members[a] += members.pop(b)
        size[a] += size.pop(b)
        for i in members[a]:
            owner[i] = a

    for _ in range(5):  # single free nodes move to the cluster that gains most
        moved = False
        for i in range(n):
            if i in locked:
                continue
            here = owner[i]
            towards: dict[int, float] = {}
            for j in range(n):
                if j != i and weights[i][j]:
                    towards[owner[j]] = towards.get(owner[j], 0.0) + weights[i][j]

            def score(c: int, i: int = i, here: int = here, towards: dict[int, float] = towards) -> float:
                rest = size[c] - (degree[i] if c == here else 0.0)
                return towards.get(c, 0.0) / total - RESOLUTION * degree[i] * rest / total**2

            target = max(towards, key=score, default=here)
            if target != here and score(target) > score(here) + 1e-12:
                members[here].remove(i)
                members[target].append(i)
                size[here] -= degree[i]
                size[target] += degree[i]
                owner[i] = target
                moved = True
        if not moved:
            break
    return [sorted(m) for m in members.values() if m]


def _focused(bags: Sequence[Bag], found: Sequence[Sequence[int]]) -> list[Bag]:
    where = {i: k for k, c in enumerate(found) for i in c}
    spread: dict[str, Counter[int]] = {}
    for i, bag in enumerate(bags):
        for f in bag:
            spread.setdefault(f, Counter())[where.get(i, -1 - i)] += 1
    focus = {f: c.most_common(1)[0][1] / sum(c.values()) for f, c in spread.items()}
    return [{f: w * focus[f] for f, w in bag.items()} for bag in bags]


@functools.lru_cache(maxsize=64)
def _suggest(
    cards: tuple[tuple[str, str], ...],
    groups: tuple[tuple[str, str, tuple[str, ...]], ...],
    locale: str,
    max_new: int,
) -> tuple[Suggested, ...]:
    if not cards:
        return ()
    index = {cid: i for i, (cid, _) in enumerate(cards)}
    texts = [text for _, text in cards]
    texts += [name for _, name, _ in groups]  # a group's name speaks for its cards as one more card
    bags = _features(texts, locale)
    n = len(texts)

    def graph(vectors: list[Vector]) -> list[list[float]]:
        return [[_cosine(vectors[i], vectors[j]) if i != j else 0.0 for j in range(n)] for i in range(n)]

    vectors = _vectors(bags)
    weights = graph(vectors)

    placed: set[int] = set()
    fixed: list[list[int]] = []
    for g, (_gid, _group_name, ids) in enumerate(groups):
        mine = [index[c] for c in ids if c in index and index[c] not in placed]
        placed.update(mine)
        fixed.append([len(cards) + g, *mine])
    found = communities(weights, fixed)
    # Words spread over many groups ("the evening team", "the citizen") say who, not what: a
    # second pass weighs each word by the share of its cards that fell in one group.
    vectors = _vectors(_focused(bags, found))
    weights = graph(vectors)
    found = communities(weights, fixed)
    by_first = {f[0]: gid for f, (gid, _, _) in zip(fixed, groups, strict=True)}
    existing = [
        (gid, c) for c in found for gid in [next((by_first[i] for i in c if i in by_first), "")] if gid
    ]
    new = sorted(
        (c for c in found if not any(i in by_first for i in c) and len(c) > 1), key=lambda c: (-len(c), c)
    )[:max_new]
    targets: list[tuple[str, list[int]]] = existing + [("", c) for c in new]
    chosen = {i for _, c in targets for i in c}
    # A card left alone joins the group it resembles most, if it resembles one at all.
    for i in range(len(cards)):
        if i in chosen or i in placed:
            continue
        scores = [sum(weights[i][j] for j in c) / len(c) for _, c in targets]
        if scores and max(scores) >= ATTACH:
            targets[scores.index(max(scores))][1].append(i)

    taken = {name.casefold() for _, name, _ in groups}
    out: list[Suggested] = []
    for gid, members in targets:
        ids = tuple(cards[i][0] for i in sorted(members) if i < len(cards) and i not in placed)
        if not ids:
            continue
        name = (
            next(n for g, n, _ in groups if g == gid) if gid else _name(members, bags, texts, locale, taken)
        )
        taken.add(name.casefold())
        out.append(Suggested(gid, name, ids))
    return tuple(out)


def _name(
    members: Sequence[int], bags: Sequence[Bag], texts: Sequence[str], locale: str, taken: set[str]
) -> str:
    """The word that most of the group's cards share and few others use, in the spelling the
    cards use most, capitalised."""
    inside = Counter(f for i in members for f in bags[i])
    everywhere = Counter(f for bag in bags for f in bag)
    spellings: dict[str, Counter[str]] = {}
    for text in texts:
        for word, s in _theme_words(text, locale):
            spellings.setdefault(s, Counter())[word] += 1
    ranked = sorted(
        (f for f in inside if f in spellings),
        key=lambda f: (-inside[f] * inside[f] / everywhere[f], -len(f), f),
    )
    for f in ranked:
        word = spellings[f].most_common(1)[0][0]
        name = (word[:1].upper() + word[1:])[:60]
        if name.casefold() not in taken:
            return name
    return next(str(n) for n in range(1, len(taken) + 2) if str(n) not in taken)


# --- the console's answer to a suggestion ---------------------------------------------------


def unique_name(groups: Sequence[Mapping[str, Any]], name: str) -> str:
    """The name, or the name with a number when a group is already called so."""
    taken = {g["name"].casefold() for g in groups}
    candidate, number = name, 2
    while candidate.casefold() in taken:
        candidate = f"{name[: NAME_LENGTH - 4]} {number}"
        number += 1
    return candidate


def read_suggestion(raw: str) -> list[dict[str, Any]]:
    """The suggested groups as the console sent them back: [{group, name, cards}], checked."""
    stale = AnswerInvalid(N_("That suggestion is out of date; the page now shows the cards as they are."))
    try:
        data = json.loads(raw) if len(raw) <= 100_000 else None
    except ValueError:
        raise stale from None
    if not isinstance(data, list) or not 0 < len(data) <= MAX_GROUPS:
        raise stale
    items: list[dict[str, Any]] = []
    for item in data:
        if not isinstance(item, dict):
            raise stale
        group, name, cards = item.get("group"), item.get("name"), item.get("cards")
        if not isinstance(group, str) or (group and not GROUP_ID.match(group)) or not isinstance(name, str):
            raise stale
        if not isinstance(cards, list) or not all(isinstance(c, str) and CARD_ID.match(c) for c in cards):
            raise stale
        items.append({"group": group, "name": name, "cards": cards[:HARD_CAP]})
    return items
