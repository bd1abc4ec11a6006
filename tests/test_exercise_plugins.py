"""An exercise is one folder. A type defined here, in the test, with its templates, stylesheet
and docs page written to a temporary folder, works through the app's generic code alone: the
phone, the projector and the console render it, the exports write its answers in its words, and
its stylesheet is served and linked. The registry refuses a type that lacks what it needs, and
no module outside exercises/ names a type."""

from __future__ import annotations

import csv
import io
import logging
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from markupsafe import Markup
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.routing import Mount

from app import screens
from app.db import session_scope
from app.exports import Exports
from app.flows import Flow, validate_flow
from app.models import Answer, Participant, utcnow
from app.runner import Runner
from app.templating import ASSETS, exercise_assets, make_env, render
from app.views import Reader
from exercises import REGISTERED, AnyExercise, RegistryError, build_registry
from exercises.base import N_, AnswerInvalid, Entry, Exercise, StepContext, Strict
from exercises.words import Words
from tests.harness import ROOT

# --- a type of our own ------------------------------------------------------------------------


class ThumbsSettings(Strict):
    ask_why: bool = False


class ThumbsAnswer(Strict):
    up: bool


class ThumbsResult(BaseModel):
    up: int
    down: int


class Thumbs(Exercise[ThumbsSettings, ThumbsAnswer, ThumbsResult]):
    """Thumbs up or down. Its folder is whatever the test gives it."""

    name = "thumbs"
    settings_model = ThumbsSettings
    answer_model = ThumbsAnswer
    result_model = ThumbsResult
    has_actions = True
    keeps_time = True
    folder: ClassVar[Path] = Path("/nonexistent")

    @property
    def package_dir(self) -> Path:
        return self.folder

    def max_answers(self, settings: ThumbsSettings, ctx: StepContext) -> int:
        return 1

    def parse_answer(
        self, settings: ThumbsSettings, form: Mapping[str, Any], ctx: StepContext
    ) -> ThumbsAnswer:
        if form.get("thumb") not in ("up", "down"):
            raise AnswerInvalid(N_("Please pick one."))
        return ThumbsAnswer(up=form["thumb"] == "up")

    def aggregate(
        self, settings: ThumbsSettings, entries: Sequence[Entry[ThumbsAnswer]], ctx: StepContext
    ) -> ThumbsResult:
        up = sum(1 for e in entries if e.answer.up)
        return ThumbsResult(up=up, down=len(entries) - up)

    def act(
        self,
        settings: ThumbsSettings,
        state: Mapping[str, Any],
        action: str,
        form: Mapping[str, Any],
        ctx: StepContext,
    ) -> dict[str, Any]:
        return {"closed": action == "close"}

    def answer_text(
        self, settings: ThumbsSettings, answer: ThumbsAnswer, result: ThumbsResult, words: Words
    ) -> str:
        return "thumb up" if answer.up else "thumb down"

    def markdown(self, settings: ThumbsSettings, result: ThumbsResult, words: Words) -> list[str]:
        return [f"- up: {result.up}", f"- down: {result.down}"]


class OtherResult(BaseModel):
    total: int


class Mismatched(Thumbs):
    """A type whose aggregate hands back a result that is not its own model."""

    name = "mismatched"

    def aggregate(  # type: ignore[override]
        self, settings: ThumbsSettings, entries: Sequence[Entry[ThumbsAnswer]], ctx: StepContext
    ) -> OtherResult:
        return OtherResult(total=len(entries))


FILES = {
    "templates/fields.html": '<fieldset class="thumbs-input"><button name="thumb" value="up">up</button>'
    '<button name="thumb" value="down">down</button></fieldset>\n',
    "templates/sent.html": '<span class="thumbs-sent">{{ "up" if answer.up else "down" }}</span>\n',
    "templates/results.html": '<p class="thumbs-result">{{ result.up }} up, {{ result.down }} down</p>\n',
    "templates/console.html": '<p class="thumbs-controls">{{ action_url }}close</p>\n',
    "templates/phone.html": '<p class="thumbs-hint">{{ "why?" if settings.ask_why else "" }}</p>\n',
    "static/style.css": ".thumbs-result { font-size: 3rem; }\n",
    "README.md": "# thumbs\n\nThumbs up or down.\n",
}


def write_folder(folder: Path, files: Mapping[str, str] = FILES) -> Path:
    for name, body in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(body, encoding="utf-8")
    return folder


def text(en: str) -> dict[str, str]:
    return {"en": en}


def flow_with(registry: Mapping[str, AnyExercise], exercise: str) -> Flow:
    def step(sid: str, ex: str, minutes: int = 1) -> dict[str, Any]:
        return {"id": sid, "exercise": ex, "minutes": minutes, "title": text(sid), "notes": text("Notes.")}

    data = {
        "name": "plug",
        "title": text("Plug"),
        "purpose": text("A type of our own"),
        "duration_minutes": 7,
        "source": "tests",
        "licence": "CC0",
        "locales": ["en"],
        "steps": [step("hello", "talk"), step("thumb", exercise, 5), step("bye", "talk")],
    }
    return validate_flow(data, registry)


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


class _Silent:
    def notify(self, run_id: int, what: str, run: object = None) -> None:
        pass


@dataclass
class Session:
    registry: dict[str, AnyExercise]
    runner: Runner
    run_id: int
    code: str
    phones: list[Participant]


@pytest.fixture
def thumbs_folder(tmp_path: Path) -> Iterator[Path]:
    Thumbs.folder = write_folder(tmp_path / "thumbs")
    yield Thumbs.folder
    Thumbs.folder = Path("/nonexistent")


def start(engine: Engine, registry: dict[str, AnyExercise], exercise: str, people: int = 2) -> Session:
    flow = flow_with(registry, exercise)
    runner = Runner(engine, {"plug": flow}, registry, _Silent(), 5)
    run = runner.create_run("plug", "en", None, flow=flow)
    assert run.id is not None
    phones = [runner.join(run.code, f"Person {i}") for i in range(people)]
    runner.move(run.id, +2)  # into the step of our type
    return Session(registry, runner, run.id, run.code, phones)


# --- the registry checks each type at start-up -------------------------------------------------


def test_the_shipped_types_pass_the_registry_checks() -> None:
    registry = build_registry()
    assert sorted(registry) == sorted(cls.name for cls in REGISTERED)


def test_a_type_that_lacks_its_folder_is_refused_with_each_thing_it_lacks(tmp_path: Path) -> None:
    Thumbs.folder = write_folder(tmp_path / "thin", {"templates/fields.html": "x", "README.md": "# other\n"})
    try:
        with pytest.raises(RegistryError) as caught:
            build_registry((*REGISTERED, Thumbs))
    finally:
        Thumbs.folder = Path("/nonexistent")
    message = str(caught.value)
    assert "exercise 'thumbs' (tests.test_exercise_plugins.Thumbs)" in message
    for missing in ("thin/templates/results.html", "thin/templates/sent.html", "thin/templates/console.html"):
        assert missing in message
    assert "thin/templates/fields.html" not in message
    assert "a first line '# thumbs' in thin/README.md" in message


def test_a_type_whose_templates_read_the_room_must_say_so(tmp_path: Path) -> None:
    """The context reads everyone who joined only for a type with `reads_members`: one that
    reads ctx.members without it would find nobody there, so the registry refuses it."""
    listing = "<ul>{% for m in ctx.members %}<li>{{ m.name }}</li>{% endfor %}</ul>\n"
    Thumbs.folder = write_folder(tmp_path / "room", {**FILES, "templates/phone.html": listing})
    try:
        with pytest.raises(RegistryError, match=r"'thumbs' .* lacks `reads_members = True`"):
            build_registry((Thumbs,))

        class Listing(Thumbs):
            reads_members = True

        assert build_registry((Listing,))["thumbs"].reads_members
    finally:
        Thumbs.folder = Path("/nonexistent")


def test_a_type_without_models_or_methods_is_refused_by_name() -> None:
    class Hollow(Exercise[ThumbsSettings, ThumbsAnswer, ThumbsResult]):
        name = "hollow"
        settings_model = ThumbsSettings
        has_actions = True

    with pytest.raises(RegistryError) as caught:
        build_registry((Hollow,))
    message = str(caught.value)
    assert message.startswith("exercise 'hollow' (tests.test_exercise_plugins.")
    for missing in (
        "`answer_model` (a pydantic model)",
        "`result_model` (a pydantic model)",
        "the method aggregate()",
        "the method max_answers()",
        "the method parse_answer()",
        "the method act() (it sets has_actions)",
    ):
        assert missing in message


def test_a_type_without_a_docs_page_is_refused(tmp_path: Path) -> None:
    Thumbs.folder = write_folder(tmp_path / "nodocs", {k: v for k, v in FILES.items() if k != "README.md"})
    try:
        with pytest.raises(
            RegistryError, match=r"exercise 'thumbs' .* lacks nodocs/README.md \(its docs page\)"
        ):
            build_registry((Thumbs,))
    finally:
        Thumbs.folder = Path("/nonexistent")


def test_two_types_of_one_name_and_a_bad_name_are_refused(thumbs_folder: Path) -> None:
    class Again(Thumbs):
        pass

    with pytest.raises(RegistryError, match="two exercises are named 'thumbs'"):
        build_registry((Thumbs, Again))

    class Shouting(Thumbs):
        name = "Shouting"

    with pytest.raises(RegistryError, match="`name` must be lowercase"):
        build_registry((Shouting,))


# --- a new type works through the generic code ---------------------------------------------------


def test_a_type_defined_here_renders_on_every_screen_and_in_the_exports(
    thumbs_folder: Path, migrated_engine: Engine
) -> None:
    registry = build_registry((*REGISTERED, Thumbs))
    env = make_env(registry)
    s = start(migrated_engine, registry, "thumbs")
    runner = s.runner

    before = screens.phone_html(env, screens.phone_screen_for(runner.phone_view(s.phones[0])), "en")
    assert 'class="thumbs-input"' in before and 'class="thumbs-hint"' in before
    runner.submit_answer(s.phones[0].token, "thumb", {"thumb": "up"}, secrets.token_hex(8))
    runner.submit_answer(s.phones[1].token, "thumb", {"thumb": "down"}, secrets.token_hex(8))
    after = screens.phone_html(env, screens.phone_screen_for(runner.phone_view(s.phones[0])), "en")
    assert '<span class="thumbs-sent">up</span>' in after and "thumbs-input" not in after

    view = runner.run_view(s.run_id)
    stage = screens.stage_html(env, view, join_url=f"http://x/j/{s.code}", qr_svg=Markup(""))
    assert '<p class="thumbs-result">1 up, 1 down</p>' in stage
    console = screens.console_html(env, view, join_url=f"http://x/j/{s.code}")
    assert f'<p class="thumbs-controls">/runs/{s.run_id}/steps/thumb/close</p>' in console
    assert "Timer 5 min" not in console  # it keeps time of its own

    exports = Exports(migrated_engine, Reader(registry, 5))
    written = [
        (r["step_number"], r["exercise"], r["participant"], r["answer"])
        for r in rows(exports.export(s.run_id, "csv"))
    ]
    assert written == [("2", "thumbs", "P1", "thumb up"), ("2", "thumbs", "P2", "thumb down")]
    markdown = exports.export(s.run_id, "md")
    assert "## 2. thumb\n\n*Answers: 2*\n\n- up: 1\n- down: 1\n" in markdown


def test_audiences_that_share_the_frame_get_the_screens_drawn_whole(migrated_engine: Engine) -> None:
    """A step whose audiences share the screen around their part (the groups) is drawn once, each
    group's part put into it: every group's screen, and the late joiners', is byte for byte the
    screen drawn whole for it, names escaped, in any language."""
    registry = build_registry()
    assert registry["groups"].audiences_share_frame
    s = start(migrated_engine, registry, "groups", people=14)
    s.runner.join(s.code, "<script>alert(1)</script> Late")  # after the split: in no group
    run, flow, current = s.runner.open_step(s.run_id)
    fresh = screens.phone_screens_broadcast(run, flow, current)
    assert len(fresh) >= 5 and fresh[-1][0] is not None and len(fresh[-1][0]) == 1
    env = make_env(registry)
    for locale in ("en", "nb"):
        drawn = screens.broadcast_html(env, fresh, locale)
        whole = [(ids, screens.phone_html(env, screen, locale)) for ids, screen in fresh]
        assert drawn == whole
        assert len({html for _ids, html in drawn}) == len(fresh)  # each group its own screen
    late = drawn[-1][1]
    assert "&lt;script&gt;" not in late and "<script>" not in late  # the late see no names
    assert sum(html.count("<li>Person") for _ids, html in drawn) == 14  # first names, each once


def test_a_shipped_type_that_keeps_no_time_gets_the_step_timer(
    thumbs_folder: Path, migrated_engine: Engine
) -> None:
    registry = build_registry((*REGISTERED, Thumbs))
    s = start(migrated_engine, registry, "open_text")
    console = screens.console_html(make_env(registry), s.runner.run_view(s.run_id), join_url="http://x/j/X")
    assert "Timer 5 min" in console


async def test_its_stylesheet_is_served_from_its_folder_and_linked_by_the_page_shell(
    thumbs_folder: Path,
) -> None:
    registry = build_registry((*REGISTERED, Thumbs))
    env = make_env(registry)
    page = render(env, "error.html", "en", csrf_token="", now=utcnow(), facilitator=None, message="x")
    linked = re.findall(r'<link rel="stylesheet" href="([^"]+)">', page)
    assert linked[0] == "/static/css/tovholder.css"
    assert "/exercises/thumbs/style.css" in linked
    styled = [name for name, ex in registry.items() if (ex.package_dir / "static" / "style.css").is_file()]
    assert sorted(linked[1:]) == sorted(f"/exercises/{name}/style.css" for name in styled)

    app = Starlette(routes=[Mount(ASSETS, app=exercise_assets(registry))])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for href in linked[1:]:
            served = await client.get(href)
            assert served.status_code == 200, href
            assert served.headers["content-type"].startswith("text/css")
        assert (await client.get("/exercises/thumbs/style.css")).text == FILES["static/style.css"]
        assert (await client.get("/exercises/nothing/style.css")).status_code == 404
        assert (await client.get("/exercises/thumbs/../README.md")).status_code == 404

    unregistered = render(
        make_env(build_registry()),
        "error.html",
        "en",
        csrf_token="",
        now=utcnow(),
        facilitator=None,
        message="x",
    )
    assert "/exercises/thumbs/" not in unregistered


# --- what does not fit is said, never shown as something else ----------------------------------


def test_a_stored_answer_that_does_not_fit_is_named_in_the_exports_and_the_log(
    thumbs_folder: Path, migrated_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    registry = build_registry((*REGISTERED, Thumbs))
    s = start(migrated_engine, registry, "thumbs")
    s.runner.submit_answer(s.phones[0].token, "thumb", {"thumb": "up"}, secrets.token_hex(8))
    with session_scope(migrated_engine) as db:  # an answer stored before a field was renamed
        assert s.phones[1].id is not None
        db.add(
            Answer(
                run_id=s.run_id,
                participant_id=s.phones[1].id,
                step_id="thumb",
                idempotency_key="old",
                payload={"thumb_up": False},
            )
        )
        db.commit()

    exports = Exports(migrated_engine, Reader(registry, 5))
    with caplog.at_level(logging.ERROR):
        written = [(r["answer"], r["answer_json"]) for r in rows(exports.export(s.run_id, "csv"))]
        markdown = exports.export(s.run_id, "md")
    unfit = "(could not be read: up: Field required; thumb_up: Extra inputs are not permitted)"
    assert written == [("thumb up", '{"up":true}'), (unfit, '{"thumb_up":false}')]
    assert "*Answers left out, as they do not fit this step: 1*" in markdown
    assert "- up: 1\n- down: 0" in markdown  # the rest is counted as ever
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(f"run {s.run_id} step thumb: answer" in m and "does not fit thumbs" in m for m in logged)
    assert not any("false" in m.casefold() for m in logged)  # never the answer itself


def test_a_result_that_is_not_the_exercises_own_model_is_named_in_the_exports_and_the_log(
    tmp_path: Path, migrated_engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    Mismatched.folder = write_folder(tmp_path / "mismatched", {**FILES, "README.md": "# mismatched\n"})
    registry = build_registry((*REGISTERED, Mismatched))
    s = start(migrated_engine, registry, "mismatched")
    s.runner.submit_answer(s.phones[0].token, "thumb", {"thumb": "up"}, secrets.token_hex(8))
    exports = Exports(migrated_engine, Reader(registry, 5))
    with caplog.at_level(logging.ERROR):
        written = [(r["answer"], r["answer_json"]) for r in rows(exports.export(s.run_id, "csv"))]
        markdown = exports.export(s.run_id, "md")
    reason = "mismatched: the result is OtherResult, not its own ThumbsResult"
    assert written == [(f"(could not be read: {reason})", '{"up":true}')]
    assert f"*These results could not be written: {reason}*" in markdown
    assert '"total"' not in markdown  # no raw JSON in its place
    assert any(f"run {s.run_id} step thumb: {reason}" in r.getMessage() for r in caplog.records)


# --- nothing outside exercises/ names a type -----------------------------------------------------

# Where a type's name means something else, the line says so by one of these; keep the list short.
OTHER_MEANINGS: dict[str, tuple[str, ...]] = {
    # the run's own countdown (an action, a notification kind, a button, its clock); not the exercise
    "timer": (
        r'notify\(run_id, "timer"\)',
        r"IMMEDIATE_KINDS = ",
        r"ACTIONS = \{",
        r'action == "timer"',
        r'action="timer"',
        r'<span class="timer"',
    ),
    # SVG line ends in a stylesheet's data URL
    "round": (r"stroke-line(cap|join)='round'",),
}
DATA_FILES = {"app/posters/sample.py"}  # built-in poster samples: data, not code


def _outside_exercises() -> Iterator[Path]:
    for pattern in (
        "app/**/*.py",
        "app/**/*.html",
        "templates/**/*.html",
        "static/**/*.js",
        "static/**/*.css",
    ):
        for path in sorted(ROOT.glob(pattern)):
            if "/vendor/" not in path.as_posix() and path.relative_to(ROOT).as_posix() not in DATA_FILES:
                yield path


def _quoted_names() -> re.Pattern[str]:
    """A registered type's name in quotes, as code or a template would name it."""
    names = sorted(build_registry(), key=len, reverse=True)
    alternatives = "|".join(map(re.escape, names))
    return re.compile(rf"""(["'])({alternatives})\1""")


def test_no_module_outside_exercises_names_an_exercise_type() -> None:
    quoted = _quoted_names()
    found = []
    for path in _outside_exercises():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in quoted.finditer(line):
                allowed = OTHER_MEANINGS.get(match.group(2), ())
                if not any(re.search(pattern, line) for pattern in allowed):
                    found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, (
        "These lines name an exercise type; give the exercise a hook (exercises/base.py) instead, "
        "or, where the word means something else, add the line's pattern to OTHER_MEANINGS:\n"
        + "\n".join(found)
    )


def test_the_name_check_finds_a_type_named_in_code_or_a_template() -> None:
    quoted = _quoted_names()
    leak = '{% if sv.exercise.name == "word_cloud" %}<p>cloud</p>{% endif %}'
    assert quoted.search(leak) and quoted.search("exercise in ('open_text', 'grouping')")
    assert not quoted.search("timer_ends_at") and not quoted.search('"open_text_more"')
