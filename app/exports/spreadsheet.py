"""The CSV export: one row per answer, for a spreadsheet (UTF-8 with BOM, CRLF, no formulas), and
a row per step that says how many answers the tovholder hid, with no participant."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from app.exports.answers import answer_text, own_results
from app.exports.session import SessionData, minute, rows
from exercises.words import compact_json

CSV_COLUMNS = (
    "session_code",
    "flow",
    "step_number",
    "step_id",
    "step_title",
    "exercise",
    "answer_seq",
    "participant",
    "unit",
    "answered_at",
    "answer",
    "answer_json",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: what could start a formula gets a leading quote."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _iso_minute(value: datetime) -> str:
    return minute(value).strftime("%Y-%m-%dT%H:%MZ")


def export_csv(data: SessionData) -> str:
    """One row per answer. The text starts with a BOM, so Excel reads it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    columns = [c for c in CSV_COLUMNS if c != "unit" or data.has_units]
    writer.writerow(columns)
    results = own_results(data)
    for row in rows(data):
        a, sv = row.answer, row.view
        cells = {
            "session_code": data.run.code,
            "flow": data.run.flow_name,
            "step_number": str(sv.index + 1) if sv else "",
            "step_id": a.step_id,
            "step_title": data.text(sv.step.title) if sv else "",
            "exercise": sv.exercise.name if sv else "",
            "answer_seq": str(a.seq),
            "participant": row.person.id,
            "unit": row.person.unit or "",
            "answered_at": _iso_minute(a.created_at),
            "answer": answer_text(data, row, results.get(a.step_id)),
            "answer_json": "{}" if row.withheld else compact_json(a.payload),
        }
        writer.writerow([csv_cell(cells[c]) for c in columns])
    # What the tovholder hid (or the word filter holds) is not in the rows: a row per such step
    # says how many, with no participant, so it is never counted as an answer.
    for sv in data.steps:
        hidden = sv.hidden_count + sv.held_count
        if not hidden:
            continue
        note = data.words.ngettext(
            "%(num)d answer hidden by the tovholder", "%(num)d answers hidden by the tovholder", hidden
        )
        cells = dict.fromkeys(columns, "")
        cells.update(
            session_code=data.run.code,
            flow=data.run.flow_name,
            step_number=str(sv.index + 1),
            step_id=sv.step.id,
            step_title=data.text(sv.step.title),
            exercise=sv.exercise.name,
            answer=note,
            answer_json="{}",
        )
        writer.writerow([csv_cell(cells[c]) for c in columns])
    return "\ufeff" + buffer.getvalue()
