"""The section rules and legibility of every poster kind: the rules in app/posters/sections.py and
the table in docs/posters/README.md; strengths, stop/keep/develop, units, empty headings; type
sizes read from the PDFs (PyMuPDF) of a demo team of 40 people that ran every flow with a poster;
the context each poster carries; and bad input (no answers, 500 cards, a 4,000-letter card, a
script the fonts lack)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pymupdf
import pytest
from sqlalchemy.engine import Engine

from app import i18n
from app.db import make_engine
from app.flows import load_flows
from app.models import Run, Team
from app.posters import PosterData, PosterItem, PosterSection, fit, render
from app.posters.assemble import assemble
from app.posters.build import Posters
from app.posters.curation import Curation, Scope, change, write
from app.posters.pieces import Piece
from app.posters.sections import SPECS, rules_table, select
from app.runner import Runner
from app.views import Reader
from exercises import build_registry
from exercises.base import Entry
from exercises.open_text import OpenTextAnswer, OpenTextSettings
from exercises.poster import PosterSlot
from tests.inprocess import InProcess
from tests.legibility import sizes

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = build_registry()
TEAM = "Hjemmetjenesten Nord"
FLOWS = (
    "core-task-1", "core-task-2", "coordination-1", "coordination-2", "reflection", "alliance", "safety",
    "leadership",
)  # fmt: skip
KINDS = ("core-task", "coordination", "lessons", "alliance", "safety", "leadership")


def text_of(pdf: bytes) -> str:
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        return " ".join(" ".join(page.get_text().split()) for page in doc)


def squeezed(s: str) -> str:
    return re.sub(r"[\s\-‐]+", "", s)


# --- the rules, as data and as documented ------------------------------------------------------


def test_the_docs_table_is_the_rules_in_the_code() -> None:
    readme = (ROOT / "docs" / "posters" / "README.md").read_text(encoding="utf-8")
    documented = readme.split("<!-- rules:start -->\n", 1)[1].split("<!-- rules:end -->", 1)[0]
    assert documented == rules_table(), "docs/posters/README.md: paste rules_table() between the markers"
    for kind, spec in SPECS.items():
        assert f"`{kind}`" in documented and all(f"`{s.id}`" in documented for s in spec.sections)


def _rated(*medians: float, points: int = 5) -> list[PosterItem]:
    return [
        PosterItem(id=f"i{n}", text=f"item {m}", score=m, scale_max=points) for n, m in enumerate(medians)
    ]


def test_a_strength_below_the_threshold_is_not_printed_as_one() -> None:
    specs = {s.id: s for s in SPECS["core-task"].sections}
    items = _rated(2.5, 4.0, 3.5, 5.0, 3.0)
    assert [i.score for i in select(items, specs["best"])] == [5.0, 4.0]
    assert [i.score for i in select(items, specs["better"])] == [2.5, 3.0, 3.5]
    # On a 7-point scale a strength is at least 5.6; never at or below the midpoint on any scale.
    assert [i.score for i in select(_rated(5.5, 6.0, 4.0, points=7), specs["best"])] == [6.0]
    assert select(_rated(3.0, points=5), specs["best"]) == []
    # Unrated items are not strengths either.
    assert select([PosterItem(id="x", text="no score")], specs["best"]) == []


def _assembled(kind: str, pieces: dict[str, Piece]) -> PosterData:
    run = Run(id=1, code="ABCDEF", flow_name="x", flow_snapshot={}, locale="en", started_at=datetime.now(UTC))
    return assemble(
        kind,  # type: ignore[arg-type]
        SPECS[kind],
        {source: (run, piece) for source, piece in pieces.items()},
        {},
        Team(id=1, name="T", units=[]),
        i18n.words("en"),
        datetime.now(UTC).date(),
    )


def test_no_section_prints_an_empty_heading() -> None:
    data = _assembled("core-task", {"best": Piece(items=_rated(2.0, 3.0, 3.5))})
    assert [s.id for s in data.sections] == ["better"]  # no strengths: no "What we do best" at all
    pdf = render(data)
    text = text_of(pdf)
    assert "What we want to get better at" in text and "What we do best" not in text
    nothing = _assembled("coordination", {})
    assert nothing.sections == [] and nothing.notice
    text = text_of(render(nothing))
    assert nothing.notice in text and "Stop, keep, develop" not in text and "Who does what" not in text


def test_a_card_names_its_unit_only_where_the_step_shows_units_and_the_unit_is_big_enough() -> None:
    ex = REGISTRY["open_text"]
    settings = OpenTextSettings(max_cards=1)
    entries = [
        Entry(id=i, answer=OpenTextAnswer(text=f"card {i}"), participant=i, unit="Big") for i in range(6)
    ]
    entries += [
        Entry(id=10 + i, answer=OpenTextAnswer(text=f"small {i}"), participant=10 + i, unit="Small")
        for i in range(2)
    ]
    slot = PosterSlot(words=i18n.words("en"), by_unit=True, min_group_size=5)
    part = ex.poster(settings, ex.aggregate(settings, entries, _ctx()), entries, slot)
    notes = {i.text: i.note for i in part.items}
    assert notes["card 0"] == "Big" and notes["small 0"] is None
    # Open text never shows the room a card's unit, so a poster section never asks it to.
    assert not ex.shows_units(settings)
    relation_map = load_flows(ROOT / "sessions", REGISTRY)["coordination-1"].steps[3]
    assert REGISTRY["matrix"].shows_units(REGISTRY["matrix"].settings(relation_map.settings))


def _ctx():  # type: ignore[no-untyped-def]
    from exercises.base import StepContext

    return StepContext(units=("Big", "Small"))


# --- a team of 40 that ran every flow with a poster ----------------------------------------------


@dataclass
class World:
    server: InProcess
    engine: Engine
    runs: dict[str, int]

    @property
    def posters(self) -> Posters:
        return Posters(self.engine, Reader(REGISTRY, 5))

    def pdf(self, kind: str, **kw: object) -> bytes:
        return self.posters.file(
            self.runs["reflection"], kind, paper="a3", orientation="portrait", fmt="pdf", ppi=72, **kw
        )  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def world(shared_inproc: InProcess) -> Iterator[World]:
    runs: dict[str, int] = {}
    for seed, flow in enumerate(FLOWS, start=21):
        made = shared_inproc.cli(
            "demo", "--flow", flow, "--team", TEAM, "--owner", "t@example.org", "--seed", str(seed),
            "--participants", "40", "--locale", "nb",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        runs[flow] = int(made.stdout)
    engine = make_engine(f"sqlite:///{shared_inproc.data_dir / 'tovholder.db'}")
    try:
        yield World(shared_inproc, engine, runs)
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_legible_on_one_a3_page(world: World, kind: str) -> None:
    assert kind in world.posters.kinds(world.runs["reflection"])
    built = world.posters.build(world.runs["reflection"], kind)  # type: ignore[arg-type]
    assert fit(built.data)["fits"]
    pdf = world.pdf(kind)
    page1 = sizes(pdf)
    assert page1.words, "page 1 has text"
    assert not page1.below(11), f"{kind}: below 11 pt: {page1.below(11)[:8]}"
    assert page1.median() >= 14, f"{kind}: the word-weighted median is {page1.median()} pt"
    for section in built.data.sections:
        heading = section.group_heading or section.heading
        assert page1.biggest(heading.split()[0]) >= 20, f"{kind}: heading {heading!r} under 20 pt"
    if built.data.statement:
        assert page1.biggest(built.data.statement.split()[0]) >= 28


def test_the_core_task_poster_shows_only_strengths_as_strengths(world: World) -> None:
    data = world.posters.build(world.runs["reflection"], "core-task").data
    best = next((s for s in data.sections if s.id == "best"), None)
    better = next((s for s in data.sections if s.id == "better"), None)
    assert best is None or all(i.score is not None and i.score >= 4 for i in best.items)
    assert better is not None and all(i.score is not None and i.score < 4 for i in better.items)
    # The flow tells the room no screen shows a card's unit: the poster does not either.
    contributions = next(s for s in data.sections if s.id == "contributions")
    team_units = {"Dagteamet", "Kveldsteamet", "Terapeutene"}
    assert all(not (i.note and team_units & set(i.note.split(" · "))) for i in contributions.items)


def test_stop_keep_develop_are_three_labelled_columns(world: World) -> None:
    data = world.posters.build(world.runs["reflection"], "coordination").data
    grouped = [s for s in data.sections if s.group == "stop-keep-develop"]
    assert [s.id for s in grouped] == ["stop", "keep", "develop"] and all(s.items for s in grouped)
    with pymupdf.open(stream=world.pdf("coordination"), filetype="pdf") as doc:
        spans = [
            (sp["text"].strip(), round(sp["bbox"][1]), sp["bbox"][0])
            for b in doc[0].get_text("dict")["blocks"]
            for line in b.get("lines", [])
            for sp in line["spans"]
        ]
    labels = [next(sp for sp in spans if sp[0] == s.heading) for s in grouped]
    assert len({y for _t, y, _x in labels}) == 1, "the three labels stand on one line"
    assert labels[0][2] < labels[1][2] < labels[2][2], "left to right: stop, keep, develop"


def test_the_coordination_poster_opens_with_the_core_task_statement(world: World) -> None:
    core = world.posters.build(world.runs["core-task-2"], "core-task").data
    coordination = world.posters.build(world.runs["coordination-2"], "coordination").data
    assert core.statement and coordination.statement == core.statement
    assert squeezed(core.statement) in squeezed(text_of(world.pdf("coordination")))
    # Its relationship agreements come from the tagged step of the alliance flow.
    relationships = next(s for s in coordination.sections if s.id == "relationships")
    assert relationships.items and all(
        i.id.startswith(f"r{world.runs['alliance']}.") for i in relationships.items
    )


def test_the_lessons_card_names_the_activity_and_holds_every_commitment(world: World) -> None:
    reflection = world.runs["reflection"]
    scope = Scope.of(world.posters.build(reflection, "lessons").collected.scope_run)
    write(world.engine, scope, "lessons", lambda _c: Curation())
    data = world.posters.build(reflection, "lessons").data
    assert data.subtitle and not re.search(r"\d{4}", data.subtitle), "the activity, not a date"
    assert data.commitments and data.follow_up
    text = squeezed(text_of(world.pdf("lessons")))
    for c in data.commitments:
        assert squeezed(c.what) in text, c.what
    assert squeezed(data.follow_up) in text
    original = world.posters.collect("lessons", run_id=reflection).data
    write(
        world.engine, scope, "lessons", lambda c: change(c, original, "subject", text="Vinterens flomvarsel")
    )
    assert world.posters.build(reflection, "lessons").data.subtitle == "Vinterens flomvarsel"
    write(world.engine, scope, "lessons", lambda _c: Curation())


# --- bad input ---------------------------------------------------------------------------------


def _cards(n: int, length: int = 40) -> list[PosterItem]:
    return [
        PosterItem(id=f"c{i}", text=(f"Card {i} " + "word " * length)[: max(length, 8)], weight=n - i)
        for i in range(n)
    ]


def test_five_hundred_cards_keep_page_one_legible_and_all_print() -> None:
    data = PosterData(
        kind="coordination", language="en", title="How we work together", team="T",
        statement="We help people live safely at home.", appendix_heading="All the cards",
        sections=[PosterSection(id="stop", heading="Stop", items=_cards(500), style="list", cap=4)],
    )  # fmt: skip
    result = fit(data)
    assert result["fits"] and result["left-out"] == 496
    pdf = render(data)
    page1 = sizes(pdf)
    assert not page1.below(11) and page1.median() >= 14
    text = text_of(pdf)
    assert "All the cards" in text and "Card 499" in text


def test_a_card_of_4000_letters_is_cut_on_page_one_and_whole_in_the_appendix() -> None:
    long = " ".join(f"w{i:04d}" for i in range(800))[:4000]
    data = PosterData(
        kind="lessons", language="en", title="What we learned", team="T", appendix_heading="All the cards",
        sections=[PosterSection(id="learn", heading="Learn", items=[PosterItem(id="x", text=long)])],
    )  # fmt: skip
    result = fit(data)
    assert result["fits"] and result["clipped"] == 1 and result["appendix"]
    pdf = render(data)
    assert not sizes(pdf).below(11)
    assert squeezed(long) in squeezed(text_of(pdf))


def test_a_statement_in_a_script_the_fonts_lack_still_makes_a_legible_poster() -> None:
    from app.posters.glyphs import missing

    statement = "我们帮助人们安全地住在家里 نساعد الناس"
    assert missing(statement) >= {"我", "ن"} and not missing("Vi hjelper folk å bo trygt hjemme, æøå äö")
    data = PosterData(kind="core-task", language="en", title="Our core task", team="T", statement=statement)
    pdf = render(data)
    assert fit(data)["fits"] and sizes(pdf).words
    assert not sizes(pdf).below(11)


def test_the_posters_page_names_the_letters_the_font_lacks(world: World) -> None:
    run_id = world.runs["reflection"]
    scope = Scope.of(world.posters.build(run_id, "lessons").collected.scope_run)
    original = world.posters.collect("lessons", run_id=run_id).data
    item = original.sections[0].items[0]
    write(world.engine, scope, "lessons", lambda c: change(c, original, "edit", item.id, "我们一起学习"))
    try:
        assert {"我", "们"} <= set(world.posters.block(run_id, "lessons").missing)
        html = world.server.login().get(f"/runs/{run_id}/posters").text
        warning = html.split("print as empty boxes:", 1)[1][:80]
        assert "我" in warning and "们" in warning
    finally:
        write(world.engine, scope, "lessons", lambda _c: Curation())


class _Silent:
    def notify(self, run_id: int, what: str, run: object = None) -> None:
        pass


def test_a_session_with_no_answers_gives_a_poster_that_says_so(world: World) -> None:
    flows = load_flows(ROOT / "sessions", REGISTRY)
    runner = Runner(world.engine, flows, REGISTRY, _Silent(), 5)
    run = runner.create_run("safety", "en", None)
    assert run.id is not None
    kinds = world.posters.kinds(run.id)
    assert kinds == ["safety"]
    data = world.posters.build(run.id, "safety").data
    assert data.notice and not data.sections
    pdf = world.posters.file(run.id, "safety", paper="a3", orientation="portrait", fmt="pdf", ppi=72)
    assert data.notice in text_of(pdf) and not sizes(pdf).below(11)


def test_a_card_the_tovholder_hid_is_left_out_and_counted(world: World) -> None:
    run_id = world.runs["coordination-2"]
    flows = load_flows(ROOT / "sessions", REGISTRY)
    runner = Runner(world.engine, flows, REGISTRY, _Silent(), 5)
    before = world.posters.collect("coordination", run_id=run_id).data
    target = next(s for s in before.sections if s.id == "stop").items[0].text
    with world.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT id, payload FROM answer WHERE run_id = ? AND step_id = 'stop-doing'", (run_id,)
        ).all()
    ids = [aid for aid, payload in rows if json.loads(payload)["text"] == target]
    assert ids
    for answer_id in ids:
        runner.hide_answer(run_id, answer_id)
    try:
        after = world.posters.collect("coordination", run_id=run_id).data
        assert target not in [i.text for s in after.sections for i in s.items]
        assert after.footer != before.footer and f" · {len(ids)} " in after.footer
    finally:
        for answer_id in ids:
            runner.show_answer(run_id, answer_id)


def test_the_posters_show_what_starts_now_and_what_needs_a_decision_elsewhere(world: World) -> None:
    data = world.posters.build(world.runs["reflection"], "core-task").data
    elsewhere = [c for c in data.commitments if c.where]
    assert elsewhere and any(not c.where for c in data.commitments)
    text = squeezed(text_of(world.pdf("core-task")))
    assert squeezed(data.elsewhere_heading) in text
    assert all(squeezed(c.where) in text for c in elsewhere)


def test_the_posters_page_lists_what_went_to_the_appendix_and_swaps_an_item_in(world: World) -> None:
    run_id = world.runs["coordination-2"]
    scope = Scope.of(world.posters.build(run_id, "coordination").collected.scope_run)
    write(world.engine, scope, "coordination", lambda _c: Curation())
    block = world.posters.block(run_id, "coordination")
    assert block.appendix, "a team of 40 has more cards than page 1 holds"
    data = world.posters.build(run_id, "coordination").data
    item = next(i for s in data.sections for i in s.items if i.id in block.appendix)
    client = world.server.login()
    html = client.get(f"/runs/{run_id}/posters").text
    assert "after page 1" in html and 'value="first"' in html
    moved = client.post(f"/runs/{run_id}/posters/coordination", data={"action": "first", "item": item.id})
    assert moved.status_code in (200, 303)
    assert item.id not in world.posters.block(run_id, "coordination").appendix
    page1 = " ".join(
        w
        for _s, w in sizes(
            world.posters.file(run_id, "coordination", paper="a3", orientation="portrait", fmt="pdf", ppi=72)
        ).words
    )
    assert squeezed(item.text[:60]) in squeezed(page1)
    write(world.engine, scope, "coordination", lambda _c: Curation())


def test_the_demo_deals_each_card_to_a_person_of_the_unit_it_fits(world: World) -> None:
    flow = load_flows(ROOT / "sessions", REGISTRY)["core-task-2"]
    step = next(s for s in flow.steps if s.id == "unit-contribution")
    tagged = {m[2]: int(m[1]) for s in step.demo["nb"] if (m := re.match(r"^\[(\d+)\] (.*)$", s))}
    with world.engine.connect() as conn:
        units = json.loads(
            conn.exec_driver_sql("SELECT units FROM team WHERE name = ?", (TEAM,)).scalar_one()
        )
        rows = conn.exec_driver_sql(
            "SELECT answer.payload, participant.unit FROM answer JOIN participant"
            " ON participant.id = answer.participant_id WHERE answer.run_id = ? AND answer.step_id = ?",
            (world.runs["core-task-2"], "unit-contribution"),
        ).all()
    texts = [(json.loads(p)["text"], unit) for p, unit in rows]
    assert texts and not any(t.startswith("[") for t, _u in texts), "the tag never reaches a card"
    fitted = [(units.index(u) + 1, tagged[t]) for t, u in texts if t in tagged]
    assert fitted and all(own == wanted for own, wanted in fitted)


def test_the_cli_offers_every_poster_kind() -> None:
    """app/cli_posters.py spells the kinds out (it must not load Typst); they stay the model's."""
    from typing import get_args

    from app.cli_posters import POSTER_KINDS
    from app.posters.model import PosterKind

    assert get_args(PosterKind) == POSTER_KINDS
