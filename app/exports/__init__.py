"""The exports: what the team takes home from a session, a service beside the runner.

- session.py: the session read in one go through the Reader, its people as anonymous ids;
- answers.py: an answer's text and a step's results in its exercise's own words (its hooks);
- spreadsheet.py: CSV, one row per answer, for a spreadsheet (UTF-8 with BOM, CRLF, no formulas);
- document.py: JSON, the whole session as `SessionExport` (schema in docs/export-schema.json);
- summary.py: Markdown, a readable summary of every step that collects answers.

Regenerate the schema file with `uv run python -m app.exports`."""

from __future__ import annotations

import re

from sqlalchemy.engine import Engine

from app.exports.document import export_json
from app.exports.session import SessionData, load_session
from app.exports.spreadsheet import export_csv
from app.exports.summary import export_markdown
from app.models import Run
from app.views import Reader

FORMATS = ("csv", "json", "md")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
}


def render(data: SessionData, fmt: str) -> str:
    """A session in one of FORMATS, as text (encode it as UTF-8)."""
    if fmt == "csv":
        return export_csv(data)
    if fmt == "json":
        return export_json(data)
    if fmt == "md":
        return export_markdown(data)
    raise ValueError(f"unknown export format {fmt!r} (known: {', '.join(FORMATS)})")


class Exports:
    """Reads a session through the Reader and writes it out in one of FORMATS."""

    def __init__(self, engine: Engine, reader: Reader) -> None:
        self.engine = engine
        self.reader = reader

    def load(self, run_id: int) -> SessionData:
        return load_session(self.engine, self.reader, run_id)

    def export(self, run_id: int, fmt: str) -> str:
        if fmt not in FORMATS:
            raise ValueError(f"unknown export format {fmt!r} (known: {', '.join(FORMATS)})")
        return render(self.load(run_id), fmt)


def filename(run: Run, fmt: str) -> str:
    """`reflection-ABC123.csv`: the flow's name and the session's code."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", run.flow_name).strip("-") or "session"
    return f"{name}-{run.code}.{fmt}"


__all__ = ["FORMATS", "MEDIA_TYPES", "Exports", "SessionData", "filename", "render"]
