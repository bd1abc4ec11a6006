"""docs/glossary.md is enforced: `tovholder flows check --strict` fails on a refused word form in
a flow, the guide or a catalogue, naming the file and the line, and passes on what ships."""

from __future__ import annotations

import io
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from app.cli import main
from app.glossary import (
    FLOWS_AND_GUIDE,
    GlossaryError,
    check_catalogue,
    check_flow_file,
    check_page,
    load_glossary,
    parse_glossary,
)
from tests.harness import ROOT

GLOSSARY = load_glossary()


def run_cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def test_the_glossary_has_a_form_for_every_word_in_every_language() -> None:
    text = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    for word in ("session", "tovholder", "participant", "card", "poster", "unit", "console", "commitment"):
        assert f"| {word}" in text, f"the glossary has no row for {word}"
    refused = {(r.locale, r.variant) for r in GLOSSARY.refusals}
    for expected in [
        ("nb", "konsollen"),
        ("nn", "tovholderen"),
        ("nn", "saksgjevaren"),
        ("nn", "velkommen"),
        ("nn", "lovnadene"),
        ("nb", "økta"),
        ("nb", "saksgiveren"),
        ("da", "planche"),
        ("da", "sagsejeren"),
        ("sv", "tovholdern"),
        ("sv", "fallägaren"),
        ("sv", "medborgaren"),
        ("nb", "logge inn"),
        ("nn", "loggar inn"),
        ("da", "logger på"),
    ]:
        assert expected in refused, f"the glossary does not refuse {expected}"


@pytest.mark.parametrize(
    ("locale", "text", "found"),
    [
        ("nb", "Trykk på konsollen nå.", ["konsollen"]),
        ("nb", "Trykk på Konsollen nå.", ["Konsollen"]),  # case does not matter
        ("nn", "Tovholderen les opp.", ["Tovholderen"]),
        ("nn", "Sjå enhetsleiaren.", []),  # a refused word inside a longer word is not looked at
        ("nn", "Laga med Tovholder · i dag", []),  # kept as written: the product's name
        ("nn", "Ein tovholder les.", ["tovholder"]),
        ("sv", "Gjord med Tovholder", []),
        ("da", "Deltagerne logger  på nu.", ["logger  på"]),  # a phrase across any white space
        ("da", "Resultatet er steget.", []),  # Danish "risen", not the Norwegian step
        ("en", "Participants log in with the code.", ["log in"]),
        ("sv", "Medborgaren vi är till för", ["Medborgaren"]),
    ],
)
def test_refused_forms_are_found_as_whole_words_and_phrases(locale: str, text: str, found: list[str]) -> None:
    assert [f for _, f in GLOSSARY.check(text, locale, FLOWS_AND_GUIDE)] == found


def test_the_login_words_are_allowed_on_the_tovholders_own_screens() -> None:
    # "join" refusals hold in flows and the guide; the catalogue's login button may say log in.
    assert GLOSSARY.check("Log in", "en", "everywhere") == []
    assert GLOSSARY.check("participants log in", "en", FLOWS_AND_GUIDE)


def test_a_malformed_glossary_is_an_error() -> None:
    with pytest.raises(GlossaryError, match="lacks"):
        parse_glossary("| word | where | en |\n| --- | --- | --- |\n| x | everywhere | y ~~z~~ |\n")
    with pytest.raises(GlossaryError, match="where is one of"):
        parse_glossary(
            "| word | where | en | nb | nn | da | sv |\n|---|---|---|---|---|---|---|\n"
            "| x | sometimes | a | b ~~c~~ | d | e | f |\n"
        )
    with pytest.raises(GlossaryError, match="no refused forms"):
        parse_glossary("# nothing here\n")


def _variant_flow(tmp_path: Path) -> Path:
    """The shipped reflection flow with one refused form in a nynorsk note, on a known line."""
    source = (ROOT / "sessions" / "reflection.yaml").read_text(encoding="utf-8")
    lines = source.splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip().startswith("Sei høgt kven"))
    lines[index] = lines[index].replace("Sei høgt kven", "Tovholderen seier høgt kven")
    path = tmp_path / "reflection.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_flow_with_a_refused_form_names_file_and_line(tmp_path: Path) -> None:
    path = _variant_flow(tmp_path)
    line = next(i for i, s in enumerate(path.read_text().splitlines(), 1) if "Tovholderen seier" in s)
    findings = check_flow_file(GLOSSARY, path)
    assert [(f.line, f.found) for f in findings] == [(line, "Tovholderen")]
    assert f"{path}:{line}: nn: 'tovholderen' is refused" in str(findings[0])
    assert "write tovhaldar, tovhaldaren" in str(findings[0])


def test_flows_check_strict_fails_on_the_variant_and_passes_without_strict(tmp_path: Path) -> None:
    path = _variant_flow(tmp_path)
    code, _out, err = run_cli("flows", "check", "--strict", str(path))
    assert code == 1
    assert "error: " in err and "'tovholderen' is refused by docs/glossary.md" in err and str(path) in err
    assert run_cli("flows", "check", str(path))[0] == 0  # the glossary binds in strict mode


def test_the_demo_answers_are_checked_too(tmp_path: Path) -> None:
    source = (ROOT / "sessions" / "reflection-short.yaml").read_text(encoding="utf-8")
    path = tmp_path / "reflection-short.yaml"
    path.write_text(
        source.replace('- "Følge opp denne lista |', '- "Følgje opp planchen |', 1), encoding="utf-8"
    )
    assert check_flow_file(GLOSSARY, path) == []  # planche is refused in Danish only
    shutil.copy(ROOT / "sessions" / "reflection-short.yaml", path)
    text = path.read_text(encoding="utf-8").replace("| samtalsledare |", "| tovholdern |", 1)
    path.write_text(text, encoding="utf-8")
    assert [f.found for f in check_flow_file(GLOSSARY, path)] == ["tovholdern"]


def test_pages_skip_code_and_catalogues_check_translations_only(tmp_path: Path) -> None:
    page = tmp_path / "guide_nn.html"
    page.write_text(
        "<p>Køyr <code>uv run tovholder demo</code>.</p>\n<p>Tovholderen opnar.</p>\n", encoding="utf-8"
    )
    assert [(f.line, f.found) for f in check_page(GLOSSARY, page, "nn")] == [(2, "Tovholderen")]
    po = tmp_path / "messages.po"
    po.write_text(
        'msgid "The console"\nmsgstr ""\n"Konsollen "\n"er her"\n\n'
        'msgid "konsollen"\nmsgstr "Kontrollpanelet"\n',
        encoding="utf-8",
    )
    assert [(f.line, f.found) for f in check_catalogue(GLOSSARY, po, "nb")] == [(3, "Konsollen")]


def test_the_shipped_flows_guide_pages_and_catalogues_pass() -> None:
    code, out, err = run_cli("flows", "check", "--strict")
    assert code == 0, err
    assert "error" not in err
    assert out.count("ok: ") == len(list((ROOT / "sessions").glob("*.yaml")))
