"""Type sizes read back from a poster PDF with PyMuPDF: the size of every span on a page, in
points, as the PDF itself states it (not a bounding box's height)."""

from __future__ import annotations

from dataclasses import dataclass

import pymupdf

FOOTER_PT = 60  # the footer sits in the page's bottom 60 pt (its margin)


@dataclass
class Sizes:
    pages: int
    words: list[tuple[float, str]]  # (size, word) for every word above the footer on the page
    footer: list[tuple[float, str]]

    def below(self, pt: float) -> list[tuple[float, str]]:
        return [(size, word) for size, word in self.words if size < pt - 0.01]

    def median(self) -> float:
        """The word-weighted median size: half the words are at least this big."""
        sizes = sorted(size for size, _w in self.words)
        return sizes[len(sizes) // 2] if sizes else 0.0

    def biggest(self, words: str) -> float:
        """The size of the first span holding these words."""
        return max((size for size, word in self.words if word in words.split()), default=0.0)


def sizes(pdf: bytes, page: int = 0) -> Sizes:
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        p = doc[page]
        bottom = p.rect.height - FOOTER_PT
        words: list[tuple[float, str]] = []
        footer: list[tuple[float, str]] = []
        for block in p.get_text("dict")["blocks"]:
            for line in block.get("lines", []):
                for span in line["spans"]:
                    into = footer if span["bbox"][1] >= bottom else words
                    into += [(float(span["size"]), w) for w in span["text"].split()]
        return Sizes(pages=len(doc), words=words, footer=footer)
