"""The tovholder guide: five languages, one structure, plain static HTML, in our own words."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment

ROOT = Path(__file__).resolve().parent.parent
GUIDE_DIR = ROOT / "templates" / "guide"
LANGUAGES = ("en", "nb", "nn", "da", "sv")
PARTS = ("before", "during", "after")
VOID = {"br", "hr", "wbr", "img", "input", "meta", "link", "source", "col", "area", "base", "embed", "track"}
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

# Words that show a text is in its language (all must occur) and words of its neighbours
# that must not (a bokmål word in the nynorsk guide, a Norwegian one in the Danish...).
LANGUAGE_WORDS: dict[str, tuple[set[str], set[str]]] = {
    "en": (
        {"the", "and", "you", "not", "what"},
        {"og", "och", "ikke", "ikkje", "inte", "hva", "kva", "hvad"},
    ),
    "nb": (
        {"ikke", "og", "hva", "hvordan", "dere"},
        {"ikkje", "kva", "korleis", "hvad", "jeres", "efter", "nogen", "inte", "och", "the"},
    ),
    "nn": (
        {"ikkje", "kva", "korleis", "eg", "dykk"},
        {"ikke", "hva", "hvordan", "jeg", "hvad", "inte", "och", "the"},
    ),
    "da": ({"ikke", "og", "jeres", "hvad", "efter"}, {"ikkje", "kva", "hva", "dere", "inte", "och", "the"}),
    "sv": ({"inte", "och", "ni", "är", "vad"}, {"og", "ikke", "ikkje", "hva", "hvad", "the"}),
}

# The product's own words in each language (substrings, case-insensitive).
TERMS: dict[str, tuple[str, ...]] = {
    "en": ("tovholder", "core task", "units"),
    "nb": ("tovholder", "kjerneoppgave", "enheter"),
    "nn": ("tovholder", "kjerneoppgåv", "einingar"),
    "da": ("tovholder", "kerneopgave", "medarbejdere", "enheder"),
    "sv": ("tovholder", "samtalsledare", "kärnuppdrag", "enheter"),
}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    line: int
    children: list[Node | str] = field(default_factory=list)

    def walk(self) -> list[Node]:
        found = [self]
        for child in self.children:
            if isinstance(child, Node):
                found.extend(child.walk())
        return found

    def find_all(self, tag: str) -> list[Node]:
        return [n for n in self.walk() if n.tag == tag]

    def text(self) -> str:
        return " ".join(c if isinstance(c, str) else c.text() for c in self.children)

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class TreeBuilder(HTMLParser):
    """Builds a small tree and fails on any tag that is closed out of order or left open."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, 0)
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, self.getpos()[0])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: v or "" for k, v in attrs}, self.getpos()[0]))

    def handle_endtag(self, tag: str) -> None:
        line = self.getpos()[0]
        assert tag not in VOID, f"line {line}: </{tag}> closes a void element"
        open_tag = self.stack[-1].tag
        assert open_tag == tag, f"line {line}: </{tag}> closes <{open_tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.stack[-1].children.append(data)


def guide_path(lang: str) -> Path:
    return GUIDE_DIR / f"guide_{lang}.html"


def parse(lang: str) -> Node:
    builder = TreeBuilder()
    builder.feed(guide_path(lang).read_text(encoding="utf-8"))
    builder.close()
    assert len(builder.stack) == 1, f"guide_{lang}.html leaves <{builder.stack[-1].tag}> open"
    return builder.root


def words(node: Node) -> list[str]:
    return [w.lower() for w in WORD.findall(node.text())]


def headings(node: Node) -> list[Node]:
    return [n for n in node.walk() if n.tag in {"h1", "h2", "h3", "h4", "h5", "h6"}]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_guide_exists_for_every_language(lang: str) -> None:
    assert guide_path(lang).is_file(), f"missing {guide_path(lang).relative_to(ROOT)}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_guide_is_body_content_only_and_static(lang: str) -> None:
    source = guide_path(lang).read_text(encoding="utf-8")
    lowered = source.lower()
    for forbidden in (
        "<html",
        "<head",
        "<body",
        "<!doctype",
        "<script",
        "<style",
        "<img",
        "<iframe",
        " style=",
    ):
        assert forbidden not in lowered, f"guide_{lang}.html contains {forbidden!r}"
    for jinja in ("{{", "{%", "{#"):
        assert jinja not in source, f"guide_{lang}.html contains the Jinja marker {jinja!r}"
    assert not re.search(r"\bon[a-z]+\s*=", lowered), f"guide_{lang}.html has an event handler attribute"
    rendered = Environment(autoescape=True, keep_trailing_newline=True).from_string(source).render()
    assert rendered == source, "the template must render to itself: plain text, no template logic"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_guide_is_one_article_with_title_intro_and_toc(lang: str) -> None:
    root = parse(lang)
    top = [c for c in root.children if isinstance(c, Node)]
    assert [n.tag for n in top] == ["article"], "the file is exactly one <article>"
    assert not [c for c in root.children if isinstance(c, str)], "no text outside the article"
    article = top[0]
    assert "guide" in article.classes()
    assert article.attrs.get("lang") == lang

    assert len(root.find_all("h1")) == 1
    assert headings(article)[0].tag == "h1"
    children = [c for c in article.children if isinstance(c, Node)]
    tags = [c.tag for c in children]
    assert tags[:3] == ["h1", "p", "nav"], f"h1, intro paragraph and table of contents first, got {tags[:3]}"
    assert len(words(children[1])) >= 20, "the intro says who the tovholder is and what the guide covers"
    assert "guide__toc" in children[2].classes()
    assert tags[3:] == ["section"] * len(PARTS)
    assert [c.attrs.get("id") for c in children[3:]] == list(PARTS)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_part_has_a_heading_subsections_lists_and_paragraphs(lang: str) -> None:
    article = parse(lang).find_all("article")[0]
    for part in (n for n in article.children if isinstance(n, Node) and n.tag == "section"):
        first = next(c for c in part.children if isinstance(c, Node))
        assert first.tag == "h2", f"#{part.attrs['id']} starts with its <h2>"
        assert len(part.find_all("h2")) == 1
        subsections = [c for c in part.children if isinstance(c, Node) and c.tag == "section"]
        assert len(subsections) >= 3, f"#{part.attrs['id']} has sub-sections"
        for sub in subsections:
            assert sub.attrs.get("id"), f"a sub-section of #{part.attrs['id']} has no id"
            opening = next(c for c in sub.children if isinstance(c, Node))
            assert opening.tag == "h3", f"#{sub.attrs['id']} starts with its <h3>"
        assert part.find_all("ul") or part.find_all("ol"), f"#{part.attrs['id']} has a list"
        assert part.find_all("p"), f"#{part.attrs['id']} has paragraphs"
        assert all(len(words(p)) <= 90 for p in part.find_all("p")), "paragraphs stay short"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_toc_links_point_to_existing_ids(lang: str) -> None:
    root = parse(lang)
    ids = [n.attrs["id"] for n in root.walk() if "id" in n.attrs]
    assert len(ids) == len(set(ids)), f"duplicate ids: {sorted(i for i in ids if ids.count(i) > 1)}"
    toc = next(n for n in root.walk() if n.tag == "nav" and "guide__toc" in n.classes())
    hrefs = [a.attrs.get("href", "") for a in toc.find_all("a")]
    assert hrefs, "the table of contents has links"
    assert all(h.startswith("#") for h in hrefs), "the table of contents links inside the page only"
    targets = [h[1:] for h in hrefs]
    missing = [t for t in targets if t not in ids]
    assert not missing, f"links to missing ids: {missing}"
    assert set(PARTS) <= set(targets)
    sections = {n.attrs["id"] for n in root.find_all("section")}
    assert sections == set(targets), (
        f"sections not in the table of contents: {sorted(sections - set(targets))}"
    )


def test_all_languages_share_the_same_anchors() -> None:
    def anchors(lang: str) -> list[str]:
        return [n.attrs["id"] for n in parse(lang).walk() if "id" in n.attrs]

    english = anchors("en")
    for lang in LANGUAGES[1:]:
        assert anchors(lang) == english, f"guide_{lang}.html has other anchors than the English guide"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_guide_is_in_its_language(lang: str) -> None:
    found = set(words(parse(lang)))
    required, foreign = LANGUAGE_WORDS[lang]
    assert required <= found, f"guide_{lang}.html lacks {sorted(required - found)}"
    assert not foreign & found, f"guide_{lang}.html has words of another language: {sorted(foreign & found)}"
    text = parse(lang).text().lower()
    for term in TERMS[lang]:
        assert term in text, f"guide_{lang}.html never says {term!r}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_guide_length_is_900_to_1800_words(lang: str) -> None:
    count = len(parse(lang).text().split())
    assert 900 <= count <= 1800, f"guide_{lang}.html has {count} words"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_guide_covers_the_practical_essentials(lang: str) -> None:
    source = guide_path(lang).read_text(encoding="utf-8")
    for needle in ("F11", "tovholder demo", "check-in", "CSV", "JSON", "Markdown", "A3", "PNG", "make run"):
        assert needle in source, f"guide_{lang}.html never mentions {needle}"
    for flow in sorted(p.stem for p in (ROOT / "sessions").glob("*.yaml")):
        assert f"<code>{flow}</code>" in source, f"guide_{lang}.html does not name the flow {flow}"
    assert re.search(r"\b(5|fem|five)\b", source), "the anonymity threshold of five is stated"


def _seed_overlap_tool() -> Path | None:
    for candidate in (
        ROOT.parent / "shared" / "tools" / "seed-overlap",
        Path("/work/shared/tools/seed-overlap"),
    ):
        if candidate.is_file():
            return candidate
    return None


def test_guide_repeats_no_passage_of_the_source_texts() -> None:
    tool = _seed_overlap_tool()
    if tool is None:
        pytest.skip("the seed-overlap tool (../shared/tools/seed-overlap) is not on this machine")
    result = subprocess.run(
        [sys.executable, str(tool), str(ROOT)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode in (0, 1), f"seed-overlap failed: {result.stderr}"
    assert "seed-overlap:" in result.stdout, f"unexpected output: {result.stdout[-500:]}"
    # The tool reports the whole project; only the guide's own lines count here.
    hits = [
        line
        for line in result.stdout.splitlines()
        if re.match(r"templates/guide/[^:]+:\d+: repeats ", line.replace("\\", "/"))
    ]
    assert not hits, "the guide repeats the source texts:\n" + "\n".join(hits)
