"""The `tovholder` command: serve, migrate, check flows, accounts (add, password, logout-all), make
demo sessions, export, posters."""

from __future__ import annotations

import argparse
import gc
import getpass
import logging
import random
import sys
from pathlib import Path

from app.cli_posters import POSTER_KINDS, add_team_commands, cmd_poster, find_run
from app.config import ROOT, Settings


def _migrate(settings: Settings) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["database_url"] = settings.resolved_database_url
    command.upgrade(cfg, "head")


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = Settings()
    _migrate(settings)
    print(f"database is up to date: {_redact(settings.resolved_database_url)}")
    return 0


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_run(args: argparse.Namespace) -> int:
    import uvicorn

    settings = Settings()
    if args.migrate:
        _migrate(settings)
    from app.flows import FlowError

    try:
        from app.main import create_app

        app = create_app(settings)
    except FlowError as exc:
        print(f"A flow is broken; fix it and start again:\n{exc}", file=sys.stderr)
        return 2
    print(
        f"Tovholder serves on http://{settings.host}:{settings.port} "
        f"(phones join at {settings.resolved_public_url})",
        flush=True,
    )
    # X-Forwarded-* is believed only from the proxies TOVHOLDER_TRUSTED_PROXIES names; none by
    # default (uvicorn's own default believes any client on 127.0.0.1).
    trusted = [p.strip() for p in settings.trusted_proxies.split(",") if p.strip()]
    # What start-up made (flows, templates, catalogues) lives as long as the process: the garbage
    # collector need not walk it again, and collects less often under a room of sockets.
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        access_log=settings.access_log,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted,
    )
    return 0


def cmd_flows_check(args: argparse.Namespace) -> int:
    from app.flows import FlowError, load_flow, missing_translations
    from exercises import build_registry

    registry = build_registry()
    paths: list[Path] = []
    for raw in args.paths or [str(Settings().sessions_dir)]:
        path = Path(raw)
        paths.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    if not paths:
        print("no flow files found", file=sys.stderr)
        return 1
    failed = 0
    for path in paths:
        try:
            flow = load_flow(path, registry)
        except FlowError as exc:
            failed += 1
            for problem in exc.problems:
                print(f"error: {problem}", file=sys.stderr)
            continue
        missing = missing_translations(flow)
        for item in missing:
            print(f"warning: {path}: {item} (falls back to {flow.default_locale!r})", file=sys.stderr)
        print(
            f"ok: {path} ({flow.name}: {len(flow.steps)} steps, {flow.duration_minutes} min, "
            f"{', '.join(flow.locales)})"
        )
        if missing and args.strict:
            failed += 1
    if args.strict:
        failed += _check_words(paths, product=not args.paths)
    return 1 if failed else 0


def _check_words(paths: list[Path], *, product: bool) -> int:
    """The glossary's refused forms in the flows, and in the guide and catalogues when the
    shipped flows are checked; how many were found."""
    from app.glossary import GlossaryError, check_flow_file, check_product, load_glossary

    try:
        glossary = load_glossary()
    except (GlossaryError, OSError) as exc:
        print(f"error: cannot read the glossary: {exc}", file=sys.stderr)
        return 1
    findings = [f for path in paths for f in check_flow_file(glossary, path)]
    if product:
        findings.extend(check_product(glossary))
    for finding in findings:
        print(f"error: {finding}", file=sys.stderr)
    return len(findings)


def _password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("Password (at least 10 characters): ")
    if password != getpass.getpass("Again: "):
        print("the two passwords differ", file=sys.stderr)
        return None
    return password


def cmd_user_add(args: argparse.Namespace) -> int:
    from app.auth import AccountError, Accounts
    from app.db import make_engine

    settings = Settings()
    _migrate(settings)
    password = _password(args)
    if password is None:
        return 1
    engine = make_engine(settings.resolved_database_url)
    try:
        account = Accounts(engine).create(args.email, args.name or "", password)
    except AccountError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"account {account.email} created (id {account.id})")
    return 0


def cmd_user_logins(args: argparse.Namespace) -> int:
    """`user password` and `user logout-all`: either way every login of the account ends."""
    from app.auth import AccountError, Accounts
    from app.db import make_engine

    engine = make_engine(Settings().resolved_database_url)
    try:
        accounts = Accounts(engine)
        account = accounts.find(args.email)
        if account is None or account.id is None:
            print(f"no account with the email {args.email}", file=sys.stderr)
            return 1
        if args.user_command == "password":
            password = _password(args)
            if password is None:
                return 1
            accounts.change_password(account.id, password)
            print(f"new password for {account.email}; every login of it has ended")
        else:
            print(f"{accounts.end_all_logins(account.id)} logins of {account.email} ended")
    except AccountError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from app.demo import make_demo_run
    from app.flows import FlowError

    settings = Settings()
    _migrate(settings)
    try:
        run_id = make_demo_run(
            settings,
            args.flow,
            args.participants,
            random.Random(args.seed),
            locale=args.locale,
            owner_email=args.owner,
            units=args.units,
            team_name=args.team,
        )
    except (FlowError, ValueError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(run_id)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import OperationalError

    from app.db import make_engine
    from app.errors import Refusal
    from app.exports import Exports
    from app.runner import Runner, Silent
    from app.views import Reader
    from exercises import build_registry

    settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    registry = build_registry()
    # Only reads: no migration, and no flow files (a session exports its own copy of its flow).
    runner = Runner(engine, {}, registry, Silent(), settings.min_group_size)
    exports = Exports(engine, Reader(registry, settings.min_group_size))
    try:
        run = find_run(runner, args.run)
        body = exports.export(run.id or 0, args.format).encode("utf-8")
    except Refusal as exc:
        print(f"no session {args.run!r}: {exc}", file=sys.stderr)
        return 1
    except OperationalError as exc:
        print(f"cannot read the database ({exc.orig}); is it migrated? `tovholder migrate`", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    if args.out == "-":
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
    else:
        Path(args.out).write_bytes(body)
        print(f"{args.out}: {args.format} export of session {run.code} ({len(body)} bytes)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tovholder", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start the server (migrates the database first)")
    run.add_argument(
        "--no-migrate",
        dest="migrate",
        action="store_false",
        help="do not upgrade the database before starting",
    )
    run.set_defaults(func=cmd_run)

    migrate = sub.add_parser("migrate", help="upgrade the database to the newest schema")
    migrate.set_defaults(func=cmd_migrate)

    flows = sub.add_parser("flows", help="work with flow files")
    flows_sub = flows.add_subparsers(dest="flows_command", required=True)
    check = flows_sub.add_parser("check", help="validate flow files without starting the server")
    check.add_argument("paths", nargs="*", help="files or folders (default: the sessions folder)")
    check.add_argument(
        "--strict",
        action="store_true",
        help="also fail when a text lacks one of the flow's languages, or uses a form docs/glossary.md "
        "refuses (without paths, the guide and the catalogues are checked too)",
    )
    check.set_defaults(func=cmd_flows_check)

    user = sub.add_parser("user", help="tovholder accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="create an account")
    add.add_argument("email")
    add.add_argument("--name", help="the name shown on the dashboard")
    add.set_defaults(func=cmd_user_add)
    password = user_sub.add_parser("password", help="set a new password; every login of the account ends")
    password.add_argument("email")
    for takes_password in (add, password):
        takes_password.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of standard input",
        )
    password.set_defaults(func=cmd_user_logins)
    logout_all = user_sub.add_parser("logout-all", help="end every login of an account")
    logout_all.add_argument("email")
    logout_all.set_defaults(func=cmd_user_logins)

    demo = sub.add_parser("demo", help="create a finished session with simulated answers")
    demo.add_argument("--flow", required=True, help="the flow's name, e.g. reflection")
    demo.add_argument("--participants", type=int, default=30, help="how many phones (1-200)")
    demo.add_argument("--seed", type=int, default=None, help="makes the answers repeatable")
    demo.add_argument(
        "--units", type=int, default=0, help="units of the demo team (default: 3 when the flow uses units)"
    )
    demo.add_argument("--locale", default=None, help="the session's language (default: the flow's)")
    demo.add_argument(
        "--owner", default=None, help="the account's email that owns it (default: the first account)"
    )
    demo.add_argument(
        "--team",
        default=None,
        metavar="NAME",
        help="run it under the owner's team of this name (made if new)",
    )
    demo.set_defaults(func=cmd_demo)

    export = sub.add_parser("export", help="write a session's results as CSV, JSON or Markdown")
    export.add_argument("run", metavar="RUN", help="the session's id (as in its address) or its code")
    export.add_argument("--format", required=True, choices=("csv", "json", "md"), help="the file's format")
    export.add_argument("--out", default="-", metavar="FILE", help="where to write it; - is standard output")
    export.set_defaults(func=cmd_export)

    poster = sub.add_parser("poster", help="print a team's poster from a session as PDF or PNG")
    poster.add_argument("run", metavar="RUN", help="the session's id (as in its address) or its code")
    poster.add_argument("--kind", required=True, choices=POSTER_KINDS)
    poster.add_argument("--format", default="pdf", choices=("pdf", "png"), help="the file's format")
    poster.add_argument("--paper", default="a3", choices=("a3", "a4"))
    poster.add_argument("--orientation", default="portrait", choices=("portrait", "landscape"))
    poster.add_argument("--locale", default=None, help="the poster's language (default: as on its page)")
    poster.add_argument("--ppi", type=int, default=144, help="pixels per inch of a PNG (18-300)")
    poster.add_argument("--out", required=True, metavar="FILE", help="where to write it")
    poster.set_defaults(func=cmd_poster)
    add_team_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
