"""The program as shipped: flows the size of a staff meeting whose minutes add up and match the
guide, the four meetings chained by their results, the new flows complete, the background pages
served in five languages and linked from the console, the fair vote sample, forgiving join codes."""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from app.codes import NEVER_IN_A_CODE, look_alikes_in, normalise_code
from app.config import Settings
from app.flows import BACKGROUNDS, Flow, load_flows, missing_translations, text
from app.main import create_app
from app.models import Team
from app.runner import CODE_ALPHABET, Runner
from app.screens import console_html
from app.templating import make_env
from exercises import build_registry
from exercises.base import Entry, Source, StepContext
from exercises.dot_vote import MAX_OPTIONS, DotVote, DotVoteSettings
from exercises.open_text import OpenTextAnswer, OpenTextResult
from tests.harness import ROOT

REGISTRY = build_registry()
FLOWS = load_flows(ROOT / "sessions", REGISTRY)
LANGUAGES = ("en", "nb", "nn", "da", "sv")
PROGRAM = ("core-task-1", "core-task-2", "coordination-1", "coordination-2")
THREE_QUESTIONS = (
    "What do we do best when this happens?",
    "What can we learn?",
    "What should we keep or develop?",
)
MINUTES = {"en": "minutes", "nb": "minutter", "nn": "minutt", "da": "minutter", "sv": "minuter"}


class Silent:
    def notify(self, run_id: int, what: str, run: object = None) -> None:
        pass


# --- minutes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FLOWS))
def test_each_flow_states_the_sum_of_its_steps(name: str) -> None:
    flow = FLOWS[name]
    assert flow.duration_minutes == sum(s.minutes for s in flow.steps)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_guide_gives_every_flow_its_own_minutes(lang: str) -> None:
    guide = (ROOT / "templates" / "guide" / f"guide_{lang}.html").read_text(encoding="utf-8")
    stated = re.findall(r"<code>([a-z0-9-]+)</code> \((\d+) (\w+)\)", guide)
    named = {name for name, _, _ in stated}
    assert named == set(FLOWS), f"guide_{lang} names {sorted(named)}, the flows are {sorted(FLOWS)}"
    for name, minutes, unit in stated:
        assert int(minutes) == FLOWS[name].duration_minutes, f"guide_{lang}: {name} is {minutes} min"
        assert unit == MINUTES[lang]
    assert "about 45" not in guide and "90 minutes" not in guide


def test_the_program_is_four_staff_meetings_each_opening_with_the_last_ones_results() -> None:
    for name in PROGRAM:
        assert 75 <= FLOWS[name].duration_minutes <= 90, name
    for before, after in itertools.pairwise(PROGRAM):
        published = {s.publish for s in FLOWS[before].steps if s.publish}
        opening = [s for s in FLOWS[after].steps[:2] if s.earlier]
        assert opening and opening[0].earlier in published, f"{after} does not open with {before}'s results"
    # The posters still find every section they print in the four meetings together.
    tags = {s.poster for name in PROGRAM for s in FLOWS[name].steps if s.poster}
    assert {
        "core-task:what-matters",
        "core-task:angles",
        "core-task:contributions",
        "core-task:best",
        "core-task:first-steps",
        "coordination:relations",
        "coordination:hand-offs",
        "coordination:communication",
        "coordination:stop",
        "coordination:keep",
        "coordination:develop",
        "coordination:who-what-when",
    } <= tags
    assert not {"core-task", "coordination"} & set(FLOWS), "the 180-minute flows are gone"


def test_the_short_reflection_asks_the_same_three_questions_in_20_to_30_minutes() -> None:
    short, full = FLOWS["reflection-short"], FLOWS["reflection"]
    assert 20 <= short.duration_minutes <= 30
    assert full.duration_minutes == 45
    for flow in (short, full):
        asked = [text(s.title, "en") for s in flow.steps if s.exercise == "open_text"]
        for question in THREE_QUESTIONS:
            # Asked once, as one card round: the reflection never repeats the group work.
            assert sum(question in title for title in asked) == 1, (flow.name, question)
        tags = {s.poster for s in flow.steps if s.poster} - {"lessons:activity"}
        assert tags == {"lessons:do-best", "lessons:learn", "lessons:keep-develop", "lessons:who-what-when"}


def test_card_rounds_fit_their_minutes() -> None:
    assert sum(s.exercise == "open_text" for s in FLOWS["alliance"].steps) <= 2
    for flow in FLOWS.values():
        for step in flow.steps:
            if step.exercise == "grouping" and step.settings.get("cards_from"):
                source = flow.steps[flow.step_index(step.settings["cards_from"]) or 0]
                assert source.settings.get("max_cards", 1) <= 3, f"{flow.name}/{source.id}: too many cards"
                assert step.minutes >= 8, f"{flow.name}/{step.id}: grouping needs time"


@pytest.mark.parametrize("name", ["leadership", "alliance-context", "safety"])
def test_the_new_themes_are_complete(name: str) -> None:
    flow = FLOWS[name]
    assert missing_translations(flow) == []
    assert all(set(s.notes) == set(LANGUAGES) for s in flow.steps), "notes on every step, five languages"
    assert "seeds" in flow.source and len(flow.source) > 80
    agreed = [s for s in flow.steps if s.poster and s.exercise in ("dot_vote", "commitments")]
    kind = {"leadership": "leadership", "alliance-context": "alliance", "safety": "safety"}[name]
    assert agreed and all(s.poster and s.poster.startswith(f"{kind}:") for s in agreed)
    assert flow.background in BACKGROUNDS and flow.uses_units
    if name == "safety":
        assert any(s.exercise == "matrix" for s in flow.steps), "safety has a between-units part"


def test_every_flow_names_a_background_page_that_exists() -> None:
    for flow in FLOWS.values():
        if flow.name == "check-in":
            continue
        assert flow.background in BACKGROUNDS, flow.name
    for theme in BACKGROUNDS:
        for lang in LANGUAGES:
            assert (ROOT / "templates" / "guide" / "background" / f"{theme}_{lang}.html").is_file()


# --- background pages, over HTTP in-process ---------------------------------------------------------


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.AsyncClient]:
    data = tmp_path_factory.mktemp("guide")
    app = create_app(Settings(_env_file=None, data_dir=data, secret_key="x" * 32))  # type: ignore[call-arg]
    yield httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def get(client: httpx.AsyncClient, url: str, lang: str) -> httpx.Response:
    return asyncio.run(client.get(url, headers={"accept-language": lang}))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_background_page_renders_in_its_language_with_example_and_sources(
    client: httpx.AsyncClient, lang: str
) -> None:
    for theme in BACKGROUNDS:
        r = get(client, f"/guide/{theme}", lang)
        assert r.status_code == 200, (theme, lang)
        html = r.text
        assert f'<article class="guide guide--background" lang="{lang}">' in html
        for section in ('id="idea"', 'id="example"', 'id="flows"', 'id="sources"'):
            assert section in html, (theme, lang, section)
        assert html.count("<h1>") == 1
        words = len(re.sub(r"<[^>]+>", " ", html.split("<article", 1)[1].split("</article>")[0]).split())
        assert 300 <= words <= 700, (theme, lang, words)
        for other in BACKGROUNDS:
            if other != theme:
                assert f'href="/guide/{other}"' in html


def test_the_guide_and_background_links_all_resolve(client: httpx.AsyncClient) -> None:
    for lang in LANGUAGES:
        guide = (ROOT / "templates" / "guide" / f"guide_{lang}.html").read_text(encoding="utf-8")
        links = set(re.findall(r'href="(/guide/[a-z-]+)"', guide))
        assert links == {f"/guide/{t}" for t in BACKGROUNDS}
        for link in links:
            assert get(client, link, lang).status_code == 200
        assert get(client, "/guide", lang).status_code == 200
    assert get(client, "/guide/nothing-here", "en").status_code == 404


def test_the_language_cookie_picks_the_page(client: httpx.AsyncClient) -> None:
    assert "Arbeidsalliansen" in get(client, "/guide/alliance", "nb").text
    assert "Arbetsalliansen" in get(client, "/guide/alliance", "sv").text
    assert "The working alliance" in get(client, "/guide/alliance", "en").text


def test_the_console_links_the_steps_background(migrated_engine: Engine) -> None:
    runner = Runner(migrated_engine, FLOWS, REGISTRY, Silent())
    run = runner.create_run("safety", "nb", None)
    assert run.id is not None
    runner.move(run.id, +1)
    html = console_html(make_env(REGISTRY), runner.run_view(run.id), join_url="http://x/j/A")
    assert 'href="/guide/safety"' in html
    assert "Bakgrunn: Psykologisk trygghet og kollegaveiledning" in html


def test_the_program_runs_under_one_team_and_each_meeting_shows_the_last(migrated_engine: Engine) -> None:
    from sqlmodel import Session

    runner = Runner(migrated_engine, FLOWS, REGISTRY, Silent())
    with Session(migrated_engine) as db:
        team = Team(facilitator_id=None, name="Program", units=["Day", "Evening", "Therapists"])
        db.add(team)
        db.commit()
        db.refresh(team)
        assert team.id is not None
    previous: Flow | None = None
    for name in PROGRAM:
        run = runner.create_run(name, "en", None, team_id=team.id)
        assert run.id is not None
        flow = FLOWS[name]
        people = [runner.join(run.code, None, "Day").token for _ in range(5)]
        for index, step in enumerate(flow.steps):
            runner.move(run.id, +1)
            view = runner.run_view(run.id)
            assert view.current is not None and view.current.index == index
            if step.earlier and previous is not None:
                assert view.current.ctx.earlier is not None, (
                    f"{name}/{step.id} shows nothing from {previous.name}"
                )
            if step.exercise == "statement":
                runner.act(run.id, step.id, "edit", {"text": "Together we help people live well at home."})
            if step.exercise == "dot_vote" and step.publish:
                choices = REGISTRY["dot_vote"].settings(step.settings).choices(view.current.ctx)  # type: ignore[attr-defined]
                for token in people:
                    if choices:
                        runner.submit_answer(
                            token, step.id, {f"dots:{choices[0].id}": "1"}, secrets.token_urlsafe(12)
                        )
            if step.exercise == "commitments":
                runner.submit_answer(
                    people[0],
                    step.id,
                    {"what": "Start", "who": "Day", "when": "next week"},
                    secrets.token_urlsafe(12),
                )
            if step.exercise == "open_text" and name == "coordination-1" and step.id == "handoffs":
                runner.submit_answer(
                    people[0], step.id, {"text": "Day to evening"}, secrets.token_urlsafe(12)
                )
            if step.exercise == "grouping" and name == "coordination-1":
                for group in ("Evening handover", "Discharges"):
                    runner.act(run.id, step.id, "add_group", {"name": group})
        runner.close(run.id)
        previous = flow


# --- the vote's fair sample -----------------------------------------------------------------------


def vote_ctx(texts: list[str], first_id: int = 100) -> StepContext:
    entries = tuple(
        Entry(id=first_id + i, answer=OpenTextAnswer(text=t), participant=i) for i, t in enumerate(texts)
    )
    result = OpenTextResult(count=len(texts), cards=texts)
    return StepContext(sources={"cards": Source(exercise="open_text", result=result, entries=entries)})


def test_a_vote_on_more_than_20_cards_shows_a_fair_sample_and_says_so() -> None:
    settings = DotVoteSettings(options_from="cards", budget=3)
    texts = [f"Card {i}" for i in range(34)]
    ctx = vote_ctx(texts)
    choices = settings.choices(ctx)
    assert len(choices) == MAX_OPTIONS and len(settings.offered(ctx)) == 34
    ids = [int(c.id[1:]) for c in choices]
    assert ids == sorted(ids), "shown in the order written"
    assert max(ids) - 100 > MAX_OPTIONS, "not simply the first twenty"
    # The same sample for everyone: it depends on the cards, not on who asks or when.
    assert [c.id for c in settings.choices(vote_ctx(texts))] == [c.id for c in choices]
    result = DotVote().aggregate(settings, [], ctx)
    assert result.offered == 34 and len(result.options) == MAX_OPTIONS
    env = make_env(REGISTRY)
    phone = env.get_template("dot_vote/fields.html").render(
        settings=settings, ctx=ctx, values={}, step=None, t=lambda v: next(iter(v.values()))
    )
    assert "20 of the 34 cards, picked at random" in phone
    projector = env.get_template("dot_vote/results.html").render(
        result=result, t=lambda v: next(iter(v.values()))
    )
    assert "20 of the 34 cards, picked at random" in projector


def test_a_vote_on_20_cards_or_fewer_shows_them_all() -> None:
    settings = DotVoteSettings(options_from="cards", budget=3)
    ctx = vote_ctx([f"Card {i}" for i in range(20)])
    assert len(settings.choices(ctx)) == 20
    assert DotVote().aggregate(settings, [], ctx).offered == 20


# --- join codes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("ack 379", "ACK379"),
        ("  a-c-k-3-7-9 ", "ACK379"),
        ("ＡＣＫ３７９", "ACK379"),  # full-width, as some phone keyboards send it
        ("АСК379", "ACK379"),  # Cyrillic А, С and К that look like Latin letters
        ("ΑCΚ379", "ACK379"),  # Greek Alpha and Kappa
        ("https://tovholder.example/j/ACK379", "ACK379"),
        ("tovholder.example/j/ack379?x=1", "ACK379"),
        ("", ""),
    ],
)
def test_a_code_typed_from_a_shared_screen_is_read_as_meant(typed: str, code: str) -> None:
    assert normalise_code(typed) == code


def test_characters_no_code_contains_are_named() -> None:
    assert not set(NEVER_IN_A_CODE) & set(CODE_ALPHABET)
    assert set(NEVER_IN_A_CODE) | set(CODE_ALPHABET) == set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    assert look_alikes_in("AC0K1O") == "01O"
    assert look_alikes_in("ACK379") == ""


def test_the_start_page_explains_and_the_join_route_forgives(client: httpx.AsyncClient) -> None:
    start = get(client, "/", "en")
    assert "shared screen" in start.text and "A pasted link works too" in start.text
    assert 'maxlength="200"' in start.text
    r = asyncio.run(client.get("/join", params={"code": " ack-379 "}, follow_redirects=False))
    assert r.status_code == 303 and r.headers["location"] == "/j/ACK379"
    r = asyncio.run(client.get("/join", params={"code": "AC0K1O"}, headers={"accept-language": "nb"}))
    assert r.status_code == 400 and "Ingen kode inneholder 0, 1, O" in r.text


def test_translation_keys_stay_within_the_files(tmp_path: Path) -> None:
    # Every background page file name is <theme>_<lang>.html, so the checker knows its language.
    for page in (ROOT / "templates" / "guide" / "background").glob("*.html"):
        theme, lang = page.stem.rsplit("_", 1)
        assert theme in BACKGROUNDS and lang in LANGUAGES


def test_the_new_flows_make_demo_sessions_under_a_team(tmp_path: Path) -> None:
    """`tovholder demo --flow X --team T`: every answering step gets answers, units come from the team."""
    import sqlalchemy as sa

    from app.cli import main

    env = {"TOVHOLDER_DATA_DIR": str(tmp_path), "TOVHOLDER_DATABASE_URL": ""}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        for name, locale in (("leadership", "nn"), ("alliance-context", "da"), ("reflection-short", "sv")):
            out = io.StringIO()
            with redirect_stdout(out):
                args = ["demo", "--flow", name, "--team", "Demo team", "--locale", locale, "--seed", "3"]
                assert main(args) == 0
            run_id = int(out.getvalue().strip())
            engine = sa.create_engine(f"sqlite:///{tmp_path / 'tovholder.db'}")
            with engine.connect() as conn:
                query = sa.text("SELECT step_id FROM answer WHERE run_id = :r")
                steps = {row[0] for row in conn.execute(query, {"r": run_id})}
                units = conn.execute(
                    sa.text("SELECT count(DISTINCT unit) FROM participant WHERE run_id = :r"), {"r": run_id}
                ).scalar_one()
            engine.dispose()
            ctx = StepContext(units=("a", "b", "c"), unit="a")
            answering = {
                s.id
                for s in FLOWS[name].steps
                if REGISTRY[s.exercise].max_answers(REGISTRY[s.exercise].settings(s.settings), ctx)
            }
            assert answering <= steps, (name, sorted(answering - steps))
            assert units == (3 if FLOWS[name].uses_units else 0)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
