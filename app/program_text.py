"""The team page's content as Markdown, for `tovholder team report --format md`. A person's text
goes through exercises.markdown, so it stays inert."""

from __future__ import annotations

from typing import TYPE_CHECKING

from exercises.base import N_
from exercises.markdown import md, md_table
from exercises.words import Words

if TYPE_CHECKING:
    from app.program import TeamPage

STATUS_NAMES = {"open": N_("open"), "started": N_("started"), "done": N_("done"), "stuck": N_("stuck")}


def markdown(p: TeamPage, words: Words) -> str:
    _ = words.gettext
    lines = [f"# {md(p.team.name)}", ""]
    lines += [f"## {_(N_('Sessions held'))}", ""]
    lines += [f"- {s.day}: {md(s.flow)} ({s.code})" for s in p.sessions] or [_(N_("No sessions yet."))]
    if p.statement:
        lines += ["", f"## {_(N_('Our core task'))}", "", md(p.statement)]
    for heading, items in (
        (N_("We start now"), p.start_now),
        (N_("Needs a decision in another forum"), p.elsewhere),
    ):
        if not items:
            continue
        lines += ["", f"## {_(heading)}", ""]
        rows = []
        for c in items:
            history = "; ".join(f"{m.at[:10]} {_(STATUS_NAMES[m.status])}" for m in c.history)
            who = c.owner or c.who
            when = c.due or c.when
            row = [md(c.what), md(who), md(when), _(STATUS_NAMES[c.status]), md(history), md(c.session)]
            rows.append(row + ([md(c.where)] if c.where else []))
        header = [
            _(N_("What")),
            _(N_("Who")),
            _(N_("When")),
            _(N_("Status")),
            _(N_("History")),
            _(N_("Session")),
        ]
        lines += md_table(header + ([_(N_("Where it is decided"))] if items[0].where else []), rows)
    if not p.commitments:
        lines += ["", _(N_("No commitments yet."))]
    if p.chart.series:
        lines += ["", f"## {_(N_('Pulse over time'))}", ""]
        rows = []
        for s in p.chart.series:
            cells = [""] * len(p.chart.sessions)
            for x in s.points:
                cells[x.session] = words.number(x.median, 1)
            rows.append([md(s.text), *cells])
        lines += md_table([_(N_("Item")), *p.chart.sessions], rows)
    lines += ["", f"## {_(N_('What is next'))}", ""]
    if p.next_meeting:
        lines.append("- " + _(N_("Follow-up meeting: %(date)s"), date=p.next_meeting))
    if p.next_flow:
        lines.append("- " + _(N_("Next session: %(flow)s"), flow=p.next_flow))
    open_ = p.counts.get("open", 0) + p.counts.get("started", 0) + p.counts.get("stuck", 0)
    lines.append(
        "- " + words.ngettext("%(num)d commitment is not done", "%(num)d commitments are not done", open_)
    )
    return "\n".join(lines) + "\n"
