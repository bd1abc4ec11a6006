"""A team's program, a service beside the runner: the sessions it held, its current core-task
statement, every commitment with its status history, its pulse items over time (a small SVG
chart drawn here, with the numbers beside it) and what is next. The team page (`/teams/{id}`)
and `tovholder team report` show the same content. Counts and medians only, never who answered;
a median of fewer than `min_group_size` people is left out."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app import i18n, team_record
from app.db import session_scope
from app.errors import NotFound
from app.flows import Flow
from app.models import Run, Team, utcnow
from app.posters.collect import NoSuchSession, collect
from app.program_text import markdown
from app.views import Reader
from exercises.base import N_, Exercise
from exercises.follow import STATUSES, Reading, TeamCommitment
from exercises.words import Words

# The shipped program, in order: what a team runs next when it has not run it yet.
PROGRAM = ("core-task-1", "core-task-2", "coordination-1", "coordination-2")
CHART_W, CHART_H, PAD = 560, 240, 36
COLOURS = ("#1f6f6b", "#2c5282", "#8a4b2a", "#5b3f8c", "#9a3b52", "#56636b", "#b7791f", "#2f855a")


@dataclass
class SessionRow:
    day: str  # as the page's language writes it
    iso: str
    flow: str  # the flow's title
    name: str  # the flow's name
    code: str


@dataclass
class Point:
    session: int  # index into the chart's sessions
    median: float
    count: int
    x: float = 0.0
    y: float = 0.0


@dataclass
class Series:
    id: str
    text: str
    colour: str
    points: list[Point] = field(default_factory=list)

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass
class Chart:
    sessions: list[str]  # x labels: the sessions with readings
    series: list[Series]
    scale_max: int = 5
    width: int = CHART_W
    height: int = CHART_H
    ticks: list[tuple[int, float]] = field(default_factory=list)  # (value, y)
    xs: list[float] = field(default_factory=list)


@dataclass
class TeamPage:
    team: Team
    sessions: list[SessionRow]
    statement: str | None
    commitments: list[TeamCommitment]
    counts: dict[str, int]
    chart: Chart
    next_meeting: str | None  # as the page's language writes it
    next_flow: str | None  # the name of the next flow of the program, if any is not run yet

    @property
    def start_now(self) -> list[TeamCommitment]:
        return [c for c in self.commitments if not c.where]

    @property
    def elsewhere(self) -> list[TeamCommitment]:
        return [c for c in self.commitments if c.where]


class Program:
    def __init__(self, engine: Engine, reader: Reader, min_group_size: int) -> None:
        self.engine = engine
        self.reader = reader
        self.min_group_size = min_group_size

    def page(self, team_id: int, owner_id: int | None, locale: str, *, check_owner: bool = True) -> TeamPage:
        """The team's program as its page shows it; NotFound for another tovholder's team."""
        words = i18n.words(locale)
        with session_scope(self.engine) as db:
            team = db.get(Team, team_id)
            if team is None or (check_owner and team.facilitator_id != owner_id):
                raise NotFound(N_("There is no such team."))
            runs = team_record.team_runs(db, team_id)
            sessions: list[SessionRow] = []
            next_meeting: date | None = None
            for run in runs:
                flow = Flow.model_validate(run.flow_snapshot)
                day = team_record.run_day(run)
                sessions.append(
                    SessionRow(
                        words.date(day, "medium"),
                        day.isoformat(),
                        words.text(flow.title),
                        flow.name,
                        run.code,
                    )
                )
                for index, step in enumerate(flow.steps):
                    exercise = self.reader.registry[step.exercise]
                    if step.off or type(exercise).next_meeting is Exercise.next_meeting:
                        continue
                    sv = self.reader.step_view(db, run, flow, index)
                    found = exercise.next_meeting(sv.settings, sv.result)
                    if found:
                        next_meeting = date.fromisoformat(found)
            commitments = team_record.commitments(self.reader, db, team_id, locale)
            readings = team_record.readings(self.reader, db, runs)
            team_copy = Team(
                id=team.id, name=team.name, units=list(team.units), facilitator_id=team.facilitator_id
            )
        statement = None
        if runs:
            try:
                statement = collect(
                    self.engine, self.reader, "core-task", team_id=team_id, locale=locale
                ).data.statement
            except NoSuchSession:
                statement = None
        counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
        for c in commitments:
            counts[c.status] += 1
        held = {s.name for s in sessions}
        upcoming = next_meeting if next_meeting and next_meeting >= utcnow().date() else None
        return TeamPage(
            team=team_copy,
            sessions=sessions,
            statement=statement,
            commitments=commitments,
            counts=counts,
            chart=self._chart(readings, words),
            next_meeting=words.date(upcoming, "full") if upcoming else None,
            next_flow=next((f for f in PROGRAM if f not in held), "check-in" if runs else PROGRAM[0]),
        )

    def _chart(self, readings: list[tuple[Run, Reading]], words: Words) -> Chart:
        shown = [(run, r) for run, r in readings if r.count >= self.min_group_size]
        run_ids: list[int] = []
        for run, _r in shown:
            if run.id not in run_ids:
                run_ids.append(run.id or 0)
        days = {run.id: words.date(team_record.run_day(run), "medium") for run, _r in shown}
        scale_max = max((r.scale_max for _run, r in shown), default=5)
        chart = Chart(sessions=[days[i] for i in run_ids], series=[], scale_max=scale_max)
        inner_w, inner_h = CHART_W - 2 * PAD, CHART_H - 2 * PAD
        n = len(run_ids)
        chart.xs = [PAD + (inner_w * i / (n - 1) if n > 1 else inner_w / 2) for i in range(n)]
        chart.ticks = [
            (v, PAD + inner_h * (scale_max - v) / (scale_max - 1)) for v in range(1, scale_max + 1)
        ]
        by_id: dict[str, Series] = {}
        for run, r in shown:
            series = by_id.get(r.id)
            if series is None:
                colour = COLOURS[len(by_id) % len(COLOURS)]
                series = by_id[r.id] = Series(id=r.id, text=words.text(r.text), colour=colour)
            i = run_ids.index(run.id or 0)
            y = PAD + inner_h * (scale_max - r.median) / (scale_max - 1)
            series.points.append(Point(session=i, median=r.median, count=r.count, x=chart.xs[i], y=y))
        chart.series = list(by_id.values())
        return chart

    def team_id(self, ref: str) -> int:
        """A team by its id or its exact name (the first of that name); NotFound if none."""
        with session_scope(self.engine) as db:
            if ref.strip().isdigit():
                team = db.get(Team, int(ref))
            else:
                team = db.exec(select(Team).where(Team.name == ref.strip()).order_by(col(Team.id))).first()
        if team is None or team.id is None:
            raise NotFound(N_("There is no such team."))
        return team.id

    def report(self, team_id: int, fmt: str, locale: str = "en") -> str:
        """The team page's content as Markdown or JSON (for `tovholder team report`)."""
        p = self.page(team_id, None, locale, check_owner=False)
        data = {
            "team": p.team.name,
            "sessions": [
                {"date": s.iso, "flow": s.name, "title": s.flow, "code": s.code} for s in p.sessions
            ],
            "core_task_statement": p.statement,
            "team_commitments": [
                {
                    "what": c.what,
                    "who": c.who,
                    "when": c.when,
                    "where_decided": c.where or None,
                    "session": c.session,
                    "status": c.status,
                    "owner": c.owner or None,
                    "due": c.due or None,
                    "history": [asdict(m) for m in c.history],
                }
                for c in p.commitments
            ],
            "pulse": [
                {
                    "id": s.id,
                    "text": s.text,
                    "points": [
                        {"session": p.chart.sessions[x.session], "median": x.median, "count": x.count}
                        for x in s.points
                    ],
                }
                for s in p.chart.series
            ],
            "next": {"meeting": p.next_meeting, "flow": p.next_flow},
        }
        if fmt == "json":
            return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        if fmt != "md":
            raise ValueError(f"format must be md or json, not {fmt!r}")
        return markdown(p, i18n.words(locale))
