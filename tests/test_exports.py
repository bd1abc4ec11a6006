"""The exports: what the team takes home. CSV, JSON and Markdown of a finished session (a
`tovholder demo` one and one a test writes with hostile and Nordic answers), read in process and
over HTTP from the app in process; read-only results links; `tovholder export`."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app import i18n
from app.db import make_engine, session_scope
from app.exports import Exports, SessionData
from app.exports.document import SCHEMA_PATH, SessionExport, build_export, export_json, schema_text
from app.exports.session import OTHER_UNIT, unit_labels
from app.exports.spreadsheet import CSV_COLUMNS, csv_cell, export_csv
from app.exports.summary import export_markdown
from app.flows import Flow, validate_flow
from app.models import Answer, Facilitator, Participant
from app.runner import Runner
from app.teams import Teams
from app.views import Reader
from exercises import build_registry
from exercises.markdown import md_lines
from tests.databases import add_account
from tests.harness import ROOT, login
from tests.inprocess import InProcess

REGISTRY = build_registry()
UNITS = ["Dagteamet", "Kveldsteamet", "Nattevakta"]
# 6 in the day team, 5 in the evening team, 2 on nights: nights alone are too few for "other",
# so the evening team (the smallest named unit) joins them there.
PEOPLE = [UNITS[0]] * 6 + [UNITS[1]] * 5 + [UNITS[2]] * 2
NORDIC = "Blåbærsyltetøy på Ærø"
FORMULAS = ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)"]
MARKDOWN = ["# heading", "[link](x)", "<script>alert(1)</script>"]
DDE = "=cmd|' /C calc'!A0"


def _text(en: str, nb: str) -> dict[str, str]:
    return {"en": en, "nb": nb}


def _step(sid: str, exercise: str, settings: dict[str, Any], title: str) -> dict[str, Any]:
    return {
        "id": sid,
        "exercise": exercise,
        "minutes": 1,
        "title": _text(title, f"{title} på norsk"),
        "prompt": _text(f"Prompt of {title}", f"Spørsmål om {title}: æøå"),
        "notes": _text("Notes.", "Notater."),
        "settings": settings,
    }


def _options(*ids: str) -> list[dict[str, Any]]:
    return [{"id": i, "text": _text(f"Option {i}", f"Valg {i}")} for i in ids]


TINY: Flow = validate_flow(
    {
        "name": "tiny-export",
        "title": _text("Tiny export", "Liten eksport"),
        "purpose": _text("Test the exports.", "Test eksportene."),
        "duration_minutes": 11,
        "source": "tests",
        "licence": "CC0",
        "default_locale": "en",
        "locales": ["en", "nb"],
        "uses_units": True,
        "steps": [
            _step("hello", "talk", {}, "Hello"),
            _step("cards", "open_text", {"max_cards": 3, "max_length": 200}, "Cards"),
            _step("words", "word_cloud", {"max_words": 3, "max_length": 30}, "Words"),
            _step("pulse", "scale", {"low": _text("Low", "Lav"), "high": _text("High", "Høy")}, "Pulse"),
            _step(
                "survey",
                "survey",
                {
                    "items": [
                        {"id": "trust", "text": _text("We trust each other", "Vi stoler på hverandre")},
                        {"id": "goal", "text": _text("We share a goal", "Vi har et felles mål")},
                    ],
                    "low": _text("Not at all", "Ikke i det hele tatt"),
                    "high": _text("Fully", "Helt"),
                    "by_unit": True,
                },
                "Survey",
            ),
            _step("vote", "dot_vote", {"options": _options("a", "b", "c"), "budget": 3}, "Vote"),
            _step("rank", "ranking", {"options": _options("a", "b", "c")}, "Rank"),
            _step(
                "relations",
                "matrix",
                {
                    "items": [{"id": "hand-offs", "text": _text("Hand-offs", "Overlevering")}],
                    "low": _text("Poor", "Dårlig"),
                    "high": _text("Good", "God"),
                },
                "Relations",
            ),
            _step("statement", "statement", {"draft": _text("We help.", "Vi hjelper.")}, "Statement"),
            _step("commit", "commitments", {"max_items": 2}, "Commit"),
            _step("bye", "talk", {}, "Bye"),
        ],
    },
    REGISTRY,
    file="<tiny>",
)


class _Silent:
    def notify(self, run_id: int, what: str, run: object = None) -> None:
        pass


def _key() -> str:
    return secrets.token_hex(8)


@dataclass
class World:
    server: InProcess
    engine: Engine
    runner: Runner
    demo_id: int
    crafted_id: int
    tokens: list[str]  # the crafted run's phones, in join order
    names: list[str]

    def db_file(self) -> Path:
        return self.server.data_dir / "tovholder.db"

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.db_file())) as conn:
            return conn.execute(sql, params).fetchall()

    def secrets_of(self, run_id: int) -> list[str]:
        """What must never leave the database: tokens, names, public ids."""
        rows = self.query("SELECT token, display_name, public_id FROM participant WHERE run_id = ?", run_id)
        return [v for row in rows for v in row if v]


def _craft(runner: Runner, engine: Engine) -> tuple[int, list[str], list[str]]:
    """A finished run of TINY in Norwegian with a team of three units: hostile and Nordic answers."""
    with session_scope(engine) as db:
        owner = db.exec(select(Facilitator).order_by(col(Facilitator.id))).first()
        assert owner is not None and owner.id is not None
        owner_id = owner.id
    team = Teams(engine).create(owner_id, "Hjemmetjenesten Øst", "\n".join(UNITS))
    run = runner.create_run("tiny-export", "nb", owner_id, team_id=team.id, flow=TINY)
    assert run.id is not None
    names = [f"Zqxname{i}Ø" for i in range(len(PEOPLE))]
    tokens = [runner.join(run.code, name, unit).token for name, unit in zip(names, PEOPLE, strict=True)]

    def send(i: int, step: str, **form: Any) -> None:
        runner.submit_answer(tokens[i], step, form, _key())

    runner.move(run.id, +2)  # past the talk, into "cards"
    for text in FORMULAS[:3]:
        send(0, "cards", text=text)
    send(1, "cards", text=FORMULAS[3])
    for text in MARKDOWN[:2]:
        send(1, "cards", text=text)
    send(2, "cards", text=MARKDOWN[2])
    send(2, "cards", text=f"{NORDIC}\nline two")
    runner.move(run.id, +1)
    send(0, "words", word="Ærlighet")
    send(3, "words", word=DDE)
    send(4, "words", word="ærlighet")
    runner.move(run.id, +1)
    for i in range(len(PEOPLE)):
        send(i, "pulse", value=str(1 + i % 5))
    runner.move(run.id, +1)
    for i in range(len(PEOPLE)):
        send(i, "survey", **{"item:trust": str(1 + i % 5), "item:goal": "4"})
    runner.move(run.id, +1)
    send(0, "vote", **{"dots:a": "2", "dots:c": "1"})
    send(1, "vote", **{"dots:b": "1"})
    runner.move(run.id, +1)
    send(0, "rank", **{"place:b": "1", "place:c": "2", "place:a": "3"})
    runner.move(run.id, +1)
    for i, unit in enumerate(PEOPLE):
        form = {f"rate:{u}:hand-offs": str(1 + (i + u) % 5) for u, other in enumerate(UNITS) if other != unit}
        send(i, "relations", **form)
    runner.move(run.id, +1)
    runner.act(run.id, "statement", "edit", {"text": "Vi hjelper."})  # the tovholder shows the draft
    send(0, "statement", reaction="agree", revision="1", comment="")
    send(1, "statement", reaction="adjust", revision="1", comment="Say who we help [here](x)")
    runner.move(run.id, +1)
    send(0, "commit", what="Fix the key box", who="Kari", when="neste personalmøte")
    runner.move(run.id, +1)
    runner.close(run.id)
    return run.id, tokens, names


@pytest.fixture(scope="module")
def world(shared_inproc: InProcess) -> Iterator[World]:
    server = shared_inproc
    demo = server.cli("demo", "--flow", "reflection", "--participants", "30", "--seed", "1")
    assert demo.returncode == 0, demo.stderr
    engine = make_engine(f"sqlite:///{server.data_dir / 'tovholder.db'}")
    runner = Runner(engine, {}, REGISTRY, _Silent(), 5)
    crafted, tokens, names = _craft(runner, engine)
    try:
        yield World(server, engine, runner, int(demo.stdout), crafted, tokens, names)
    finally:
        engine.dispose()


def load_session(world: World, run_id: int) -> SessionData:
    return Exports(world.engine, Reader(REGISTRY, 5)).load(run_id)


def parse_csv(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:], newline="")))


def answers_in_db(world: World, run_id: int) -> int:
    return int(world.query("SELECT count(*) FROM answer WHERE run_id = ?", run_id)[0][0])


# --- anonymous units ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        ({"A": 6, "B": 5}, {"A": "A", "B": "B"}),
        ({"A": 6, "B": 3, "C": 2}, {"A": "A", "B": OTHER_UNIT, "C": OTHER_UNIT}),
        ({"A": 6, "B": 5, "C": 2}, {"A": "A", "B": OTHER_UNIT, "C": OTHER_UNIT}),
        ({"A": 9, "B": 7, "C": 1}, {"A": "A", "B": OTHER_UNIT, "C": OTHER_UNIT}),
        ({"A": 5, "B": 1}, {"A": OTHER_UNIT, "B": OTHER_UNIT}),
        ({"A": 2, "B": 2}, {"A": OTHER_UNIT, "B": OTHER_UNIT}),
    ],
    ids=["all-big", "small-pool", "pool-too-small", "smallest-named-joins", "all-join", "everyone-small"],
)
def test_a_unit_is_named_only_where_enough_people_share_it(
    sizes: dict[str, int], expected: dict[str, str]
) -> None:
    units: dict[int, str | None] = {}
    for unit, n in sizes.items():
        units.update({len(units) + k: unit for k in range(n)})
    units[len(units)] = None  # someone without a unit stays without one
    labels = unit_labels(units, True, 5)
    assert labels.pop(len(units) - 1) is None
    assert {units[pid]: label for pid, label in labels.items()} == expected
    pooled = sum(1 for label in labels.values() if label == OTHER_UNIT)
    assert pooled == 0 or pooled >= 5 or all(label == OTHER_UNIT for label in labels.values())


def test_without_team_units_nobody_has_a_unit() -> None:
    assert unit_labels({1: "A", 2: None}, False, 5) == {1: None, 2: None}


# --- CSV --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        ("", ""),
        (NORDIC, NORDIC),
    ],
)
def test_a_cell_that_could_start_a_formula_gets_a_quote(cell: str, expected: str) -> None:
    assert csv_cell(cell) == expected


def test_the_demo_csv_has_one_anonymous_row_per_answer(world: World) -> None:
    text = export_csv(load_session(world, world.demo_id))
    raw = text.encode("utf-8")
    assert raw.startswith(b"\xef\xbb\xbf")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    rows = parse_csv(text)
    assert rows and list(rows[0]) == [c for c in CSV_COLUMNS if c != "unit"]  # no team, no units
    assert len(rows) == answers_in_db(world, world.demo_id)
    code = world.query("SELECT code FROM run WHERE id = ?", world.demo_id)[0][0]
    assert {r["session_code"] for r in rows} == {code}
    assert all(re.fullmatch(r"P([1-9]\d*)", r["participant"]) for r in rows)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\dZ", r["answered_at"]) for r in rows)
    assert {int(r["participant"][1:]) for r in rows} <= set(range(1, 31))
    for row in rows:
        assert json.loads(row["answer_json"])  # the raw payload
        assert row["answer"]
    for secret in world.secrets_of(world.demo_id):
        assert not re.search(rf"\b{re.escape(secret)}\b", text), secret


def test_the_csv_numbers_people_by_join_order_and_keeps_their_text(world: World) -> None:
    text = export_csv(load_session(world, world.crafted_id))
    rows = parse_csv(text)
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert len(rows) == answers_in_db(world, world.crafted_id)
    cards = [(r["participant"], r["answer"]) for r in rows if r["step_id"] == "cards"]
    assert cards == [
        ("P1", '\'=HYPERLINK("x")'),
        ("P1", "'+1"),
        ("P1", "'-2"),
        ("P2", "'@SUM(A1)"),
        ("P2", "# heading"),
        ("P2", "[link](x)"),
        ("P3", "<script>alert(1)</script>"),
        ("P3", f"{NORDIC}\nline two"),
    ]
    assert "'" + DDE in [r["answer"] for r in rows if r["step_id"] == "words"]
    assert NORDIC.encode("utf-8") in text.encode("utf-8")
    first = rows[0]
    where = (first["step_number"], first["step_title"], first["exercise"])
    assert where == ("2", "Cards på norsk", "open_text")
    assert [r["answer_seq"] for r in rows if r["participant"] == "P1" and r["step_id"] == "cards"] == [
        "1",
        "2",
        "3",
    ]
    for secret in world.secrets_of(world.crafted_id):
        assert secret not in text
    assert "Zqxname" not in text


def test_the_csv_names_only_units_big_enough_and_withholds_what_shows_a_small_one(world: World) -> None:
    rows = parse_csv(export_csv(load_session(world, world.crafted_id)))
    pulse = {r["participant"]: r["unit"] for r in rows if r["step_id"] == "pulse"}
    shown = [UNITS[0] if unit == UNITS[0] else OTHER_UNIT for unit in PEOPLE]
    assert pulse == {f"P{i}": unit for i, unit in enumerate(shown, 1)}
    assert {r["unit"] for r in rows} == {UNITS[0], OTHER_UNIT}
    relations = [r for r in rows if r["step_id"] == "relations"]
    assert len(relations) == len(PEOPLE)
    for row in relations:
        if row["unit"] == UNITS[0]:
            assert json.loads(row["answer_json"])["ratings"].keys() == {UNITS[1], UNITS[2]}
            assert row["answer"].startswith(f"{UNITS[1]}: Overlevering ")
        else:
            assert row["answer_json"] == "{}"
            with i18n.use_locale("nb"):
                assert row["answer"] == i18n.gettext("(withheld: it would show a small unit)")


def test_the_csv_answer_column_reads_like_the_answer(world: World) -> None:
    rows = parse_csv(export_csv(load_session(world, world.crafted_id)))
    first = {r["step_id"]: r["answer"] for r in reversed(rows) if r["participant"] == "P1"}
    with i18n.use_locale("nb"):
        agree = i18n.gettext("Agree")
        adjust = i18n.gettext("Adjust")
    assert first["pulse"] == "1"
    assert first["survey"] == "Vi stoler på hverandre: 1; Vi har et felles mål: 4"
    with i18n.use_locale("nb"):  # the answer column is in the session's language
        two, one = i18n.gettext("%(num)d dots") % {"num": 2}, i18n.gettext("1 dot")
    assert first["vote"] == f"Valg a: {two}; Valg c: {one}"
    assert first["rank"] == "1. Valg b; 2. Valg c; 3. Valg a"
    assert first["statement"] == agree
    assert first["commit"] == "Fix the key box | Kari | neste personalmøte"
    second = {r["step_id"]: r["answer"] for r in rows if r["participant"] == "P2"}
    assert second["statement"] == f"{adjust} — Say who we help [here](x)"


# --- JSON -------------------------------------------------------------------------------------------


def test_the_json_round_trips_through_session_export(world: World) -> None:
    for run_id in (world.demo_id, world.crafted_id):
        data = load_session(world, run_id)
        model = build_export(data, exported_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC))
        text = model.model_dump_json(indent=2)
        again = SessionExport.model_validate_json(text)
        assert again == model
        assert again.model_dump_json(indent=2) == text
        plain = export_json(data)
        assert SessionExport.model_validate_json(plain).model_dump_json(indent=2) == plain


def test_the_json_holds_the_whole_session_and_nobody_in_it(world: World) -> None:
    data = load_session(world, world.crafted_id)
    text = export_json(data)
    export = SessionExport.model_validate_json(text)
    [(snapshot,)] = world.query("SELECT flow_snapshot FROM run WHERE id = ?", world.crafted_id)
    assert export.flow == json.loads(snapshot)
    assert export.schema_version == 1
    assert (export.run.locale, export.run.status, export.run.flow_name) == ("nb", "closed", "tiny-export")
    assert export.team is not None and export.team.units == UNITS
    assert [p.id for p in export.participants] == [f"P{i}" for i in range(1, len(PEOPLE) + 1)]
    assert [p.unit for p in export.participants] == [u if u == UNITS[0] else OTHER_UNIT for u in PEOPLE]
    assert [s.id for s in export.steps] == [s.id for s in TINY.steps]
    assert sum(len(s.answers) for s in export.steps) == answers_in_db(world, world.crafted_id)
    cards = next(s for s in export.steps if s.id == "cards")
    assert cards.result["cards"][0] == FORMULAS[0]
    assert [a.payload["text"] for a in cards.answers][-1] == f"{NORDIC}\nline two"
    assert all(a.answered_at.second == 0 for s in export.steps for a in s.answers)
    statement = next(s for s in export.steps if s.id == "statement")
    assert statement.result["text"] == "Vi hjelper."
    stored = world.query(
        "SELECT data FROM step_state WHERE run_id = ? AND step_id = 'statement'", world.crafted_id
    )
    exported_state = statement.state.data if statement.state else None
    assert exported_state == (json.loads(stored[0][0]) if stored else None)
    relations = next(s for s in export.steps if s.id == "relations")
    assert sum(a.withheld for a in relations.answers) == PEOPLE.count(UNITS[1]) + PEOPLE.count(UNITS[2])
    assert all(a.payload == {} for a in relations.answers if a.withheld)
    for secret in world.secrets_of(world.crafted_id):
        assert secret not in text
    assert NORDIC in text  # not \u-escaped


def test_the_demo_json_keeps_no_name_of_a_group_list(world: World) -> None:
    text = export_json(load_session(world, world.demo_id))
    for secret in world.secrets_of(world.demo_id):
        assert not re.search(rf"\b{re.escape(secret)}\b", text), secret
    export = SessionExport.model_validate_json(text)
    people = {p.id for p in export.participants}
    for step in export.steps:
        for group in step.result.get("groups", []) if step.exercise == "groups" else []:
            for member in group["members"]:
                assert member["name"] is None and member["public_id"] in people


def test_the_schema_file_is_up_to_date() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "docs/export-schema.json is stale: run `uv run python -m app.exports`"
    )


# --- Markdown ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# heading", ["\\# heading"]),
        ("[link](x)", ["\\[link\\](x)"]),
        ("![img](x)", ["\\!\\[img\\](x)"]),
        ("<script>alert(1)</script>", ["&lt;script&gt;alert(1)&lt;/script&gt;"]),
        ("- item\n+ item\n1. item\n2) item", ["\\- item", "\\+ item", "1\\. item", "2\\) item"]),
        ("*bold* _it_ `code` a|b ~s~", ["\\*bold\\* \\_it\\_ \\`code\\` a\\|b \\~s\\~"]),
        ("> quote\n\n\nnext", ["&gt; quote", "next"]),
        ("&lt; \\", ["&amp;lt; \\\\"]),
        (NORDIC, [NORDIC]),
    ],
)
def test_markdown_escaping(text: str, expected: list[str]) -> None:
    assert md_lines(text) == expected


def test_the_markdown_summary_escapes_what_people_wrote(world: World) -> None:
    text = export_markdown(load_session(world, world.crafted_id))
    lines = text.split("\n")
    assert lines[0] == "# Liten eksport"
    with i18n.use_locale("nb"):
        assert i18n.gettext("Participants: %(num)d") % {"num": len(PEOPLE)} in lines[2]
    assert "- \\# heading" in lines
    assert "- \\[link\\](x)" in lines
    assert "- &lt;script&gt;alert(1)&lt;/script&gt;" in lines
    assert f"- {NORDIC}\\" in lines and "  line two" in lines
    assert "<" not in text
    assert not [line for line in lines if line.startswith("#") and "heading" in line]
    assert "](x)" not in text.replace("\\](x)", "")
    assert "- '" not in text  # the CSV's quote is for spreadsheets only
    for secret in world.secrets_of(world.crafted_id):
        assert secret not in text
    headings = [line for line in lines if line.startswith("## ")]
    titles = ["Cards", "Words", "Pulse", "Survey", "Vote", "Rank", "Relations", "Statement", "Commit"]
    assert headings == [f"## {i}. {t} på norsk" for i, t in enumerate(titles, 2)]  # not the talks
    assert "> Spørsmål om Cards: æøå" in lines


def test_the_markdown_summary_reads_each_result(world: World) -> None:
    text = export_markdown(load_session(world, world.crafted_id))
    assert "- Ærlighet (2)" in text  # the word cloud, by count
    assert "| 1 | Valg a | 2 | 1 |" in text  # the vote, by place
    assert "| 1 | Valg b | 2 |" in text  # the ranking: first place gives n-1 points
    assert "| Vi stoler på hverandre | 13 | 3 |" in text  # the survey: median 3
    assert "| Fix the key box | Kari | neste personalmøte |" in text
    assert "> Vi hjelper\\." in text or "> Vi hjelper." in text
    assert "Say who we help \\[here\\](x)" in text
    # The matrix: a row for each unit where enough people answered (the exercise's own rule).
    assert f"| {UNITS[0]} (6) | — |" in text and f"| {UNITS[1]} (5) |" in text
    assert f"| {UNITS[2]} (" not in text


# --- HTTP -------------------------------------------------------------------------------------------


def _other_tovholder(server: InProcess) -> httpx.Client:
    with closing(sqlite3.connect(server.data_dir / "tovholder.db")) as conn:
        made = conn.execute("SELECT id FROM facilitator WHERE email = 'other@example.org'").fetchall()
    if not made:
        add_account(server.database_url, "other@example.org")
    return login(server, "other@example.org")


def test_exports_need_a_login(world: World) -> None:
    with world.server.client() as anonymous:
        for fmt in ("csv", "json", "md"):
            response = anonymous.get(f"/runs/{world.crafted_id}/export.{fmt}")
            assert response.status_code == 303
            assert response.headers["location"] == f"/login?next=/runs/{world.crafted_id}/export.{fmt}"


def test_exports_are_only_for_the_tovholder_who_owns_the_run(world: World) -> None:
    other = _other_tovholder(world.server)
    try:
        for fmt in ("csv", "json", "md"):
            assert other.get(f"/runs/{world.crafted_id}/export.{fmt}").status_code == 404
        assert other.get(f"/runs/{world.crafted_id}/results").status_code == 404
        assert other.post(f"/runs/{world.crafted_id}/results/links").status_code == 404
    finally:
        other.close()


def test_the_owner_downloads_each_export(world: World) -> None:
    tov = world.server.login()
    try:
        data = load_session(world, world.crafted_id)
        code = data.run.code
        expected = {"csv": export_csv(data), "md": export_markdown(data)}
        types = {"csv": "text/csv", "json": "application/json", "md": "text/markdown"}
        for fmt in ("csv", "json", "md"):
            response = tov.get(f"/runs/{world.crafted_id}/export.{fmt}")
            assert response.status_code == 200, response.text
            assert response.headers["content-type"].startswith(types[fmt])
            disposition = response.headers["content-disposition"]
            assert disposition == f'attachment; filename="tiny-export-{code}.{fmt}"'
            assert response.headers["cache-control"] == "no-store"
            if fmt == "json":
                got = SessionExport.model_validate_json(response.content)
                assert got.steps == build_export(data).steps
            else:
                assert response.content == expected[fmt].encode("utf-8")
        demo = tov.get(f"/runs/{world.demo_id}/export.csv")
        assert demo.status_code == 200
        disposition = demo.headers["content-disposition"]
        assert re.fullmatch(r'attachment; filename="reflection-[A-Z0-9]{6}\.csv"', disposition)
        assert tov.get(f"/runs/{world.crafted_id}/export.xlsx").status_code == 404
        assert tov.get("/runs/999999/export.csv").status_code == 404
        page = tov.get(f"/runs/{world.crafted_id}/results")
        for fmt in ("csv", "json", "md"):
            assert f'href="/runs/{world.crafted_id}/export.{fmt}"' in page.text
        assert f'action="/runs/{world.crafted_id}/results/links"' in page.text
    finally:
        tov.close()


def _make_link(client: httpx.Client, run_id: int) -> tuple[str, int]:
    response = client.post(f"/runs/{run_id}/results/links")
    assert response.status_code == 200, response.text
    found = re.search(r'value="(http://[^"]+/r/([A-Za-z0-9_-]{43}))"', response.text)
    assert found, "the new link's address is shown"
    ids = [int(i) for i in re.findall(rf"/runs/{run_id}/results/links/(\d+)/revoke", response.text)]
    return found.group(1), max(ids)


def test_a_results_link_shows_the_results_read_only_until_revoked(world: World) -> None:
    tov = world.server.login()
    other = _other_tovholder(world.server)
    try:
        url, link_id = _make_link(tov, world.crafted_id)
        assert url.startswith(f"{world.server.url}/r/")
        token = url.rsplit("/", 1)[1]
        stored = world.query("SELECT token_hash, revoked_at FROM results_link WHERE id = ?", link_id)
        assert stored == [(hashlib.sha256(token.encode()).hexdigest(), None)]
        assert not world.query("SELECT id FROM results_link WHERE token_hash = ?", token)
        assert token not in tov.get(f"/runs/{world.crafted_id}/results").text  # shown once only

        with world.server.client() as anonymous:
            shared = anonymous.get(url)
        assert shared.status_code == 200
        assert "Liten eksport" in shared.text and "&lt;script&gt;" in shared.text
        assert "Blåbærsyltetøy" in shared.text
        assert shared.headers["x-robots-tag"].startswith("noindex")
        for absent in ("/console", "export.csv", "results/links", "/logout", "<form", "/dashboard"):
            assert absent not in shared.text, absent
        seen_by_owner = tov.get(url)  # logged in or not, the link's page has no controls
        assert seen_by_owner.status_code == 200 and "/logout" not in seen_by_owner.text

        revoke = f"/runs/{world.crafted_id}/results/links/{link_id}/revoke"
        assert other.post(revoke).status_code == 404  # not the other tovholder's to revoke
        assert world.server.client().get(url).status_code == 200
        assert tov.post(f"/runs/{world.crafted_id}/results/links/999999/revoke").status_code == 404
        revoked = tov.post(revoke)
        assert revoked.status_code == 303
        assert revoked.headers["location"] == f"/runs/{world.crafted_id}/results#share"
        gone = world.server.client().get(url)
        assert gone.status_code == 404
        assert "There is nothing at this address." in gone.text
        assert f"/results/links/{link_id}/revoke" not in tov.get(f"/runs/{world.crafted_id}/results").text
    finally:
        tov.close()
        other.close()


@pytest.mark.parametrize(
    "token", [secrets.token_urlsafe(32), "abc", "x" * 300], ids=["random", "short", "long"]
)
def test_an_unknown_results_link_is_not_found(world: World, token: str) -> None:
    response = world.server.client().get(f"/r/{token}")
    assert response.status_code == 404
    assert "There is nothing at this address." in response.text


def test_making_a_results_link_needs_the_csrf_token(world: World) -> None:
    tov = world.server.login()
    try:
        before = world.query("SELECT count(*) FROM results_link")
        response = tov.post(f"/runs/{world.crafted_id}/results/links", headers={"X-CSRF-Token": ""})
        assert response.status_code == 403
        assert world.query("SELECT count(*) FROM results_link") == before
    finally:
        tov.close()
    with world.server.client() as anonymous:
        assert anonymous.post(f"/runs/{world.crafted_id}/results/links").status_code in (401, 403)


# --- the command ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "json", "md"])
def test_the_export_command_writes_each_format(world: World, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"export.{fmt}"
    result = world.server.cli("export", str(world.crafted_id), "--format", fmt, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout
    data = load_session(world, world.crafted_id)
    raw = out.read_bytes()
    if fmt == "json":
        assert SessionExport.model_validate_json(raw).steps == build_export(data).steps
    else:
        assert raw == (export_csv(data) if fmt == "csv" else export_markdown(data)).encode("utf-8")


def test_the_export_command_writes_to_standard_output_and_finds_a_run_by_code(world: World) -> None:
    data = load_session(world, world.crafted_id)
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "export", data.run.code.lower(), "--format", "csv", "--out", "-"],
        cwd=ROOT,
        env=world.server.env,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == export_csv(data).encode("utf-8")


def test_the_export_command_refuses_an_unknown_run(world: World) -> None:
    for run in ("999999", "ZZZZZZ"):
        result = world.server.cli("export", run, "--format", "md")
        assert result.returncode == 1
        assert "no session" in result.stderr
        assert result.stdout == ""


def test_answers_stay_in_the_database_as_they_were(world: World) -> None:
    """The exports only read: every answer is still there, unchanged."""
    with session_scope(world.engine) as db:
        stored = db.exec(select(Answer).where(Answer.run_id == world.crafted_id)).all()
        people = db.exec(
            select(Participant).where(Participant.run_id == world.crafted_id).order_by(col(Participant.id))
        ).all()
    assert len(stored) == answers_in_db(world, world.crafted_id)
    assert [p.display_name for p in people] == world.names
