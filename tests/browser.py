"""Fixtures for browser tests: Debian's Chromium driven by Playwright (never a downloaded browser),
and a watcher that records every JavaScript error, console error and dialog of every page.
A test module takes them with `pytest_plugins = ["tests.browser"]`."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, sync_playwright

from tests.harness import IN_CI, ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts" / "browser"


def require_chromium() -> None:
    """In CI a missing Chromium is a failure (`make browser-deps` installs it); elsewhere a skip."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return
    message = (
        f"{CHROMIUM} is missing: browser tests drive Debian's chromium and never download one. "
        "Install it with `make browser-deps` (apt-get install chromium)."
    )
    if IN_CI:
        pytest.fail(f"{message} CI must run the browser tests.", pytrace=False)
    pytest.skip(f"{message} CI is unset, so this test is skipped.")


@dataclass
class Watcher:
    """Every problem any watched page reported: uncaught exceptions, console errors, dialogs.
    A test that provokes an error on purpose (an answer the server refuses, which Chromium logs
    as a failed resource) announces it with `expect_error`; `unmet` lists the ones not seen."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    unmet: list[tuple[str, str]] = field(default_factory=list)  # (page name, text), each allowed once

    def expect_error(self, name: str, text: str) -> None:
        """One console error on page `name` whose report contains `text` is no failure."""
        self.unmet.append((name, text))

    def watch(self, page: Page, name: str) -> Page:
        def on_console(message: ConsoleMessage) -> None:
            if message.type != "error":
                return
            report = f"{message.text} @ {message.location}"
            for expected in self.unmet:
                if expected[0] == name and expected[1] in report:
                    self.unmet.remove(expected)
                    return
            self.errors.append(f"[{name}] console.error: {report}")

        def on_dialog(dialog: Dialog) -> None:
            self.dialogs.append(f"[{name}] {dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("pageerror", lambda exc: self.errors.append(f"[{name}] pageerror: {exc}"))
        page.on("console", on_console)
        page.on("dialog", on_dialog)
        return page


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """A headless Debian Chromium, one per test module: each test opens its own contexts
    (`chromium.new_context()`, its own cookies and storage) and closes them."""
    require_chromium()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go for a person to look at (gitignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    return ARTIFACTS


@pytest.fixture
def watcher() -> Watcher:
    return Watcher()


AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"  # axe-core 4.14.1 from npm (MPL-2.0)
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@functools.cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8") + "\n;0"


def axe_violations(page: Page, tags: list[str] | None = None) -> list[str]:
    """Run axe-core (vendored, injected from disk: no request leaves the test) on the page as it
    stands, against WCAG 2.1 A and AA by default. One line per violation and node, empty when clean."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the debugging protocol, so the page's CSP (no inline scripts) allows it.
        page.evaluate(_axe_source())
    result = page.evaluate(
        # resultTypes: only the violations are wanted, which spares axe most of its work on passes.
        "async (tags) => await axe.run(document, "
        "{runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        tags or WCAG_AA,
    )
    return [
        f"{v['id']} ({v['impact']}): {node['target']} {node.get('failureSummary', '')[:160]}"
        for v in result["violations"]
        for node in v["nodes"]
    ]
