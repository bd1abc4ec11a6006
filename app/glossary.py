"""The product's words: `docs/glossary.md` gives one form per language and strikes through the
forms it refuses. `tovholder flows check --strict` finds a refused form, as a whole word or phrase,
in a flow, the guide, a background page or a catalogue, and names the file and the line.

The table is the source: a row is one word, a language cell lists the forms we use and, struck
through (`~~form~~`), the forms we refuse. The `where` column is `everywhere`, or `flows and
guide` for words that are right on the tovholder's own screens but wrong in what a session says."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from app.config import ROOT
from exercises.base import LOCALES

GLOSSARY = ROOT / "docs" / "glossary.md"
EVERYWHERE = "everywhere"
FLOWS_AND_GUIDE = "flows and guide"
SCOPES = (EVERYWHERE, FLOWS_AND_GUIDE)

_STRUCK = re.compile(r"~~(.+?)~~")
_KEPT = re.compile(r"^- (?P<locale>[a-z]{2}): (?P<items>.+)$")
_BACKTICKED = re.compile(r"`([^`]+)`")
# A word is letters, digits and inner hyphens: "tovholder-kommandoen" is one word, not "tovholder".
_EDGE_BEFORE = r"(?<![\w-])"
_EDGE_AFTER = r"(?![\w-])"


class GlossaryError(ValueError):
    """The glossary page itself is malformed."""


@dataclass(frozen=True)
class Refusal:
    word: str  # the row: "session (one meeting run with a join code)"
    locale: str
    variant: str  # the refused form as written in the glossary
    use: str  # the forms to write instead
    scope: str
    pattern: re.Pattern[str]

    def message(self) -> str:
        instead = f"; write {self.use}" if self.use else ""
        return f"{self.locale}: '{self.variant}' is refused by docs/glossary.md ({self.word}{instead})"


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    refusal: Refusal
    found: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.refusal.message()} (found '{self.found}')"


def phrase_pattern(phrase: str, *, ignore_case: bool = True) -> re.Pattern[str]:
    """A whole word or phrase; spaces match any run of white space."""
    words = [re.escape(w) for w in phrase.split()]
    flags = re.IGNORECASE if ignore_case else 0
    return re.compile(_EDGE_BEFORE + r"\s+".join(words) + _EDGE_AFTER, flags)


@dataclass(frozen=True)
class Glossary:
    refusals: tuple[Refusal, ...]
    kept: dict[str, tuple[str, ...]]

    def for_locale(self, locale: str, scope: str) -> list[Refusal]:
        return [
            r for r in self.refusals if r.locale == locale and (r.scope == EVERYWHERE or scope != EVERYWHERE)
        ]

    def check(self, text: str, locale: str, scope: str = EVERYWHERE) -> list[tuple[Refusal, str]]:
        """Refused forms in one text of one language: (refusal, the words as found)."""
        kept_spans = [
            m.span()
            for phrase in self.kept.get(locale, ())
            for m in phrase_pattern(phrase, ignore_case=False).finditer(text)
        ]
        found: list[tuple[Refusal, str]] = []
        for refusal in self.for_locale(locale, scope):
            for m in refusal.pattern.finditer(text):
                if not any(a <= m.start() and m.end() <= b for a, b in kept_spans):
                    found.append((refusal, m.group(0)))
        return found


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def parse_glossary(source: str) -> Glossary:
    """The refusals in the table under "## Product words", and the "Kept as written" list."""
    refusals: list[Refusal] = []
    kept: dict[str, list[str]] = {}
    header: list[str] | None = None
    for number, line in enumerate(source.splitlines(), 1):
        if line.startswith("|"):
            cells = _cells(line)
            if header is None:
                header = [c.lower() for c in cells]
                missing = [x for x in ("word", "where", *LOCALES) if x not in header]
                if missing:
                    raise GlossaryError(f"docs/glossary.md:{number}: the table lacks {', '.join(missing)}")
                continue
            if set("".join(cells)) <= set("-: "):
                continue  # the separator row
            if len(cells) != len(header):
                raise GlossaryError(
                    f"docs/glossary.md:{number}: {len(cells)} cells, the header has {len(header)}"
                )
            row = dict(zip(header, cells, strict=True))
            scope = row["where"]
            if scope not in SCOPES:
                raise GlossaryError(f"docs/glossary.md:{number}: where is one of {', '.join(SCOPES)}")
            for locale in LOCALES:
                cell = row[locale]
                use = _STRUCK.sub("", cell).strip().strip(",").strip()
                for variant in _STRUCK.findall(cell):
                    refusals.append(
                        Refusal(row["word"], locale, variant.strip(), use, scope, phrase_pattern(variant))
                    )
            continue
        header = None if not line.strip() else header
        match = _KEPT.match(line.strip())
        if match and match["locale"] in LOCALES:
            kept.setdefault(match["locale"], []).extend(_BACKTICKED.findall(match["items"]))
    if not refusals:
        raise GlossaryError("docs/glossary.md has no refused forms: is the table there?")
    return Glossary(tuple(refusals), {k: tuple(v) for k, v in kept.items()})


def load_glossary(path: Path = GLOSSARY) -> Glossary:
    return parse_glossary(path.read_text(encoding="utf-8"))


# --- flows ----------------------------------------------------------------------------------------


def _local_texts(node: yaml.Node) -> Iterator[tuple[str, yaml.ScalarNode]]:
    """Every text of a flow file with its language: {locale: text}, and the demo's
    {locale: [texts]}."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            locale = key.value if isinstance(key, yaml.ScalarNode) and key.value in LOCALES else None
            if locale and isinstance(value, yaml.ScalarNode):
                yield locale, value
            elif locale and isinstance(value, yaml.SequenceNode):
                yield from ((locale, v) for v in value.value if isinstance(v, yaml.ScalarNode))
            else:
                yield from _local_texts(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _local_texts(item)


def _line_of(lines: list[str], first: int, last: int, pattern: re.Pattern[str]) -> int:
    """The first line from `first` to `last` (0-based) where the pattern matches, 1-based."""
    for index in range(first, min(last, len(lines) - 1) + 1):
        if pattern.search(lines[index]):
            return index + 1
    return first + 1


def check_flow_file(glossary: Glossary, path: Path) -> list[Finding]:
    raw = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return []  # load_flow reports a broken file with its line
    if root is None:
        return []
    lines = raw.splitlines()
    findings: list[Finding] = []
    for locale, node in _local_texts(root):
        for refusal, found in glossary.check(str(node.value), locale, FLOWS_AND_GUIDE):
            line = _line_of(lines, node.start_mark.line, node.end_mark.line, refusal.pattern)
            findings.append(Finding(str(path), line, refusal, found))
    return findings


# --- guide pages and catalogues ---------------------------------------------------------------

_CODE = re.compile(r"<(code|kbd)\b[^>]*>.*?</\1>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_HTML_LANG = re.compile(r"_([a-z]{2})\.html$")


def _page_lines(source: str) -> list[str]:
    """The page's text line by line: code and keys blanked out, tags removed, entities read."""
    blanked = _CODE.sub(lambda m: "\n" * m.group(0).count("\n"), source)
    return [html.unescape(_TAG.sub(" ", line)) for line in blanked.splitlines()]


def check_page(glossary: Glossary, path: Path, locale: str) -> list[Finding]:
    findings: list[Finding] = []
    for number, line in enumerate(_page_lines(path.read_text(encoding="utf-8")), 1):
        for refusal, found in glossary.check(line, locale, FLOWS_AND_GUIDE):
            findings.append(Finding(str(path), number, refusal, found))
    return findings


_PO_STRING = re.compile(r'^(?:msgstr(?:\[\d+\])?\s+)?"(.*)"\s*$')


def check_catalogue(glossary: Glossary, path: Path, locale: str) -> list[Finding]:
    findings: list[Finding] = []
    in_msgstr = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("msgstr"):
            in_msgstr = True
        elif not line.startswith('"'):
            in_msgstr = False
        match = _PO_STRING.match(line)
        if not (in_msgstr and match):
            continue
        text = match.group(1).replace('\\"', '"').replace("\\n", " ")
        for refusal, found in glossary.check(text, locale, EVERYWHERE):
            findings.append(Finding(str(path), number, refusal, found))
    return findings


def product_pages(root: Path = ROOT) -> Iterable[tuple[Path, str]]:
    """The guide and the background pages, each with its language."""
    for path in sorted((root / "templates" / "guide").rglob("*.html")):
        match = _HTML_LANG.search(path.name)
        if match and match.group(1) in LOCALES:
            yield path, match.group(1)


def check_product(glossary: Glossary, root: Path = ROOT) -> list[Finding]:
    """The guide, the background pages and the catalogues."""
    findings: list[Finding] = []
    for path, locale in product_pages(root):
        findings.extend(check_page(glossary, path, locale))
    for locale in LOCALES:
        po = root / "app" / "i18n" / locale / "LC_MESSAGES" / "messages.po"
        if po.is_file():
            findings.extend(check_catalogue(glossary, po, locale))
    return findings
