"""The message catalogues: complete for the current source, placeholders intact, compiled and used.

Extraction runs in-process over babel.cfg, the same configuration `make i18n` uses, so a new
message in a template or in Python fails here until it is translated (see docs/i18n.md)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from markupsafe import escape

import exercises
from app import i18n
from app.templating import make_env, render

ROOT = Path(__file__).resolve().parent.parent
I18N_DIR = ROOT / "app" / "i18n"
POT = I18N_DIR / "messages.pot"
SOURCE_LOCALE = "en"  # the msgids are English
REQUIRED = "nb"  # must always exist and be complete

FIX = "Run `make i18n`, then translate the messages in {po} (docs/i18n.md)."


@cache
def extracted() -> Catalog:
    """Every message in the current source, extracted as `make i18n` does (keywords in babel.cfg)."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, "babel.cfg")
    catalog = Catalog(project="Tovholder")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords=DEFAULT_KEYWORDS,
        comment_tags=("TRANSLATORS:",),
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def messages(catalog: Catalog) -> Iterator[Message]:
    return (m for m in catalog if m.id)


def po_path(locale: str) -> Path:
    return I18N_DIR / locale / "LC_MESSAGES" / "messages.po"


@cache
def load(locale: str) -> Catalog:
    with po_path(locale).open("rb") as fh:
        return read_po(fh, abort_invalid=True)


def forms(message: Message) -> tuple[str, ...]:
    if isinstance(message.string, tuple | list):
        return tuple(message.string)
    return (message.string or "",)


def ids(message: Message) -> tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, tuple | list) else (message.id,)


def where(message: Message) -> str:
    return ", ".join(sorted({f"{f}:{n}" for f, n in message.locations})) or "?"


TRANSLATED = sorted((set(i18n.available_locales()) - {SOURCE_LOCALE}) | {REQUIRED})
ALL_LOCALES = sorted(set(i18n.available_locales()) | {REQUIRED})

# A %-placeholder: %(name)s, %(num)d, %5.1f, %s ... ("%%" is a literal percent sign).
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")


def placeholders(text: str) -> set[str]:
    return {p for p in PLACEHOLDER.findall(text) if p != "%%"}


def stray_percent(text: str) -> int:
    """Percent signs that are not part of a placeholder: newstyle gettext %-formats every
    template message, so one of these breaks the page."""
    return PLACEHOLDER.sub("", text).count("%")


# --- extraction -----------------------------------------------------------------------------


def test_extraction_finds_messages_in_python_and_templates() -> None:
    """A sanity check of babel.cfg: every kind of source yields messages, keywords included."""
    files = {f for m in messages(extracted()) for f, _ in m.locations}
    assert any(f.startswith("templates/") for f in files), "no messages from templates/"
    assert any(f.startswith("exercises/") and f.endswith(".html") for f in files), (
        "no messages from exercise templates"
    )
    assert any(f.endswith(".py") for f in files), (
        "no N_() messages from Python code: babel.cfg's `keywords` needs Babel >= 2.18"
    )
    auth = ROOT / "app" / "auth.py"
    if re.search(r"AccountError\(\s*['\"]", auth.read_text(encoding="utf-8")):
        assert "app/auth.py" in files, (
            "AccountError messages are not extracted: babel.cfg's `keywords` needs Babel >= 2.18"
        )
    assert not any(m.pluralizable and len(ids(m)) != 2 for m in messages(extracted()))


def test_template_is_up_to_date() -> None:
    with POT.open("rb") as fh:
        pot = read_po(fh)
    source = {m.id if isinstance(m.id, str) else tuple(m.id) for m in messages(extracted())}
    template = {m.id if isinstance(m.id, str) else tuple(m.id) for m in messages(pot)}
    missing = sorted(map(str, source - template))
    gone = sorted(map(str, template - source))
    assert not missing and not gone, (
        "app/i18n/messages.pot is out of date. Run `make i18n`.\n"
        + "".join(f"  new: {m}\n" for m in missing)
        + "".join(f"  gone: {m}\n" for m in gone)
    )


# --- catalogues ------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ALL_LOCALES)
def test_catalogue_parses_with_language_and_plural_forms(locale: str) -> None:
    assert po_path(locale).exists(), f"no catalogue at {po_path(locale).relative_to(ROOT)}"
    catalog = load(locale)
    headers = dict(catalog.mime_headers)
    assert headers.get("Language") == locale
    assert "Plural-Forms" in headers
    if locale in {"en", "nb", "nn", "da", "sv"}:
        assert headers["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    bad = [m.id for m in messages(catalog) if m.pluralizable and len(forms(m)) != catalog.num_plurals]
    assert not bad, f"plural entries without {catalog.num_plurals} forms: {bad}"
    assert locale in i18n.LANGUAGE_NAMES, f"add {locale!r} to LANGUAGE_NAMES in app/i18n/__init__.py"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_source_message_is_translated(locale: str) -> None:
    catalog = load(locale)
    problems = []
    for message in messages(extracted()):
        entry = catalog.get(message.id, context=message.context)
        label = f"{ids(message)[0]!r}  ({where(message)})"
        if entry is None:
            problems.append(f"missing:      {label}")
        elif ids(entry) != ids(message):
            problems.append(f"plural differs: {label}")
        elif entry.fuzzy:
            problems.append(f"fuzzy:        {label}")
        elif not all(f.strip() for f in forms(entry)):
            problems.append(f"untranslated: {label}")
    assert not problems, (
        f"{len(problems)} message(s) not ready in {locale}:\n"
        + "\n".join(problems)
        + "\n"
        + FIX.format(po=po_path(locale).relative_to(ROOT))
    )


@pytest.mark.parametrize("locale", ALL_LOCALES)
def test_translations_keep_the_placeholders(locale: str) -> None:
    problems = []
    for message in messages(load(locale)):
        sources = ids(message)
        for index, text in enumerate(forms(message)):
            if not text:
                continue
            source = sources[min(index, len(sources) - 1)]
            if placeholders(text) != placeholders(source):
                problems.append(
                    f"{source!r}: {sorted(placeholders(source))} "
                    f"but {text!r} has {sorted(placeholders(text))}"
                )
            elif stray_percent(text) != stray_percent(source):
                problems.append(f"{text!r}: a lone '%' (write '%%' for a percent sign)")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("locale", ALL_LOCALES)
def test_compiled_catalogue_gives_the_po_strings(locale: str) -> None:
    """The in-memory .po -> .mo compile in app.i18n serves exactly what the .po file says;
    an empty msgstr (English) falls back to the msgid, for both plural forms."""
    compiled = i18n.translations(locale)
    for message in messages(load(locale)):
        if message.fuzzy or message.context:
            continue
        if message.pluralizable:
            singular, plural = ids(message)
            one, other = forms(message)[0], forms(message)[-1]
            assert compiled.ngettext(singular, plural, 1) == (one or singular)
            assert compiled.ngettext(singular, plural, 2) == (other or plural)
        else:
            assert compiled.gettext(ids(message)[0]) == (message.string or message.id)


def test_norwegian_join() -> None:
    assert i18n.translations("nb").gettext("Join") == "Bli med"


# --- choosing a language ---------------------------------------------------------------------


def test_pick_locale_from_accept_language() -> None:
    assert i18n.pick_locale("nb-NO,nb;q=0.9,en;q=0.8") == "nb"
    assert i18n.pick_locale("no") == "nb"
    assert i18n.pick_locale("no-NO,en;q=0.5") == "nb"
    assert i18n.pick_locale("en-GB,en;q=0.9") == "en"
    assert i18n.pick_locale("") == "en"
    assert i18n.pick_locale(None) == "en"
    assert i18n.pick_locale("sv-SE") == ("sv" if "sv" in i18n.available_locales() else "en")


def test_pick_locale_follows_the_catalogues_present() -> None:
    assert i18n.pick_locale("sv-SE,sv;q=0.9", supported=("en", "nb")) == "en"
    assert i18n.pick_locale("sv-SE,sv;q=0.9", supported=("en", "nb", "sv")) == "sv"
    assert i18n.pick_locale("en;q=0.5,da", supported=("en", "da")) == "da"


def test_available_locales_are_the_catalogue_folders() -> None:
    folders = {p.parent.parent.name for p in I18N_DIR.glob("*/LC_MESSAGES/messages.po")}
    assert set(i18n.available_locales()) == folders | {SOURCE_LOCALE}
    assert i18n.available_locales()[0] == SOURCE_LOCALE


# --- a rendered template ---------------------------------------------------------------------


def test_rendered_template_is_norwegian() -> None:
    env = make_env(exercises.build_registry())
    html = render(env, "_conn.html", "nb")
    in_template = [
        m for m in messages(extracted()) if any(f == "templates/_conn.html" for f, _ in m.locations)
    ]
    assert in_template, "templates/_conn.html has no messages"
    nb = load("nb")
    for message in in_template:
        entry = nb.get(message.id)
        assert entry is not None and entry.string, f"{message.id!r} is not translated"
        assert str(escape(entry.string)) in html
        if entry.string != message.id:
            assert str(escape(message.id)) not in html
