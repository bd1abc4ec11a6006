"""Message catalogues (Babel .po files, compiled in memory at start-up) and the current locale.

Every interface string goes through gettext. A phone follows its browser's language, the
projector the session's. A new language needs a catalogue here and nothing in the templates."""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from exercises.words import Words

HERE = Path(__file__).resolve().parent
DEFAULT_LOCALE = "en"
LANGUAGE_NAMES = {
    "en": "English",
    "nb": "Norsk bokmål",
    "nn": "Norsk nynorsk",
    "da": "Dansk",
    "sv": "Svenska",
}

_current: ContextVar[str] = ContextVar("tovholder_locale", default=DEFAULT_LOCALE)


@cache
def available_locales() -> tuple[str, ...]:
    """The catalogues there are (read once: a new catalogue needs a restart anyway)."""
    found = {p.parent.parent.name for p in HERE.glob("*/LC_MESSAGES/messages.po")}
    return tuple(sorted(found | {DEFAULT_LOCALE}, key=lambda x: (x != DEFAULT_LOCALE, x)))


@cache
def translations(locale: str) -> _gettext.NullTranslations:
    po = HERE / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return _gettext.NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def current_locale() -> str:
    return _current.get()


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    token = _current.set(locale if locale in available_locales() else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str, /, **params: object) -> str:
    """A catalogue message in the current language, its placeholders filled from `params`."""
    translated = translations(_current.get()).gettext(message)
    return translated % params if params else translated


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def words(locale: str, fallback: str = DEFAULT_LOCALE) -> Words:
    """The catalogues of one language, for what exercises write outside templates (exports,
    posters). `fallback` is the flow's default language, for flow texts."""
    chosen = locale if locale in available_locales() else DEFAULT_LOCALE
    catalogue = translations(chosen)
    return Words(
        locale=locale, fallback=fallback, catalogue=catalogue.gettext, plural_catalogue=catalogue.ngettext
    )


def pick_locale(accept_language: str | None, supported: tuple[str, ...] | None = None) -> str:
    """The best of our locales for an Accept-Language header; Norwegian 'no' means bokmål."""
    supported = supported or available_locales()
    weighted: list[tuple[float, int, str]] = []
    for i, part in enumerate((accept_language or "").split(",")):
        lang, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        weighted.append((-q, i, lang.strip().lower()))
    for _, _, lang in sorted(weighted):
        base = lang.split("-")[0]
        base = {"no": "nb", "nob": "nb", "nno": "nn", "swe": "sv", "dan": "da"}.get(base, base)
        if base in supported:
            return base
    return DEFAULT_LOCALE
