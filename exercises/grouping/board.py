"""The board as the tovholder edits it: the groups kept in the step's state, read back safely, and
the checks on a group's name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from exercises.base import N_, AnswerInvalid, clean_text
from exercises.grouping.suggest import GROUP_ID, NAME_LENGTH


def field(form: Mapping[str, Any], key: str) -> str:
    value = form.get(key)
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


def read_groups(state: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The groups of a state, as fresh dicts; anything malformed is left out."""
    raw = state.get("groups")
    groups: list[dict[str, Any]] = []
    if not isinstance(raw, list):
        return groups
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, Mapping):
            continue
        gid, name, cards = item.get("id"), item.get("name"), item.get("cards")
        if not isinstance(gid, str) or not GROUP_ID.match(gid) or gid in seen or not isinstance(name, str):
            continue
        seen.add(gid)
        ids = [c for c in cards if isinstance(c, str)] if isinstance(cards, list) else []
        groups.append({"id": gid, "name": name, "cards": ids})
    return groups


def clean_name(raw: str) -> str:
    try:
        return clean_text(raw, max_length=NAME_LENGTH, single_line=True)
    except AnswerInvalid as exc:
        if exc.params:
            raise AnswerInvalid(
                N_("A group name is at most %(limit)d characters."), limit=NAME_LENGTH
            ) from None
        raise AnswerInvalid(N_("Please give the group a name.")) from None


def check_unique(groups: Sequence[Mapping[str, Any]], name: str, skip: str = "") -> None:
    for g in groups:
        if g["id"] != skip and g["name"].casefold() == name.casefold():
            raise AnswerInvalid(N_("There is already a group named “%(name)s”."), name=g["name"])


def find(groups: Sequence[dict[str, Any]], gid: str) -> dict[str, Any]:
    for g in groups:
        if g["id"] == gid:
            return g
    raise AnswerInvalid(N_("That group is gone; the page now shows the groups as they are."))
