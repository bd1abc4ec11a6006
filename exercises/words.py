"""The words and numbers of one language, for what an exercise writes outside its templates: the
text of an answer in an export, its Markdown, its poster items. The app hands over its catalogues'
`gettext` and `ngettext`; an exercise marks its messages with N_() as everywhere else."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from babel.dates import format_date
from babel.numbers import format_decimal


def text(value: Mapping[str, str] | None, locale: str, fallback: str = "en") -> str:
    """Pick a text in the wanted language, else the fallback, else any."""
    if not value:
        return ""
    return value.get(locale) or value.get(fallback) or next(iter(value.values()))


def compact_json(value: Any) -> str:
    """A value as JSON on one line, for a cell of a spreadsheet."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Labelled(Protocol):
    """An item or an option: an id and a flow text."""

    @property
    def id(self) -> str: ...

    @property
    def text(self) -> Mapping[str, str]: ...


def _untranslated(message: str) -> str:
    return message


def _untranslated_plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


@dataclass(frozen=True)
class Words:
    """One language: catalogue messages, flow texts, numbers and dates as that language writes
    them. Without catalogues (a test, a script) messages stay in English."""

    locale: str = "en"
    fallback: str = "en"  # the flow's default language, for a flow text that lacks `locale`
    catalogue: Callable[[str], str] = _untranslated
    plural_catalogue: Callable[[str, str, int], str] = _untranslated_plural

    def gettext(self, message: str, **params: Any) -> str:
        """A message marked with N_(), translated; `params` fill its %(name)s placeholders."""
        translated = self.catalogue(message)
        return translated % params if params else translated

    def ngettext(self, singular: str, plural: str, num: int, **params: Any) -> str:
        """The form for `num`, translated, with %(num)d and `params` filled in."""
        return self.plural_catalogue(singular, plural, num) % {"num": num, **params}

    def text(self, value: Mapping[str, str] | None) -> str:
        """A flow text ({locale: text}) in this language, else the flow's default, else any."""
        return text(value, self.locale, self.fallback)

    def labels(self, *groups: Iterable[Labelled]) -> dict[str, str]:
        """Ids with their text in this language, in the order they first come; a later group's
        text wins (a result's options over the flow's, where it reads them from another step)."""
        found: dict[str, str] = {}
        for group in groups:
            found.update({item.id: self.text(item.text) for item in group})
        return found

    def number(self, value: float | None, digits: int = 2) -> str:
        """3.5 in English, 3,5 in Norwegian; at most `digits` decimals; a dash for no number."""
        if value is None:
            return "–"
        pattern = "#,##0." + "#" * digits if digits else "#,##0"
        return str(format_decimal(value, format=pattern, locale=self.locale))

    def date(self, day: date, form: str = "long") -> str:
        """A day as this language writes it ("medium", "long" or "full"); ISO where Babel can't."""
        try:
            return str(format_date(day, format=form, locale=self.locale))
        except (ValueError, LookupError):
            return day.isoformat()
