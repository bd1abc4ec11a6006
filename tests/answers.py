"""Answers as a phone would give them: read the form the server sent, fill every field by the
field conventions of docs/exercises (text, word, value, item:*, dots:*, place:*, rate:*, ...)."""

from __future__ import annotations

import re

FORM = re.compile(r"<form data-answer.*?</form>", re.S)
FIELD = re.compile(r'<(input|textarea|select)\b[^>]*\bname="([^"]+)"[^>]*>', re.S)
HIDDEN_VALUE = re.compile(
    r'type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"|name="([^"]+)"[^>]*type="hidden"[^>]*value="([^"]*)"'
)
SKIP = {"step", "key", "csrf_token"}


def form_fields(phone_html: str) -> list[str]:
    """The names of the fields of the phone's answer form, in order, each once."""
    match = FORM.search(phone_html)
    if not match:
        return []
    names: list[str] = []
    for _, name in FIELD.findall(match.group(0)):
        if name not in SKIP and name not in names:
            names.append(name)
    return names


def fill(phone_html: str, i: int, card: int) -> dict[str, str] | None:
    """Plausible values for every field of the form, different per phone `i` and card; None when
    the screen has no answer form."""
    match = FORM.search(phone_html)
    if not match:
        return None
    form = match.group(0)
    hidden = {(a or c): (b or d) for a, b, c, d in HIDDEN_VALUE.findall(form)}
    names = form_fields(phone_html)
    places = [n for n in names if n.startswith("place:")]
    dots = [n for n in names if n.startswith("dots:")]
    values: dict[str, str] = {}
    for name in names:
        if name in hidden:
            values[name] = hidden[name]
        elif name == "text":
            values[name] = f"Card {card} from phone {i}: we kept the citizen in view ✓ æøå"
        elif name == "word":
            values[name] = ["Storm", "storm", "Teamwork", "Calm"][(i + card) % 4]
        elif name == "value" or name.startswith(("item:", "rate:")):
            values[name] = str((i + len(values)) % 5 + 1)
        elif name.startswith("dots:"):
            values[name] = "1" if dots.index(name) == i % len(dots) else "0"
        elif name.startswith("place:"):
            values[name] = str((places.index(name) + i) % len(places) + 1)
        elif name == "reaction":
            values[name] = "adjust" if i % 4 == 0 else "agree"
        elif name == "comment":
            values[name] = f"Say more about the citizen, phone {i}" if i % 4 == 0 else ""
        elif name == "what":
            values[name] = f"Share the hand-off list, card {card} of phone {i}"
        elif name == "who":
            values[name] = ["Day team", "Evening team", "Kari"][i % 3]
        elif name == "when":
            values[name] = "2027-02-15" if i % 2 else "next staff meeting"
        elif name == "decide":
            values[name] = "elsewhere" if i % 3 == 0 else "now"
        elif name == "where":
            values[name] = "the management meeting" if i % 3 == 0 else ""
        else:
            raise AssertionError(f"a phone does not know how to fill the field {name!r}")
    return values
