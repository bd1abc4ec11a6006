"""Docs stay honest: every registered exercise has a page in its folder, every command and option
of the `tovholder` command is in the README."""

from __future__ import annotations

import argparse

import pytest

from app.cli import build_parser
from exercises import build_registry
from tests.harness import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


REGISTRY = build_registry()


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_registered_exercise_has_a_docs_page_in_its_folder(name: str) -> None:
    page = ROOT / "exercises" / name / "README.md"
    assert REGISTRY[name].docs_page == page
    assert page.exists(), f"exercises/{name}/README.md is missing"
    text = page.read_text(encoding="utf-8")
    assert text.startswith(f"# {name}\n"), f"{page} should start with '# {name}'"


def test_no_exercise_page_is_left_outside_its_folder() -> None:
    stray = sorted(p.name for p in (ROOT / "docs" / "exercises").glob("*.md") if p.name != "README.md")
    assert not stray, f"docs/exercises/ holds pages of exercises; they belong in exercises/<name>/: {stray}"


def _commands(parser: argparse.ArgumentParser, prefix: str = "tovholder") -> list[tuple[str, list[str]]]:
    found: list[tuple[str, list[str]]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                options = [
                    opt
                    for a in sub._actions
                    for opt in a.option_strings
                    if opt.startswith("--") and opt != "--help"
                ]
                nested = _commands(sub, f"{prefix} {name}")
                found.extend(nested or [(f"{prefix} {name}", options)])
    return found


@pytest.mark.parametrize("command,options", _commands(build_parser()), ids=lambda c: str(c))
def test_every_cli_command_and_option_is_in_the_readme(command: str, options: list[str]) -> None:
    assert f"`{command}" in README, f"README.md does not document `{command}`"
    line = next(row for row in README.splitlines() if f"`{command}" in row)
    for option in options:
        assert option in line, f"README.md's row for `{command}` lacks {option}"
