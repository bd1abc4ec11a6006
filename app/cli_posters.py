"""`tovholder poster`: a team's poster from the command line, as the posters page prints it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.config import Settings

if TYPE_CHECKING:
    from app.models import Run
    from app.runner import Runner

POSTER_KINDS = ("core-task", "coordination", "lessons", "alliance", "safety")  # app.posters imports Typst


def _find_run(runner: Runner, raw: str) -> Run:
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
        run = _find_run(runner, args.run)
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
