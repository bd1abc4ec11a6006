"""What the tovholder chooses for a poster before printing it: hide an item, move it, reword it,
merge two that say the same, pick the language. Kept per team (or per session without a team)
and kind in `PosterCuration`; the participants' answers are never changed.

`apply(data, curation)` gives the poster as it prints; `change(curation, data, action, ...)` is
one action of the posters page; `draft(data, curation)` is what the page lists, with the
original text beside every edit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from app.db import session_scope
from app.errors import InvalidInput
from app.models import PosterCuration, Run, utcnow
from app.posters.model import Commitment, PosterData, PosterItem, PosterKind
from exercises.base import LOCALES, N_, AnswerInvalid, clean_text

MAX_TEXT = 1000
MAX_ENTRIES = 5000
ITEM_ACTIONS = ("hide", "show", "up", "down", "first", "edit", "revert", "merge", "unmerge")
ACTIONS: tuple[str, ...] = (*ITEM_ACTIONS, "language", "subject", "reset")
MAX_SUBJECT = 120


class ItemChoice(BaseModel):
    model_config = ConfigDict(extra="ignore")

    hidden: bool = False
    order: int | None = None  # place within its section (or among the commitments)
    text: Annotated[str, Field(max_length=MAX_TEXT)] | None = None  # the edited text
    merged_into: str | None = None  # the item this one was merged into: that item's text stays


class Curation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    language: str | None = None
    subject: Annotated[str, Field(max_length=MAX_SUBJECT)] | None = None  # what the poster is about, typed
    items: dict[str, ItemChoice] = Field(default_factory=dict, max_length=MAX_ENTRIES)

    def choice(self, item_id: str) -> ItemChoice:
        return self.items.get(item_id) or ItemChoice()


def load(raw: Mapping[str, Any] | None) -> Curation:
    """A stored curation; anything malformed reads as no curation at all."""
    try:
        return Curation.model_validate(raw or {})
    except ValidationError:
        return Curation()


def commitment_ids(commitments: Sequence[Commitment]) -> list[str]:
    """A commitment has no id of its own: this one follows its what and who, not the language its
    date is printed in; the same pair twice gets a number."""
    ids: list[str] = []
    for c in commitments:
        base = "k" + hashlib.sha1(f"{c.what}\x00{c.who}".encode()).hexdigest()[:12]
        cid, n = base, 1
        while cid in ids:
            n += 1
            cid = f"{base}-{n}"
        ids.append(cid)
    return ids


def ordered_ids(ids: Sequence[str], curation: Curation) -> list[str]:
    """Ids in the tovholder's order (see `_ordered`)."""
    return _ordered(ids, curation)


def _ordered(ids: Sequence[str], curation: Curation) -> list[str]:
    """Ids in the tovholder's order: moved ones by their place, new ones after, as collected."""

    def key(pair: tuple[int, str]) -> tuple[int, int]:
        index, item_id = pair
        order = curation.choice(item_id).order
        return (order, index) if order is not None else (1_000_000 + index, index)

    return [item_id for _i, item_id in sorted(enumerate(ids), key=key)]


def apply(data: PosterData, curation: Curation | None) -> PosterData:
    """The poster as the tovholder curated it. Items and commitments keep their original text
    unless edited; a hidden item, or one merged into another, is left out."""
    if curation is None:
        return data
    if curation.subject:
        data = data.model_copy(update={"subtitle": curation.subject})
    if not curation.items:
        return data
    sections = []
    for section in data.sections:
        by_id = {i.id: i for i in section.items}
        kept: list[PosterItem] = []
        for item_id in _ordered(list(by_id), curation):
            choice = curation.choice(item_id)
            if choice.hidden or (choice.merged_into in by_id and choice.merged_into != item_id):
                continue
            item = by_id[item_id]
            kept.append(item.model_copy(update={"text": choice.text}) if choice.text else item)
        sections.append(section.model_copy(update={"items": kept}))
    commitments: list[Commitment] = []
    by_cid = dict(zip(commitment_ids(data.commitments), data.commitments, strict=True))
    for cid in _ordered(list(by_cid), curation):
        choice = curation.choice(cid)
        if choice.hidden:
            continue
        c = by_cid[cid]
        commitments.append(c.model_copy(update={"what": choice.text}) if choice.text else c)
    out = data.model_copy(update={"sections": sections})
    out.commitments = commitments
    return out


# --- what the posters page lists -------------------------------------------------------------


@dataclass
class DraftItem:
    id: str
    text: str  # as it prints
    original: str  # as the participants wrote it (or the flow says it)
    note: str | None
    hidden: bool
    edited: bool
    merged: list[tuple[str, str]] = field(default_factory=list)  # (id, text) merged into this one
    first: bool = False
    last: bool = False
    can_merge: bool = False  # there is an item above to merge into


@dataclass
class DraftSection:
    id: str
    heading: str
    items: list[DraftItem]
    commitments: bool = False  # the commitments table: no merging


def draft(data: PosterData, curation: Curation) -> list[DraftSection]:
    out: list[DraftSection] = []
    for section in data.sections:
        by_id = {i.id: i for i in section.items}
        order = [i for i in _ordered(list(by_id), curation) if curation.choice(i).merged_into not in by_id]
        rows: list[DraftItem] = []
        for position, item_id in enumerate(order):
            item, choice = by_id[item_id], curation.choice(item_id)
            merged = [
                (other, by_id[other].text)
                for other in _ordered(list(by_id), curation)
                if curation.choice(other).merged_into == item_id and other != item_id
            ]
            rows.append(
                DraftItem(
                    id=item_id,
                    text=choice.text or item.text,
                    original=item.text,
                    note=item.note,
                    hidden=choice.hidden,
                    edited=bool(choice.text),
                    merged=merged,
                    first=position == 0,
                    last=position == len(order) - 1,
                    can_merge=position > 0,
                )
            )
        out.append(DraftSection(id=section.id, heading=section.heading, items=rows))
    if data.commitments:
        by_cid = dict(zip(commitment_ids(data.commitments), data.commitments, strict=True))
        order = _ordered(list(by_cid), curation)
        rows = []
        for position, cid in enumerate(order):
            c, choice = by_cid[cid], curation.choice(cid)
            rows.append(
                DraftItem(
                    id=cid,
                    text=choice.text or c.what,
                    original=c.what,
                    note=f"{c.who} · {c.when}" if c.when else c.who,
                    hidden=choice.hidden,
                    edited=bool(choice.text),
                    first=position == 0,
                    last=position == len(order) - 1,
                )
            )
        heading = data.commitments_heading
        out.append(DraftSection(id="who-what-when", heading=heading, items=rows, commitments=True))
    return out


# --- one action of the posters page ----------------------------------------------------------


def _where(data: PosterData, item_id: str) -> tuple[list[str], dict[str, str], bool]:
    """The ids of the item's section (or of the commitments), their original texts, and whether
    it is a commitment. InvalidInput when the poster has no such item (any more)."""
    for section in data.sections:
        texts = {i.id: i.text for i in section.items}
        if item_id in texts:
            return list(texts), texts, False
    commitments = dict(zip(commitment_ids(data.commitments), (c.what for c in data.commitments), strict=True))
    if item_id in commitments:
        return list(commitments), commitments, True
    raise InvalidInput(N_("That item is no longer on the poster; the page now shows the poster as it is."))


def change(
    curation: Curation,
    data: PosterData,
    action: str,
    item_id: str = "",
    text: str = "",
    languages: Sequence[str] = LOCALES,
) -> Curation:
    """One action on a copy of the curation. `data` is the poster as collected, before curation."""
    new = curation.model_copy(deep=True)
    if action == "reset":
        return Curation(language=new.language, subject=new.subject)
    if action == "subject":
        try:
            new.subject = clean_text(text, max_length=MAX_SUBJECT, single_line=True) if text.strip() else None
        except AnswerInvalid as exc:
            raise InvalidInput(exc.message, **(exc.params or {})) from None
        return new
    if action == "language":
        if text not in languages:
            raise InvalidInput(N_("Please pick one of the languages on the list."))
        new.language = text
        return new
    if action not in ACTIONS:
        raise InvalidInput(N_("The posters page has no such action."))
    ids, texts, is_commitment = _where(data, item_id)
    choice = new.items.setdefault(item_id, ItemChoice())
    if action == "hide":
        choice.hidden = True
    elif action == "show":
        choice.hidden = False
    elif action == "first":  # onto page 1: to the top of its section
        order = [i for i in _ordered(ids, new) if new.choice(i).merged_into not in texts]
        if item_id in order:
            order.remove(item_id)
            order.insert(0, item_id)
            for place, other in enumerate(order):
                new.items.setdefault(other, ItemChoice()).order = place
    elif action in ("up", "down"):
        order = [i for i in _ordered(ids, new) if new.choice(i).merged_into not in texts]
        if item_id in order:
            at = order.index(item_id)
            to = at - 1 if action == "up" else at + 1
            if 0 <= to < len(order):
                order[at], order[to] = order[to], order[at]
            for place, other in enumerate(order):
                new.items.setdefault(other, ItemChoice()).order = place
    elif action == "edit":
        try:
            cleaned = clean_text(text, max_length=MAX_TEXT)
        except AnswerInvalid as exc:
            if exc.params:
                raise InvalidInput(exc.message, **exc.params) from None
            message = N_("Please write the text, or undo the edit to print the original.")
            raise InvalidInput(message) from None
        choice.text = None if cleaned == texts[item_id] else cleaned
    elif action == "revert":
        choice.text = None
    elif action == "merge":
        if is_commitment:
            raise InvalidInput(N_("Commitments cannot be merged; hide the one you do not need."))
        order = [i for i in _ordered(ids, new) if new.choice(i).merged_into not in texts]
        at = order.index(item_id) if item_id in order else 0
        if at == 0:
            raise InvalidInput(N_("There is no item above this one to merge it into."))
        target = order[at - 1]
        choice.merged_into = target
        for other in ids:  # what was merged into this item goes along with it
            if new.choice(other).merged_into == item_id:
                new.items[other].merged_into = target
    elif action == "unmerge":
        choice.merged_into = None
    _prune(new)
    return new


def _prune(curation: Curation) -> None:
    """Entries that choose nothing are dropped, so the stored JSON stays small."""
    for item_id in [k for k, v in curation.items.items() if v == ItemChoice()]:
        del curation.items[item_id]


# --- storage ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """Where a poster's curation is kept: the team's, or the session's when it has no team."""

    team_id: int | None
    run_id: int | None

    @staticmethod
    def of(run: Run) -> Scope:
        return Scope(team_id=run.team_id, run_id=None) if run.team_id is not None else Scope(None, run.id)


def _query(scope: Scope, kind: str) -> Any:
    query = select(PosterCuration).where(PosterCuration.kind == kind)
    if scope.team_id is not None:
        return query.where(PosterCuration.team_id == scope.team_id)
    return query.where(PosterCuration.run_id == scope.run_id)


def read(engine: Engine, scope: Scope, kind: PosterKind) -> Curation:
    with session_scope(engine) as db:
        row = db.exec(_query(scope, kind)).first()
    return load(row.data if row is not None else None)


def write(engine: Engine, scope: Scope, kind: PosterKind, update: Any) -> Curation:
    """Read, change (`update(curation) -> curation`) and store in one transaction; the row is
    locked on PostgreSQL (SQLite locks the file at BEGIN), so two tabs do not undo each other."""
    for _attempt in range(3):
        with session_scope(engine) as db:
            row = db.exec(_query(scope, kind).with_for_update()).first()
            new: Curation = update(load(row.data if row is not None else None))
            if row is None:
                row = PosterCuration(team_id=scope.team_id, run_id=scope.run_id, kind=kind)
            row.data = new.model_dump(mode="json", exclude_defaults=True)
            row.updated_at = utcnow()
            db.add(row)
            try:
                db.commit()
            except IntegrityError:
                db.rollback()  # another tab stored the first curation at the same moment: again
                continue
            return new
    raise InvalidInput(N_("The poster changed in another window; reload the page and try again."))


def version(curation: Curation) -> str:
    """A short fingerprint of a curation, so a preview's address changes with it."""
    raw = curation.model_dump_json(exclude_defaults=True)
    return hashlib.sha1(raw.encode()).hexdigest()[:10]
