"""Posters from real sessions: `tovholder demo` sessions of one team (core task, coordination,
reflection) collected into posters, curated, rendered by Typst and read back with pdftotext;
hostile and very many answers; the posters page and its downloads over HTTP from the app in
process; `tovholder poster`."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from babel.dates import format_date
from sqlalchemy.engine import Engine

from app.db import make_engine
from app.flows import Flow, validate_flow
from app.posters import PosterData, PosterItem, render
from app.posters.build import Posters
from app.posters.curation import Curation, Scope, apply, change, commitment_ids, draft, read, write
from app.runner import Runner
from app.views import Reader
from exercises import build_registry
from tests.databases import add_account
from tests.harness import login
from tests.inprocess import InProcess

REGISTRY = build_registry()
TEAM = "North Ridge home care"
A3 = (842, 1191)


@pytest.fixture(scope="module", autouse=True)
def poppler() -> None:
    missing = [tool for tool in ("pdftotext", "pdfinfo") if shutil.which(tool) is None]
    if missing:
        message = f"{', '.join(missing)} missing: run `make posters-deps` (Debian's poppler-utils)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


# --- reading PDFs back ------------------------------------------------------------------------


def _file(pdf: bytes, tmp: Path) -> Path:
    path = tmp / f"{uuid.uuid4().hex}.pdf"
    path.write_bytes(pdf)
    return path


def pdf_text(pdf: bytes, tmp: Path) -> str:
    """The PDF's text with every run of whitespace as one space."""
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(_file(pdf, tmp)), "-"], capture_output=True, check=True
    )
    return " ".join(out.stdout.decode().split())


def found(wanted: str, text: str) -> bool:
    """Word for word, or letter for letter where a line broke after a hyphen (pdftotext drops it)."""
    if " ".join(wanted.split()) in text:
        return True
    squeeze = re.compile(r"[\s-]+")
    return squeeze.sub("", wanted) in squeeze.sub("", text)


def page_size(pdf: bytes, tmp: Path) -> tuple[int, int]:
    out = subprocess.run(["pdfinfo", str(_file(pdf, tmp))], capture_output=True, text=True, check=True).stdout
    m = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", out)
    assert m, out
    return round(float(m[1])), round(float(m[2]))


# --- the world: one team's demo sessions on the app in process ---------------------------------------


class _Silent:
    def notify(self, run_id: int, what: str, run: object = None) -> None:
        pass


@dataclass
class World:
    server: InProcess
    engine: Engine
    runner: Runner
    core1: int  # core-task-1: the statement
    core: int  # core-task-2: contributions, pulse, first steps
    coordination1: int  # coordination-1: the map and the hand-offs
    coordination: int  # coordination-2: agreements and commitments
    reflection: int

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.server.data_dir / "tovholder.db")) as conn:
            return conn.execute(sql, params).fetchall()

    def payloads(self, run_id: int, step_id: str) -> list[dict[str, Any]]:
        sql = "SELECT payload FROM answer WHERE run_id = ? AND step_id = ? ORDER BY id"
        rows = self.query(sql, run_id, step_id)
        return [json.loads(p) for (p,) in rows]

    def poster(self, run_id: int, kind: str, locale: str | None = None) -> PosterData:
        return self.posters.build(run_id, kind, locale=locale).data  # type: ignore[arg-type]

    @property
    def posters(self) -> Posters:
        return Posters(self.engine, Reader(REGISTRY, 5))


def _demo(server: InProcess, flow: str, seed: int) -> int:
    made = server.cli(
        "demo", "--flow", flow, "--team", TEAM, "--owner", "t@example.org", "--seed", str(seed),
        "--participants", "30",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return int(made.stdout)


@pytest.fixture(scope="module")
def world(shared_inproc: InProcess) -> Iterator[World]:
    server = shared_inproc
    core1 = _demo(server, "core-task-1", 10)
    core = _demo(server, "core-task-2", 11)
    coordination1 = _demo(server, "coordination-1", 14)
    coordination = _demo(server, "coordination-2", 12)
    reflection = _demo(server, "reflection", 13)
    engine = make_engine(f"sqlite:///{server.data_dir / 'tovholder.db'}")
    runner = Runner(engine, {}, REGISTRY, _Silent(), 5)
    try:
        yield World(server, engine, runner, core1, core, coordination1, coordination, reflection)
    finally:
        engine.dispose()


def fresh(world: World, run_id: int, kind: str) -> Scope:
    """Forget every choice made on this poster so far: each test starts from the answers."""
    run = world.runner.get_run(run_id)
    scope = Scope.of(run)
    write(world.engine, scope, kind, lambda _c: Curation())  # type: ignore[arg-type]
    return scope


def curate(world: World, run_id: int, kind: str, action: str, item: str = "", text: str = "") -> Curation:
    original = world.posters.collect(kind, run_id=run_id).data  # type: ignore[arg-type]
    scope = Scope.of(world.runner.get_run(run_id))
    return write(world.engine, scope, kind, lambda c: change(c, original, action, item, text))  # type: ignore[arg-type]


def once(data: PosterData, section_id: str) -> PosterItem:
    """An item of the section whose text is nowhere else on the poster."""
    items = next(s for s in data.sections if s.id == section_id).items
    return next(i for i in items if sum(i.text in j.text for s in data.sections for j in s.items) == 1)


def section(data: PosterData, section_id: str) -> list[str]:
    for s in data.sections:
        if s.id == section_id:
            return [i.text for i in s.items]
    raise AssertionError(f"no section {section_id!r} in {[s.id for s in data.sections]}")


# --- what the sessions give ---------------------------------------------------------------------


def test_demo_sessions_share_the_team_by_name(world: World) -> None:
    rows = world.query(
        "SELECT run.team_id, team.name FROM run JOIN team ON team.id = run.team_id"
        " WHERE run.id IN (?, ?, ?, ?, ?)",
        world.core1,
        world.core,
        world.coordination1,
        world.coordination,
        world.reflection,
    )
    assert len(rows) == 5 and len(set(rows)) == 1 and rows[0][1] == TEAM
    assert world.posters.kinds(world.reflection) == ["core-task", "coordination", "lessons"]


def _expected_commitments(world: World, run_id: int, step_id: str) -> list[tuple[str, str, str]]:
    """Every commitment as people sent it, with the date as the poster prints it in English."""
    out = []
    for p in world.payloads(run_id, step_id):
        when = p["when"]
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", when):
            when = format_date(date.fromisoformat(when), format="medium", locale="en")
        out.append((p["what"], p["who"], when))
    return out


@pytest.mark.parametrize(
    ("kind", "step"),
    [("core-task", "first-steps"), ("coordination", "commitments")],
)
def test_both_posters_print_the_statement_and_every_commitment_on_a3(
    world: World, kind: str, step: str, tmp_path: Path
) -> None:
    run_id = world.core if kind == "core-task" else world.coordination
    fresh(world, run_id, kind)
    data = world.poster(world.reflection, kind)  # any session of the team gives the team's poster
    pdf = render(data)
    assert pdf.startswith(b"%PDF")
    assert page_size(pdf, tmp_path) == A3
    text = pdf_text(pdf, tmp_path)
    assert found(data.title, text) and found(TEAM, text)
    if kind == "core-task":
        (statement,) = world.query(
            "SELECT data FROM step_state WHERE run_id = ? AND step_id = 'core-task-statement'", world.core1
        )[0]
        final = json.loads(statement)["text"]
        assert final and data.statement == final
        assert found(final, text)
    else:
        assert data.heatmap is not None and len(data.heatmap.units) == 3
        assert data.follow_up and found(data.follow_up, text)
    wanted = _expected_commitments(world, run_id, step)
    assert wanted
    for what, who, when in wanted:
        assert found(what, text), what
        assert found(who, text), who
        assert found(when, text), when


def test_the_lessons_card_prints_each_answer_once(world: World, tmp_path: Path) -> None:
    fresh(world, world.reflection, "lessons")
    data = world.poster(world.reflection, "lessons")
    assert [s.id for s in data.sections] == ["do-best", "learn", "keep-develop"]
    pdf = render(data)
    assert page_size(pdf, tmp_path) == A3
    text = pdf_text(pdf, tmp_path)
    for step in ("do-best", "learn"):
        written = {p["text"] for p in world.payloads(world.reflection, step)}
        assert written
        assert sorted(section(data, step)) == sorted(written)  # the same text twice prints once
        for card in written:
            assert found(card, text), card
    dots = [i.note for s in data.sections if s.id == "keep-develop" for i in s.items]
    assert dots and all(n and n.endswith(("dot", "dots")) for n in dots)


def test_the_poster_names_no_one(world: World) -> None:
    """No participant's name is on a poster, unless the name is a word people wrote anyway."""
    names = {n for (n,) in world.query("SELECT display_name FROM participant WHERE display_name IS NOT NULL")}
    assert names
    written = {w for (p,) in world.query("SELECT payload FROM answer") for w in re.findall(r"\w+", p)}
    written |= {w for (d,) in world.query("SELECT data FROM step_state") for w in re.findall(r"\w+", d)}
    for kind, run_id in (("core-task", world.core), ("coordination", world.coordination)):
        fresh(world, run_id, kind)
        dump = world.poster(run_id, kind).model_dump_json()
        leaked = (names & set(re.findall(r"\w+", dump))) - written
        assert not leaked, leaked


def test_the_poster_language_follows_the_choice(world: World, tmp_path: Path) -> None:
    fresh(world, world.core, "core-task")
    curate(world, world.core, "core-task", "language", text="nb")
    data = world.poster(world.core, "core-task")
    assert data.language == "nb"
    text = pdf_text(render(data), tmp_path)
    assert found("Vi er enige om hva kjerneoppgaven vår er.", text)  # the pulse item, in Norwegian
    assert world.poster(world.core, "core-task", locale="en").language == "en"
    fresh(world, world.core, "core-task")


# --- curation ---------------------------------------------------------------------------------


def _answer_id(item_id: str) -> int:
    m = re.fullmatch(r"r\d+\.[a-z0-9-]+\.a(\d+)", item_id)
    assert m, item_id
    return int(m[1])


def test_hiding_an_item_leaves_it_off_the_pdf(world: World, tmp_path: Path) -> None:
    fresh(world, world.reflection, "lessons")
    data = world.poster(world.reflection, "lessons")
    item = once(data, "learn")
    assert found(item.text, pdf_text(render(data), tmp_path))
    curate(world, world.reflection, "lessons", "hide", item.id)
    hidden = world.poster(world.reflection, "lessons")
    assert not found(item.text, pdf_text(render(hidden), tmp_path))
    curate(world, world.reflection, "lessons", "show", item.id)
    assert item.text in section(world.poster(world.reflection, "lessons"), "learn")


def test_an_edit_prints_the_new_text_and_keeps_the_answer(world: World, tmp_path: Path) -> None:
    scope = fresh(world, world.reflection, "lessons")
    data = world.poster(world.reflection, "lessons")
    item = next(s for s in data.sections if s.id == "do-best").items[0]
    aid = _answer_id(item.id)
    before = world.query("SELECT payload FROM answer WHERE id = ?", aid)
    edited = "Edited on the poster: ærlig og åpen"
    curate(world, world.reflection, "lessons", "edit", item.id, f"  {edited}\n")
    after = world.poster(world.reflection, "lessons")
    assert section(after, "do-best")[0] == edited
    text = pdf_text(render(after), tmp_path)
    assert found(edited, text)
    assert world.query("SELECT payload FROM answer WHERE id = ?", aid) == before  # the answer as given
    original = world.posters.collect("lessons", run_id=world.reflection).data
    rows = draft(original, read(world.engine, scope, "lessons"))
    row = next(r for s in rows for r in s.items if r.id == item.id)
    assert row.edited and row.text == edited and row.original == item.text
    curate(world, world.reflection, "lessons", "revert", item.id)
    assert section(world.poster(world.reflection, "lessons"), "do-best")[0] == item.text


def test_merge_keeps_the_upper_text_and_lists_the_merged_one(world: World, tmp_path: Path) -> None:
    scope = fresh(world, world.reflection, "lessons")
    data = world.poster(world.reflection, "lessons")
    first, second = next(s for s in data.sections if s.id == "learn").items[:2]
    curate(world, world.reflection, "lessons", "merge", second.id)
    merged = world.poster(world.reflection, "lessons")
    assert section(merged, "learn")[0] == first.text
    assert second.text not in section(merged, "learn")
    text = pdf_text(render(merged), tmp_path)
    assert found(first.text, text) and not found(second.text, text)
    original = world.posters.collect("lessons", run_id=world.reflection).data
    rows = draft(original, read(world.engine, scope, "lessons"))
    row = next(r for s in rows for r in s.items if r.id == first.id)
    assert row.merged == [(second.id, second.text)]
    with pytest.raises(Exception, match="no item above"):
        curate(world, world.reflection, "lessons", "merge", first.id)
    curate(world, world.reflection, "lessons", "unmerge", second.id)
    assert section(world.poster(world.reflection, "lessons"), "learn")[:2] == [first.text, second.text]


def test_moving_items_changes_their_order_on_the_poster(world: World, tmp_path: Path) -> None:
    fresh(world, world.reflection, "lessons")
    texts = section(world.poster(world.reflection, "lessons"), "do-best")
    data = world.poster(world.reflection, "lessons")
    ids = [i.id for s in data.sections if s.id == "do-best" for i in s.items]
    curate(world, world.reflection, "lessons", "down", ids[0])
    curate(world, world.reflection, "lessons", "up", ids[-1])
    moved = section(world.poster(world.reflection, "lessons"), "do-best")
    assert moved == [texts[1], texts[0], *texts[2:-2], texts[-1], texts[-2]]
    text = pdf_text(render(world.poster(world.reflection, "lessons")), tmp_path)
    assert text.index(" ".join(texts[1].split())) < text.index(" ".join(texts[0].split()))
    fresh(world, world.reflection, "lessons")


def test_commitments_can_be_hidden_and_moved(world: World, tmp_path: Path) -> None:
    fresh(world, world.coordination, "coordination")
    data = world.poster(world.coordination, "coordination")
    ids = commitment_ids(data.commitments)
    curate(world, world.coordination, "coordination", "hide", ids[0])
    curate(world, world.coordination, "coordination", "up", ids[-1])
    after = world.poster(world.coordination, "coordination")
    whats = [c.what for c in after.commitments]
    assert data.commitments[0].what not in whats
    assert whats[-2:] == [data.commitments[-1].what, data.commitments[-2].what]
    # The ids follow what and who, not the language the dates print in.
    in_norwegian = world.posters.collect("coordination", run_id=world.coordination, locale="nb").data
    assert commitment_ids(in_norwegian.commitments) == ids
    fresh(world, world.coordination, "coordination")


def test_apply_without_curation_changes_nothing(world: World) -> None:
    data = world.posters.collect("lessons", run_id=world.reflection).data
    assert apply(data, Curation()) == data
    assert apply(data, None) == data


# --- answers that look like markup, and very many of them -----------------------------------------


def _flow(cards: int) -> Flow:
    def text(en: str) -> dict[str, str]:
        return {"en": en}

    return validate_flow(
        {
            "name": "poster-test",
            "title": text("Poster test"),
            "purpose": text("Cards for a lessons card."),
            "duration_minutes": 2,
            "source": "tests",
            "licence": "CC0",
            "locales": ["en"],
            "steps": [
                {
                    "id": "cards",
                    "exercise": "open_text",
                    "poster": "lessons:do-best",
                    "minutes": 2,
                    "title": text("Cards"),
                    "notes": text("Notes."),
                    "settings": {"max_cards": cards, "max_length": 200},
                }
            ],
        },
        REGISTRY,
    )


def _session(world: World, cards_each: int, texts: list[str]) -> int:
    """A session without a team whose one tagged step got these cards."""
    runner = world.runner
    run = runner.create_run("poster-test", "en", None, flow=_flow(cards_each))
    assert run.id is not None
    people = [runner.join(run.code).token for _ in range(-(-len(texts) // cards_each))]
    runner.move(run.id, +1)
    for i, card in enumerate(texts):
        runner.submit_answer(people[i // cards_each], "cards", {"text": card}, uuid.uuid4().hex)
    runner.close(run.id)
    return run.id


HOSTILE = ['#read("/etc/passwd")', "$x$", "*b*", "_i_ <label> @ref \\ [#emph[x]]", '#import "x.typ": *']


def test_markup_in_an_answer_prints_literally(world: World, tmp_path: Path) -> None:
    run_id = _session(world, 5, HOSTILE)
    assert world.posters.kinds(run_id) == ["lessons"]
    data = world.poster(run_id, "lessons")
    assert sorted(section(data, "do-best")) == sorted(HOSTILE)
    text = pdf_text(render(data), tmp_path)
    for card in HOSTILE:
        assert found(card, text), card
    assert "root:" not in text


def test_two_hundred_cards_all_print(world: World, tmp_path: Path) -> None:
    cards = [f"Card {i:03d}: we learned lesson number {i} about ærlighet" for i in range(200)]
    run_id = _session(world, 10, cards)
    data = world.poster(run_id, "lessons")
    assert len(section(data, "do-best")) == 200
    pdf = render(data)
    assert page_size(pdf, tmp_path) == A3
    text = pdf_text(pdf, tmp_path)
    missing = [c for c in cards if not found(c, text)]
    assert not missing, missing[:5]


# --- the posters page and its downloads ----------------------------------------------------------


@pytest.fixture(scope="module")
def other(world: World) -> httpx.Client:
    add_account(world.server.database_url, "o@example.org", "Other")
    return login(world.server, "o@example.org")


def _urls(run_id: int) -> list[str]:
    return [
        f"/runs/{run_id}/posters",
        f"/runs/{run_id}/posters/core-task.pdf?paper=a3&orientation=portrait",
        f"/runs/{run_id}/posters/coordination.png?ppi=30",
    ]


def test_the_posters_need_a_login(world: World) -> None:
    with world.server.client() as anonymous:
        for url in _urls(world.core):
            response = anonymous.get(url)
            assert response.status_code == 303, url
            assert response.headers["location"].startswith("/login")


def test_another_tovholder_gets_not_found(world: World, other: httpx.Client) -> None:
    for url in _urls(world.core):
        assert other.get(url).status_code == 404, url
    item = world.poster(world.core, "core-task").sections[0].items[0].id
    refused = other.post(f"/runs/{world.core}/posters/core-task", data={"action": "hide", "item": item})
    assert refused.status_code == 404
    assert world.poster(world.core, "core-task").sections[0].items[0].id == item  # not hidden


def test_the_owner_sees_every_poster_and_downloads_them(world: World, tmp_path: Path) -> None:
    fresh(world, world.core, "core-task")
    tov = world.server.login()
    try:
        posters_page = tov.get(f"/runs/{world.coordination}/posters")
        assert posters_page.status_code == 200
        for kind in ("core-task", "coordination", "lessons"):
            assert f'id="poster-{kind}"' in posters_page.text
            assert f"/runs/{world.coordination}/posters/{kind}.png?" in posters_page.text
        assert "A3 PDF, landscape" in posters_page.text
        pdf = tov.get(f"/runs/{world.core}/posters/core-task.pdf?paper=a3&orientation=portrait")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert "attachment" in pdf.headers["content-disposition"]
        assert page_size(pdf.content, tmp_path) == A3
        a4 = tov.get(f"/runs/{world.core}/posters/core-task.pdf?paper=a4&orientation=landscape")
        assert page_size(a4.content, tmp_path) == (842, 595)
        png = tov.get(f"/runs/{world.core}/posters/lessons.png?ppi=30")
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
        assert tov.get(f"/runs/{world.core}/posters/core-task.pdf?paper=a5").status_code == 400
        assert tov.get(f"/runs/{world.core}/posters/core-task.svg").status_code == 404
        for url in (f"/runs/{world.core}/results", f"/runs/{world.core}/console"):
            assert f'href="/runs/{world.core}/posters"' in tov.get(url).text
    finally:
        tov.close()


def test_the_page_hides_an_item_with_htmx_and_the_pdf_follows(world: World, tmp_path: Path) -> None:
    fresh(world, world.core, "core-task")
    data = world.poster(world.core, "core-task")
    item = once(data, "contributions")
    tov = world.server.login()
    try:
        text = pdf_text(tov.get(f"/runs/{world.core}/posters/core-task.pdf").content, tmp_path)
        assert found(item.text, text)
        url = f"/runs/{world.core}/posters/core-task"
        without_token = world.server.client().post(url, data={"action": "hide", "item": item.id})
        assert without_token.status_code in (303, 401, 403)
        hidden = tov.post(url, data={"action": "hide", "item": item.id}, headers={"HX-Request": "true"})
        assert hidden.status_code == 200
        assert 'id="poster-core-task"' in hidden.text and "poster-item--hidden" in hidden.text
        text = pdf_text(tov.get(f"/runs/{world.core}/posters/core-task.pdf").content, tmp_path)
        assert not found(item.text, text)
        unknown = tov.post(url, data={"action": "hide", "item": "r0.x.a1"}, headers={"HX-Request": "true"})
        assert unknown.status_code == 422
        plain = tov.post(url, data={"action": "show", "item": item.id})
        assert plain.status_code == 303 and plain.headers["location"].endswith("#poster-core-task")
    finally:
        tov.close()
    fresh(world, world.core, "core-task")


# --- tovholder poster ---------------------------------------------------------------------------


def test_the_poster_command_writes_pdf_and_png_with_the_curation(world: World, tmp_path: Path) -> None:
    fresh(world, world.reflection, "lessons")
    data = world.poster(world.reflection, "lessons")
    item = next(s for s in data.sections if s.id == "learn").items[0]
    curate(world, world.reflection, "lessons", "hide", item.id)
    code = world.runner.get_run(world.reflection).code
    pdf_path, png_path = tmp_path / "lessons.pdf", tmp_path / "lessons.png"
    made = world.server.cli("poster", code, "--kind", "lessons", "--format", "pdf", "--out", str(pdf_path))
    assert made.returncode == 0, made.stderr
    text = pdf_text(pdf_path.read_bytes(), tmp_path)
    assert found(section(data, "do-best")[0], text) and not found(item.text, text)
    made = world.server.cli(
        "poster", str(world.reflection), "--kind", "lessons", "--format", "png", "--paper", "a4",
        "--orientation", "landscape", "--locale", "nb", "--out", str(png_path),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert png_path.read_bytes().startswith(b"\x89PNG")
    unknown = world.server.cli("poster", "99999", "--kind", "lessons", "--out", str(pdf_path))
    assert unknown.returncode == 1 and "no session" in unknown.stderr
    fresh(world, world.reflection, "lessons")
