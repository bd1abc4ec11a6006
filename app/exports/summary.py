"""The Markdown export: a readable summary of every step that collects answers, each step's
results in its exercise's own words (its `markdown` hook)."""

from __future__ import annotations

import json
import re
from typing import Any

from app.exports.answers import own_result
from app.exports.session import SessionData, aware, scrub
from app.flows import Step
from app.views import StepView
from exercises.base import N_, ResultMismatch
from exercises.markdown import md, md_em, md_lines


def _fenced(value: Any) -> list[str]:
    text = json.dumps(value, indent=2, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "json", text, fence]


def step_results(data: SessionData, sv: StepView) -> list[str]:
    """The step's results: its exercise's Markdown, or its result as JSON (anonymised) where the
    exercise writes none; a note where answers or the result do not fit the exercise."""
    words = data.words
    lines: list[str] = []
    left_out = sum(1 for u in data.unreadable.values() if u.step_id == sv.step.id)
    if left_out:
        note = words.gettext(N_("Answers left out, as they do not fit this step: %(num)d"), num=left_out)
        lines += [md_em(note), ""]
    hidden = sv.hidden_count + sv.held_count
    if hidden:
        note = words.ngettext(
            "%(num)d answer hidden by the tovholder", "%(num)d answers hidden by the tovholder", hidden
        )
        lines += [md_em(note), ""]
    result = own_result(data, sv)
    if isinstance(result, ResultMismatch):
        reason = md(str(result))
        return [
            *lines,
            md_em(words.gettext(N_("These results could not be written: %(reason)s"), reason=reason)),
        ]
    own = sv.exercise.markdown(sv.settings, result, words)
    return lines + (
        own if own is not None else _fenced(scrub(result.model_dump(mode="json"), data.public_ids))
    )


def _shown_in_summary(sv: StepView) -> bool:
    return sv.exercise.collects_answers and not (sv.step.off and sv.answer_count == 0)


def _prompt(step: Step, data: SessionData) -> list[str]:
    """The step's prompt as a quote, and an empty line after it; nothing without a prompt."""
    quoted = ["> " + line for line in md_lines(data.text(step.prompt))] if step.prompt else []
    return [*quoted, ""] if quoted else []


def export_markdown(data: SessionData) -> str:
    run, _ = data.run, data.words.gettext
    when = aware(run.started_at or run.created_at).date().isoformat()
    facts = [
        _(N_("Session %(code)s"), code=run.code),
        when,
        _(N_("Participants: %(num)d"), num=len(data.people)),
    ]
    if data.team is not None:
        facts.append(_(N_("Team: %(name)s"), name=md(data.team.name)))
    lines = ["# " + md(data.text(data.flow.title)), "", " · ".join(facts), ""]
    for sv in data.steps:
        if not _shown_in_summary(sv):
            continue
        lines += [f"## {sv.index + 1}. {md(data.text(sv.step.title))}", ""]
        lines += _prompt(sv.step, data)
        lines += [md_em(_(N_("Answers: %(num)d"), num=sv.answer_count)), ""]
        lines += step_results(data, sv)
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
