"""Join codes as people type them: from a shared screen, on any keyboard, or pasted as a link.

A code uses only letters and digits that do not look alike (`CODE_ALPHABET` in the runner), so a
forgiving reading cannot turn one code into another: it drops spaces, dashes and dots, ignores
case, reads full-width characters as ordinary ones, takes Cyrillic and Greek letters that look like
Latin ones as those, and takes the code from the end of a pasted join link."""

from __future__ import annotations

import unicodedata

# Capitals that look like Latin ones on a screen, from a Cyrillic or Greek keyboard.
_LOOK_ALIKES = str.maketrans(
    {
        **dict(zip("АВЕКМНОРСТУХ", "ABEKMHOPCTYX", strict=True)),
        **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX", strict=True)),
    }
)
# Characters a code never contains, because they look like others.
NEVER_IN_A_CODE = "BGILOQSVZ012568"


def normalise_code(raw: str) -> str:
    """The code in a typed or pasted text: "abc 123", "ABC-123" and ".../j/ABC123" are "ABC123"."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if "/j/" in text:
        text = text.rsplit("/j/", 1)[1].split("?", 1)[0]
    text = text.upper().translate(_LOOK_ALIKES)
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())


def look_alikes_in(code: str) -> str:
    """The characters of a normalised code that no code has, in the order typed, once each."""
    return "".join(dict.fromkeys(ch for ch in code if ch in NEVER_IN_A_CODE))
