"""The Jinja environment: page shells in templates/, each exercise's own templates by prefix, and
each exercise's own stylesheet, served from its folder. Autoescaping is always on; nothing a person
wrote is ever marked safe."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import jinja2
from babel.numbers import format_decimal
from markupsafe import Markup
from starlette.routing import Mount, Router
from starlette.staticfiles import StaticFiles

from app import i18n
from app.config import ROOT
from app.flows import text
from exercises import AnyExercise

ASSETS = "/exercises"  # where each exercise's static/ folder is served: /exercises/<name>/...
STYLESHEET = "style.css"


def exercise_styled(registry: Mapping[str, AnyExercise]) -> list[str]:
    """The registered exercises that ship static/style.css, by name."""
    return sorted(name for name, ex in registry.items() if (ex.static_dir / STYLESHEET).is_file())


def exercise_assets(registry: Mapping[str, AnyExercise]) -> Router:
    """The static files of the registered exercises, each from its own folder (mount at ASSETS).
    Same origin, so the pages' CSP (style-src 'self') lets them in."""
    return Router(
        routes=[
            Mount(f"/{name}", app=StaticFiles(directory=ex.static_dir))
            for name, ex in sorted(registry.items())
            if ex.static_dir.is_dir()
        ]
    )


def make_env(registry: Mapping[str, AnyExercise]) -> jinja2.Environment:
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(ROOT / "templates"),
            jinja2.PrefixLoader(
                {name: jinja2.FileSystemLoader(ex.template_dir) for name, ex in registry.items()}
            ),
        ]
    )
    env = jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    # The optional templates each exercise ships: phone.html (above the phone's form) and
    # console.html (the tovholder's controls for the step).
    env.globals["phone_extras"] = {
        f"{name}/phone.html" for name, ex in registry.items() if ex.has_template("phone.html")
    }
    env.globals["console_extras"] = {
        f"{name}/console.html" for name, ex in registry.items() if ex.has_template("console.html")
    }
    # The stylesheets of the registered exercises that have one; the page shell links them (a
    # phone's screen links only its current exercise's, so a phone downloads what it shows).
    env.globals["exercise_css"] = [f"{ASSETS}/{name}/{STYLESHEET}" for name in exercise_styled(registry)]
    env.globals["exercise_stylesheet"] = {
        name: f"{ASSETS}/{name}/{STYLESHEET}" for name in exercise_styled(registry)
    }
    env.globals["t"] = _text
    env.globals["locale"] = i18n.current_locale
    env.globals["language_names"] = i18n.LANGUAGE_NAMES
    env.filters["iso"] = _iso
    env.filters["paragraphs"] = _paragraphs
    env.filters["preview"] = preview
    env.filters["decimal"] = _decimal
    return env


@jinja2.pass_context
def _text(context: jinja2.runtime.Context, value: Mapping[str, str] | None) -> str:
    """A flow text in the current language; falls back to the flow's default, then any."""
    fallback = context.get("fallback_locale", "en")
    return text(value, i18n.current_locale(), fallback)


def _iso(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _decimal(value: float) -> str:
    """A number as the current language writes it: 3.5 in English, 3,5 in Norwegian."""
    return str(format_decimal(value, format="#,##0.##", locale=i18n.current_locale()))


def preview(value: str, length: int = 240) -> str:
    """The start of a text as one line, cut at a word and ended with one "…" (never "…." after a
    full stop): the console's look at the next step's notes."""
    text = " ".join(value.split())
    if len(text) <= length:
        return text
    cut = text[:length].rsplit(" ", 1)[0].rstrip(" .,;:!?–—-")
    return cut + " …"


def _paragraphs(value: str) -> Markup:
    """Line breaks of a text as paragraphs; the text itself is escaped first."""
    escaped = Markup.escape(value)
    parts = [p.strip() for p in escaped.split("\n\n") if p.strip()]
    return Markup("").join(Markup("<p>{}</p>").format(Markup("<br>").join(p.split("\n"))) for p in parts)


def render(env: jinja2.Environment, name: str, locale: str, /, **context: Any) -> str:
    # Positional-only: templates take a `name` (and `locale`) of their own, e.g. the join form.
    with i18n.use_locale(locale):
        return env.get_template(name).render(**context)
