"""Render a PosterData to PDF or PNG with Typst.

Safety: the poster's text reaches Typst only as data. It is serialised to one JSON string in
`sys.inputs` and decoded inside the template (`json(bytes(sys.inputs.poster))`); the templates show
each string with Typst's text functions, never evaluate it, so markup (`#read(..)`, `*bold*`,
`$math$`, `<label>`, `@ref`, backslashes) prints exactly as written. The compiler's root is the
templates folder, which holds nothing but the .typ files, and its fonts are only the ones shipped
in `fonts/` (no system fonts, no fonts built into Typst), so a poster looks the same everywhere.

`typst.compile` is a blocking call (a second or so for a full poster): call `render` from a worker
thread (e.g. `starlette.concurrency.run_in_threadpool`), not directly in an async handler.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any, Literal

import typst

from app.posters.model import PosterData

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
FONTS_DIR = PACKAGE_DIR / "fonts"
FONT_FAMILY = "Noto Sans"
INPUT_KEY = "poster"
FIT_LABEL = "<tovholder-fit>"
MAX_PPI = 300

Paper = Literal["a3", "a4"]
Orientation = Literal["portrait", "landscape"]
Format = Literal["pdf", "png"]

# C0 and C1 control characters except tab and newline, and the bidi embedding/override/isolate
# marks (U+202A-U+202E, U+2066-U+2069), which could make a printed answer read differently.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LANG = re.compile("[a-z]{2,3}")


class PosterError(RuntimeError):
    """Typst could not render the poster (a bug in a template, never the poster's text)."""


@functools.cache
def fonts() -> typst.Fonts:
    """Only the fonts shipped in fonts/: no system fonts and none of Typst's built-in ones."""
    return typst.Fonts(include_system_fonts=False, include_embedded_fonts=False, font_paths=[str(FONTS_DIR)])


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return _UNPRINTABLE.sub("", value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " "))
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def payload(data: PosterData, paper: Paper = "a3", orientation: Orientation = "portrait") -> str:
    """The JSON string the template reads from `sys.inputs`."""
    poster = _clean(data.model_dump(mode="json"))
    lang = data.language.strip().lower()
    poster["language"] = lang if _LANG.fullmatch(lang) else "en"
    return json.dumps(
        {"data": poster, "paper": paper, "orientation": orientation}, ensure_ascii=False, allow_nan=False
    )


def _check(paper: str, orientation: str) -> None:
    if paper not in ("a3", "a4"):
        raise ValueError(f"paper must be a3 or a4, not {paper!r}")
    if orientation not in ("portrait", "landscape"):
        raise ValueError(f"orientation must be portrait or landscape, not {orientation!r}")


def render(
    data: PosterData,
    *,
    paper: Paper = "a3",
    orientation: Orientation = "portrait",
    fmt: Format = "pdf",
    ppi: int = 144,
) -> bytes:
    """The poster as PDF bytes (every page) or PNG bytes (the first page only, at `ppi`).

    Content that does not fit one page at the smallest type size flows onto more pages; the PDF
    holds them all, the PNG is a preview of page 1.
    """
    _check(paper, orientation)
    if fmt not in ("pdf", "png"):
        raise ValueError(f"fmt must be pdf or png, not {fmt!r}")
    if fmt == "png" and not 18 <= ppi <= MAX_PPI:
        raise ValueError(f"ppi must be between 18 and {MAX_PPI}")
    entry = TEMPLATES_DIR / f"{data.kind}.typ"
    try:
        out = typst.compile(
            str(entry),
            root=str(TEMPLATES_DIR),
            font_paths=fonts(),
            ignore_system_fonts=True,
            format=fmt,
            ppi=float(ppi) if fmt == "png" else None,
            sys_inputs={INPUT_KEY: payload(data, paper, orientation)},
        )
    except typst.TypstError as exc:
        raise PosterError(
            f"typst could not render the {data.kind} poster: {exc.message}\n{exc.diagnostic}"
        ) from exc
    if isinstance(out, list):
        return out[0]
    return out


def fit(data: PosterData, *, paper: Paper = "a3", orientation: Orientation = "portrait") -> dict[str, Any]:
    """How page 1 was filled: `size` (body text, pt, fixed), `shown` (items of each section on
    page 1), `rows` (rows of the commitments table on page 1), `left-out` and `clipped` (what only
    the appendix holds in full), `appendix`, `fits` (page 1 is one page) and `pages`."""
    _check(paper, orientation)
    return _fit(data.kind, payload(data, paper, orientation))


@functools.lru_cache(maxsize=64)
def _fit(kind: str, inputs: str) -> dict[str, Any]:
    entry = TEMPLATES_DIR / f"{kind}.typ"
    raw = typst.query(
        str(entry),
        FIT_LABEL,
        field="value",
        one=True,
        format="json",
        root=str(TEMPLATES_DIR),
        font_paths=fonts(),
        ignore_system_fonts=True,
        sys_inputs={INPUT_KEY: inputs},
    )
    result: dict[str, Any] = json.loads(raw)
    return result
