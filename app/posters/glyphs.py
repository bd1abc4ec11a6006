"""Which letters the poster fonts have: read from the regular font's own character map (the
TrueType `cmap` table, formats 4 and 12), so the posters page can say which letters of a poster
will print as empty boxes instead of leaving the tovholder to find out on the wall."""

from __future__ import annotations

import functools
import struct
from collections.abc import Iterable

from app.posters.render import FONTS_DIR

FONT = FONTS_DIR / "NotoSans-Regular.ttf"


def _format4(data: bytes, at: int) -> set[int]:
    segs = struct.unpack_from(">H", data, at + 6)[0] // 2
    ends = struct.unpack_from(f">{segs}H", data, at + 14)
    starts = struct.unpack_from(f">{segs}H", data, at + 16 + 2 * segs)
    deltas = struct.unpack_from(f">{segs}h", data, at + 16 + 4 * segs)
    offsets_at = at + 16 + 6 * segs
    offsets = struct.unpack_from(f">{segs}H", data, offsets_at)
    found: set[int] = set()
    for i, (start, end) in enumerate(zip(starts, ends, strict=True)):
        for code in range(start, end + 1):
            if code == 0xFFFF:
                continue
            if offsets[i] == 0:
                glyph = (code + deltas[i]) & 0xFFFF
            else:
                where = offsets_at + 2 * i + offsets[i] + 2 * (code - start)
                glyph = struct.unpack_from(">H", data, where)[0]
                glyph = (glyph + deltas[i]) & 0xFFFF if glyph else 0
            if glyph:
                found.add(code)
    return found


def _format12(data: bytes, at: int) -> set[int]:
    groups = struct.unpack_from(">I", data, at + 12)[0]
    found: set[int] = set()
    for g in range(groups):
        start, end, _glyph = struct.unpack_from(">III", data, at + 16 + 12 * g)
        found.update(range(start, end + 1))
    return found


@functools.cache
def covered() -> frozenset[int]:
    """The code points the poster font draws."""
    data = FONT.read_bytes()
    tables = struct.unpack_from(">H", data, 4)[0]
    cmap = next(
        struct.unpack_from(">I", data, 12 + 16 * i + 8)[0]
        for i in range(tables)
        if data[12 + 16 * i : 16 + 16 * i] == b"cmap"
    )
    count = struct.unpack_from(">H", data, cmap + 2)[0]
    found: set[int] = set()
    for i in range(count):
        platform, _encoding, offset = struct.unpack_from(">HHI", data, cmap + 4 + 8 * i)
        if platform not in (0, 3):
            continue
        fmt = struct.unpack_from(">H", data, cmap + offset)[0]
        if fmt == 4:
            found |= _format4(data, cmap + offset)
        elif fmt == 12:
            found |= _format12(data, cmap + offset)
    return frozenset(found)


def missing(*texts: str | None) -> set[str]:
    """The letters of these texts the poster font lacks (spaces and line breaks aside)."""
    have = covered()
    return {c for text in texts if text for c in text if not c.isspace() and ord(c) not in have}


def missing_in(strings: Iterable[str | None]) -> list[str]:
    """As `missing`, sorted, for a message."""
    return sorted(missing(*strings))
