"""`tovholder poster` (a team's poster, as the posters page prints it) and `tovholder team report`
(the team page's content as Markdown or JSON)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.config import Settings

if TYPE_CHECKING:
    from app.models import Run
    from app.runner import Runner

# Spelt out here, as importing app.posters would load Typst for every command.
POSTER_KINDS = ("core-task", "coordination", "lessons", "alliance", "safety", "leadership")


def find_run(runner: Runner, raw: str) -> Run:
    """A session by its id (as in its address) or its join code."""
    raw = raw.strip()
    return runner.get_run(int(raw)) if raw.isdigit() else runner.run_by_code(raw)


def cmd_poster(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import OperationalError

    from app.db import make_engine
    from app.errors import Refusal
    from app.posters.build import Posters
    from app.posters.collect import NoSuchSession, poster_locale
    from app.runner import Runner, Silent
    from app.views import Reader
    from exercises import build_registry

    settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    registry = build_registry()
    runner = Runner(engine, {}, registry, Silent(), settings.min_group_size)
    posters = Posters(engine, Reader(registry, settings.min_group_size))
    if args.locale is not None and poster_locale(args.locale, "") != args.locale:
        print(f"--locale is one of en, nb, nn, da, sv, not {args.locale!r}", file=sys.stderr)
        return 1
    try:
        run = find_run(runner, args.run)
        if args.kind not in posters.kinds(run.id or 0):
            print(f"no step of session {run.code} or its team feeds a {args.kind} poster", file=sys.stderr)
            return 1
        body = posters.file(
            run.id or 0,
            args.kind,
            locale=args.locale,
            paper=args.paper,
            orientation=args.orientation,
            fmt=args.format,
            ppi=args.ppi,
        )
    except (Refusal, NoSuchSession) as exc:
        print(f"no session {args.run!r}: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except OperationalError as exc:
        print(f"cannot read the database ({exc.orig}); is it migrated? `tovholder migrate`", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    Path(args.out).write_bytes(body)
    what = f"{args.paper} {args.orientation} {args.format}"
    print(f"{args.out}: {args.kind} poster of session {run.code}, {what} ({len(body)} bytes)")
    return 0


def cmd_team_report(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import OperationalError

    from app.db import make_engine
    from app.errors import NotFound
    from app.program import Program
    from app.views import Reader
    from exercises import build_registry

    settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    program = Program(engine, Reader(build_registry(), settings.min_group_size), settings.min_group_size)
    try:
        body = program.report(program.team_id(args.team), args.format, args.locale)
    except NotFound:
        print(f"no team {args.team!r} (give its id or its exact name)", file=sys.stderr)
        return 1
    except OperationalError as exc:
        print(f"cannot read the database ({exc.orig}); is it migrated? `tovholder migrate`", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    if args.out in (None, "-"):
        sys.stdout.write(body)
    else:
        Path(args.out).write_text(body, encoding="utf-8")
        print(f"{args.out}: {args.format} report of team {args.team} ({len(body.encode())} bytes)")
    return 0


def add_team_commands(sub: Any) -> None:
    team = sub.add_parser("team", help="a team's program")
    commands = team.add_subparsers(dest="team_command", required=True)
    report = commands.add_parser("report", help="the team page as Markdown or JSON")
    report.add_argument("team", metavar="TEAM", help="the team's id or its exact name")
    report.add_argument("--format", default="md", choices=("md", "json"), help="the report's format")
    report.add_argument("--locale", default="en", choices=("en", "nb", "nn", "da", "sv"), help="its language")
    report.add_argument(
        "--out", default=None, metavar="FILE", help="where to write it (default: standard output)"
    )
    report.set_defaults(func=cmd_team_report)
