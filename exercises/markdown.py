"""Markdown that a person's text cannot break: what an exercise's `markdown` hook writes with.
Every text goes through `md` (one line) or `md_item` (a list item); nothing a person wrote can
become a heading, a list, a link, an image, emphasis, code, a table cell or HTML."""

from __future__ import annotations

import re
from collections.abc import Sequence

from exercises.base import N_
from exercises.words import Words

_MD_SPECIAL = re.compile(r"([\\`*_\[\]{}#|~!])")
_MD_LINE_START = re.compile(r"^(?:([-+=])|(\d+)([.)]))")


def md_lines(value: str) -> list[str]:
    """A text's lines, each safe as Markdown text. Empty lines are dropped."""
    out = _MD_SPECIAL.sub(r"\\\1", value)
    out = out.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    lines = []
    for line in out.split("\n"):
        line = line.strip()
        if not line:
            continue
        match = _MD_LINE_START.match(line)
        if match and match.group(1):  # "- ", "+ ", "= " would start a list or underline a heading
            line = "\\" + line
        elif match:  # "1. " or "1) " would start a numbered list
            line = match.group(2) + "\\" + line[len(match.group(2)) :]
        lines.append(line)
    return lines


def md(value: str) -> str:
    """A text on one line (a heading, a table cell, a short list item)."""
    return " ".join(md_lines(value))


def md_item(value: str, indent: int = 2) -> str:
    """A text as a list item's content: its line breaks kept as hard breaks."""
    return ("\\\n" + " " * indent).join(md_lines(value))


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A table of cells that are already Markdown (pass texts through `md`)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def md_em(value: str) -> str:
    """Emphasis around a text of our own (a translated message), never a person's text."""
    return "*" + value + "*"


def no_answers(words: Words) -> list[str]:
    return [md_em(words.gettext(N_("No answers.")))]
