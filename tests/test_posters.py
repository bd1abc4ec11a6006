"""Posters: real Typst renders, read back with poppler's pdftotext, pdfinfo and pdffonts."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import uuid
from pathlib import Path

import pytest
import typst
from pydantic import ValidationError

from app.posters import Commitment, Heatmap, PosterData, PosterItem, PosterSection, fit, render
from app.posters.render import FONTS_DIR, TEMPLATES_DIR, fonts
from app.posters.sample import KINDS, LANGS, main, sample
from tests.legibility import sizes

POPPLER = ("pdftotext", "pdfinfo", "pdffonts")
MM = 72 / 25.4


@pytest.fixture(scope="module", autouse=True)
def poppler() -> None:
    missing = [tool for tool in POPPLER if shutil.which(tool) is None]
    if missing:
        message = f"{', '.join(missing)} missing: run `make posters-deps` (Debian's poppler-utils)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


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
    """`wanted` is in the PDF text: word for word, or, where a line broke after a hyphen (which
    pdftotext then drops), letter for letter without the hyphens and spaces."""
    if " ".join(wanted.split()) in text:
        return True
    squeeze = re.compile(r"[\s-]+")
    return squeeze.sub("", wanted) in squeeze.sub("", text)


def pdf_info(pdf: bytes, tmp: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(_file(pdf, tmp))], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


def page_size(pdf: bytes, tmp: Path) -> tuple[int, int]:
    m = re.match(r"([\d.]+) x ([\d.]+) pts", pdf_info(pdf, tmp)["Page size"])
    assert m, "pdfinfo shows no page size"
    return round(float(m[1])), round(float(m[2]))


def pages(pdf: bytes, tmp: Path) -> int:
    return int(pdf_info(pdf, tmp)["Pages"])


def words_outside(pdf: bytes, tmp: Path, margin_mm: float) -> list[str]:
    """Words whose box leaves the page's text area (left/right/top margin, and the page's bottom).

    pdftotext's boxes reach the font's ascender, which Typst lets rise above the top margin (a line
    starts at its cap height), so the top edge allows for that."""
    out = subprocess.run(["pdftotext", "-bbox", str(_file(pdf, tmp)), "-"], capture_output=True, text=True)
    bad = []
    page = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
    word = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>')
    edge = margin_mm * MM - 2  # 2 pt for glyphs' side bearings
    for p in page.finditer(out.stdout):
        width, height = float(p[1]), float(p[2])
        for w in word.finditer(p[3]):
            x0, y0, x1, y1 = (float(w[i]) for i in range(1, 5))
            if x0 < edge or x1 > width - edge or y0 < edge - 0.3 * (y1 - y0) or y1 > height - 5 * MM:
                bad.append(w[5])
    return bad


def poster(**changes: object) -> PosterData:
    base = PosterData(
        kind="core-task",
        language="en",
        title="Our core task",
        team="Test team",
        sections=[PosterSection(id="s", heading="Items", items=[PosterItem(id="1", text="One short item")])],
    )
    return base.model_copy(update=changes)


# ------------------------------------------------------------------ every kind, every language


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_renders_with_all_its_text(kind: str, lang: str, tmp_path: Path) -> None:
    data = sample(kind, lang)  # type: ignore[arg-type]
    pdf = render(data)
    assert pdf.startswith(b"%PDF-")
    assert page_size(pdf, tmp_path) == (842, 1191)
    assert pages(pdf, tmp_path) == 1
    text = pdf_text(pdf, tmp_path)
    expected = [data.title, data.team, data.subtitle, data.footer, data.statement_heading]
    expected += [data.statement or "", data.follow_up or "", data.commitments_heading, data.heatmap_heading]
    for section in data.sections:
        expected.append(section.heading)
        for item in section.items:
            expected += [item.text, item.note or ""]
    for c in data.commitments:
        expected += [c.what, c.who, c.when]
    if data.commitments:
        expected += list(data.commitments_labels)
    if data.heatmap:
        expected += [*data.heatmap.units, data.heatmap.note or ""]
    for wanted in filter(None, expected):
        assert found(wanted, text), f"{wanted!r} is missing from the {kind} poster"
    assert not words_outside(pdf, tmp_path, 18)


def test_heatmap_values_use_the_languages_decimal_mark(tmp_path: Path) -> None:
    assert "3,1" in pdf_text(render(sample("coordination", "nb")), tmp_path)
    assert "3.1" in pdf_text(render(sample("coordination", "en")), tmp_path)


@pytest.mark.parametrize(
    ("paper", "orientation", "size"),
    [
        ("a3", "portrait", (842, 1191)),
        ("a3", "landscape", (1191, 842)),
        ("a4", "portrait", (595, 842)),
        ("a4", "landscape", (842, 595)),
    ],
)
def test_paper_sizes(paper: str, orientation: str, size: tuple[int, int], tmp_path: Path) -> None:
    data = sample("coordination", "en")
    pdf = render(data, paper=paper, orientation=orientation)  # type: ignore[arg-type]
    assert page_size(pdf, tmp_path) == size
    assert fit(data, paper=paper, orientation=orientation)["fits"]  # type: ignore[arg-type]
    text = pdf_text(pdf, tmp_path)
    assert data.title in text and all(c.what in text for c in data.commitments)
    assert not words_outside(pdf, tmp_path, 18 if paper == "a3" else 13)


# ------------------------------------------------------------------ fonts


def test_nordic_letters_survive_and_only_the_shipped_fonts_are_used(tmp_path: Path) -> None:
    letters = "æøåÆØÅäöÄÖ éü ÉÜ čđŋšŧž"
    data = poster(
        team=f"Team {letters}",
        statement=f"Statement {letters}",
        sections=[
            PosterSection(id="s", heading=f"Heading {letters}", items=[PosterItem(id="1", text=letters)])
        ],
        commitments=[Commitment(what=f"Hva {letters}", who="Åse Ødegård", when="Før påske")],
    )
    pdf = render(data)
    text = pdf_text(pdf, tmp_path)
    for wanted in (
        f"Team {letters}",
        f"Statement {letters}",
        f"Heading {letters}",
        "Åse Ødegård",
        "Før påske",
    ):
        assert wanted in text
    listing = subprocess.run(["pdffonts", str(_file(pdf, tmp_path))], capture_output=True, text=True).stdout
    names = [line.split()[0].split("+")[-1] for line in listing.splitlines()[2:]]
    assert names and all(name.startswith("NotoSans-") for name in names), names


def test_fonts_folder_is_small_and_licensed() -> None:
    files = sorted(p.name for p in FONTS_DIR.iterdir())
    assert "OFL.txt" in files
    font_files = [p for p in FONTS_DIR.iterdir() if p.suffix in (".ttf", ".otf")]
    assert 2 <= len(font_files) <= 4
    assert sum(p.stat().st_size for p in font_files) < 3_000_000
    assert fonts().families() == ["Noto Sans"]


# ------------------------------------------------------------------ text is data, never markup

HOSTILE = [
    '#read("/etc/passwd")',
    '#import "@preview/cetz:0.3.0": *',
    '#include "lib.typ" and #eval("1 + 1") and #sys.inputs',
    "[brackets] and #[content] and #{ 1 + 1 }",
    "$x^2 + y_1$ and $$",
    "# lonely hash, *bold*, _under_, `raw`, <label>, @ref",
    "back\\slash, \\#escaped, trailing \\",
    "= Heading, - list, + enum, / term: x, ~ tilde, -- dash --- and ... dots",
    "// not a comment /* nor this */ 'single' \"double\"",
    "#set page(width: 1pt) #show: none #pagebreak()",
]


def test_markup_in_answers_prints_literally_and_reads_no_file(tmp_path: Path) -> None:
    secret = f"SECRET-{uuid.uuid4().hex}"
    outside = tmp_path / "outside"
    outside.mkdir()
    marker = outside / "marker.txt"
    marker.write_text(secret)
    relative = os.path.relpath(marker, TEMPLATES_DIR)
    reads = [f'#read("{marker}")', f'#read("{relative}")', f'#include "{relative}"', f'#image("{marker}")']
    answers = HOSTILE + reads
    data = PosterData(
        kind="coordination",
        language="en",
        title=answers[0],
        team=answers[5],
        subtitle=reads[0],
        statement=" ".join(answers[:4]),
        statement_heading=answers[2],
        sections=[
            PosterSection(
                id=f"s{style}",
                heading=reads[1],
                style=style,
                items=[
                    PosterItem(id=str(i), text=a, note=reads[i % len(reads)]) for i, a in enumerate(answers)
                ],
            )
            for style in ("list", "cards", "quotes")
        ],
        heatmap=Heatmap(units=[answers[0], reads[1]], cells=[[None, 2.0], [4.0, None]], note=answers[4]),
        heatmap_heading=answers[3],
        commitments=[Commitment(what=a, who=reads[1], when=answers[6]) for a in answers],
        commitments_heading=answers[7],
        commitments_labels=(answers[8], answers[9], reads[2]),
        follow_up=reads[3],
        footer=answers[1],
    )
    pdf = render(data)
    text = pdf_text(pdf, tmp_path)
    squeezed = "".join(text.split())  # long paths wrap at their slashes
    for answer in answers:
        assert "".join(answer.split()) in squeezed, f"{answer!r} did not print as written"
    assert '#read("/etc/passwd")' in text
    assert secret not in text
    assert secret.encode() not in pdf
    assert "root:" not in text  # /etc/passwd
    assert page_size(pdf, tmp_path) == (842, 1191)  # "#set page(width: 1pt)" set nothing
    # The compiler's root holds nothing but the templates, and Typst keeps every read inside it.
    assert {p.suffix for p in TEMPLATES_DIR.iterdir()} == {".typ"}
    compiler = typst.Compiler(root=str(TEMPLATES_DIR), font_paths=fonts(), ignore_system_fonts=True)
    assert compiler.compile(input=b'#read("lib.typ")')  # a file inside the root can be read
    for source in (f'#read("{marker}")', f'#read("{relative}")'):
        with pytest.raises(typst.TypstError):
            compiler.compile(input=source.encode())


def test_control_characters_are_dropped(tmp_path: Path) -> None:
    data = poster(statement="before\x00\x07\u202eafter\r\nnext\tline")
    text = pdf_text(render(data), tmp_path)
    assert "beforeafter next line" in text


# ------------------------------------------------------------------ lots of content

WORDS = ["trust", "mastery", "hand-over", "continuity", "relatives", "report", "safety", "calm"]


def _items(prefix: str, n: int) -> list[PosterItem]:
    return [
        PosterItem(
            id=f"{prefix}{i}",
            text=f"{prefix}{i:03d} " + " ".join(WORDS[(i + j) % len(WORDS)] for j in range(3 + i % 9)),
            note=f"{i} dots" if i % 4 == 0 else None,
        )
        for i in range(n)
    ]


def test_a_small_poster_has_no_appendix(tmp_path: Path) -> None:
    data = poster()
    result = fit(data)
    assert result["size"] == 14 and result["pages"] == 1 and not result["appendix"]
    assert pages(render(data), tmp_path) == 1


def test_more_content_never_shrinks_the_type_it_goes_to_the_appendix(tmp_path: Path) -> None:
    many = _items("M", 40)
    data = poster(
        sections=[PosterSection(id="s", heading="Many", items=many, style="cards", cap=40)],
        appendix_heading="All the cards",
    )
    result = fit(data)
    assert result["size"] == 14 and result["fits"] and 0 < result["per-section"] < 40
    assert result["left-out"] == 40 - result["per-section"]
    pdf = render(data)
    page1 = sizes(pdf)
    assert not page1.below(11) and page1.median() >= 14 and page1.biggest("Many") >= 20
    page2 = " ".join(w for _s, w in sizes(pdf, 1).words)
    assert "All the cards" in page2
    text = pdf_text(pdf, tmp_path)
    assert all(found(item.text, text) for item in many)  # every card is in the PDF
    assert not words_outside(pdf, tmp_path, 18)


@pytest.mark.parametrize("paper", ["a3", "a4"])
def test_two_hundred_items_keep_page_one_and_the_appendix_holds_them_all(paper: str, tmp_path: Path) -> None:
    styles = ("cards", "list", "quotes", "cards")
    sections = [
        PosterSection(id=f"s{k}", heading=f"Section {k}", items=_items(f"S{k}X", 50), style=styles[k])
        for k in range(4)
    ]
    data = poster(statement="A short statement.", sections=sections)
    result = fit(data, paper=paper)  # type: ignore[arg-type]
    assert result["fits"] and result["appendix"] and result["per-section"] <= 8
    pdf = render(data, paper=paper)  # type: ignore[arg-type]
    assert pages(pdf, tmp_path) == result["pages"] >= 2
    text = pdf_text(pdf, tmp_path)
    missing = [item.text for s in sections for item in s.items if not found(item.text, text)]
    assert not missing, f"{len(missing)} items missing, e.g. {missing[:3]}"
    assert not words_outside(pdf, tmp_path, 18 if paper == "a3" else 13)
    if paper == "a3":
        assert not sizes(pdf).below(11) and sizes(pdf).median() >= 14


def test_overlong_words_break_inside_their_box(tmp_path: Path) -> None:
    url = "https://example.org/" + "x" * 150
    blob = "a" * 400
    data = poster(
        kind="coordination",
        team=url,
        statement=blob,
        sections=[
            PosterSection(
                id="c", heading="H" * 80, style="cards", items=[PosterItem(id="1", text=blob, note="n" * 90)]
            ),
            PosterSection(
                id="q", heading="Quotes", style="quotes", items=[PosterItem(id="1", text="b" * 300)]
            ),
        ],
        heatmap=Heatmap(
            units=["Kommunehelsetjenesteovergangsordningen", "B" * 60], cells=[[None, 3.0], [2.0, None]]
        ),
        commitments=[Commitment(what="w" * 200, who="v" * 90, when="2027-05-04T13:00:00+02:00/" * 3)],
    )
    for paper, margin in (("a3", 18), ("a4", 13)):
        pdf = render(data, paper=paper)  # type: ignore[arg-type]
        assert not words_outside(pdf, tmp_path, margin)
        squeezed = "".join(pdf_text(pdf, tmp_path).split())
        for wanted in (url, blob, "b" * 300, "w" * 200, "v" * 90, "B" * 60, "H" * 80, "n" * 90):
            assert wanted in squeezed


# ------------------------------------------------------------------ PNG, model, sample CLI


def _png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.mark.parametrize(("paper", "orientation", "ppi"), [("a3", "portrait", 72), ("a4", "landscape", 144)])
def test_png_is_the_first_page_at_the_asked_resolution(paper: str, orientation: str, ppi: int) -> None:
    points = {"a3": (841.89, 1190.55), "a4": (595.28, 841.89)}[paper]
    if orientation == "landscape":
        points = (points[1], points[0])
    png = render(sample("core-task", "nb"), paper=paper, orientation=orientation, fmt="png", ppi=ppi)  # type: ignore[arg-type]
    width, height = _png_size(png)
    assert abs(width - points[0] * ppi / 72) <= 1 and abs(height - points[1] * ppi / 72) <= 1


def test_png_of_a_long_poster_is_its_first_page() -> None:
    data = poster(sections=[PosterSection(id="s", heading="All", items=_items("P", 200))])
    assert _png_size(render(data, fmt="png", ppi=36)) == (421, 595)


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError):
        render(poster(), fmt="png", ppi=5000)
    with pytest.raises(ValueError):
        render(poster(), paper="a0")  # type: ignore[arg-type]


def test_heatmap_must_be_square_and_finite() -> None:
    with pytest.raises(ValidationError):
        Heatmap(units=["A", "B"], cells=[[1.0, 2.0]])
    with pytest.raises(ValidationError):
        Heatmap(units=["A"], cells=[[float("nan")]])
    Heatmap(units=["A", "B"], cells=[[None, 2.5], [None, None]])


def test_sample_command_writes_pdf_and_png(tmp_path: Path) -> None:
    assert main(["--kind", "lessons", "--lang", "nb", "--out", str(tmp_path / "l.pdf")]) == 0
    assert (tmp_path / "l.pdf").read_bytes().startswith(b"%PDF-")
    assert main(["--out-dir", str(tmp_path / "all"), "--ppi", "20"]) == 0
    made = sorted(p.name for p in (tmp_path / "all").iterdir())
    assert made == sorted(f"{k}-{lg}.png" for k in KINDS for lg in LANGS)
