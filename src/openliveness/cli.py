"""The `openliveness` command: serve the API, migrate the database, manage API keys."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def _settings(args: argparse.Namespace) -> object:
    from openliveness.settings import Settings

    overrides = {k: v for k, v in (("host", getattr(args, "host", None)), ("port", getattr(args, "port", None))) if v}
    return Settings(**overrides)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from openliveness.logs import log_config
    from openliveness.settings import Settings

    settings = _settings(args)
    assert isinstance(settings, Settings)
    problem = settings.shared_secret_problem(workers=args.workers)
    if problem:
        print(f"openliveness: set OPENLIVENESS_TOKEN_SECRET (at least 32 characters): {problem}", file=sys.stderr)
        return 2
    print(f"OpenLiveness serving on http://{settings.host}:{settings.port}  (docs at /docs)", flush=True)
    print(f"data directory: {settings.data_dir}", flush=True)
    print("create an API key with: openliveness keys create", flush=True)
    options: dict[str, object] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": log_config(settings.log_format, args.log_level),
        "log_level": args.log_level,
        "access_log": False,  # ours (openliveness.access) carries the request id and no query strings
        # The client address for limits comes from Settings.trusted_proxies (api/client_address.py), never
        # from headers uvicorn would believe on its own.
        "proxy_headers": False,
        "timeout_graceful_shutdown": settings.shutdown_grace_seconds,
    }
    if args.workers > 1:
        # Each worker builds its own app from the environment (the factory reads Settings()); they write
        # their metrics to one folder so that any worker's /metrics reports them all.
        made = None
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            made = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="openliveness-metrics-")
        try:
            uvicorn.run("openliveness.api.app:create_app", factory=True, workers=args.workers, **options)  # type: ignore[arg-type]
        finally:
            if made:
                shutil.rmtree(made, ignore_errors=True)
    else:
        from openliveness.api import create_app

        uvicorn.run(create_app(settings), **options)  # type: ignore[arg-type]
    return 0


async def _with_store(action: str, args: argparse.Namespace) -> int:
    from openliveness.sessions import ApiKeyService
    from openliveness.settings import Settings
    from openliveness.store import open_store

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = await open_store(
        settings.effective_database_url,
        migrate=settings.auto_migrate or action == "migrate",
        wait_seconds=settings.database_wait_seconds,
    )
    try:
        keys = ApiKeyService(store)
        if action == "purge":
            from datetime import UTC, datetime

            from openliveness.services import build_recorder, build_retention

            retention = build_retention(settings, store, build_recorder(settings), lambda: datetime.now(UTC))
            report = await retention.purge()
            print(f"removed {report.sessions} expired sessions, {report.recordings} recordings", end="")
            print(f", {report.counters} rate-limit counters")
        elif action == "migrate":
            print("database is at the newest schema")
        elif action == "create":
            new = await keys.create(args.name)
            print(f"created key {new.record.id} ({new.record.name}); it is shown only now:", file=sys.stderr)
            print(new.key)
        elif action == "list":
            records = await keys.list()
            if not records:
                print("no API keys; create one with: openliveness keys create", file=sys.stderr)
            for r in records:
                state = f"revoked {r.revoked_at.isoformat()}" if r.revoked_at else "active"
                print(f"{r.id}\t{r.name}\t{r.created_at.isoformat()}\t{state}")
        elif action == "revoke":
            if not await keys.revoke(args.key_id):
                print(f"no active key with id {args.key_id}", file=sys.stderr)
                return 1
            print(f"revoked {args.key_id}")
        return 0
    finally:
        await store.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="openliveness", description="Self-hosted face liveness service.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API server (SQLite in the data directory by default)")
    serve.add_argument("--host", help="interface to bind (default 127.0.0.1, or OPENLIVENESS_HOST)")
    serve.add_argument("--port", type=int, help="port (default 8000, or OPENLIVENESS_PORT)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (share one database)")
    serve.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])

    commands.add_parser("migrate", help="bring the database schema to the newest version")
    commands.add_parser(
        "purge", help="remove expired sessions with everything they own, now (servers also do it on schedule)"
    )
    commands.add_parser(
        "simulate",
        help="render a bona fide or attack capture for a challenge (see: openliveness simulate --help)",
        add_help=False,
    )

    ev = commands.add_parser("eval", help="run a dataset of capture bundles through the engine; write a report")
    ev.add_argument("dataset", type=Path, help="a folder of bundles (folders or .zip files, at any depth)")
    ev.add_argument("--out", type=Path, default=Path("openliveness-eval-report"), help="report folder")
    ev.add_argument("--json", action="store_true", help="print the figures as one JSON object on stdout")
    ev.add_argument("--jobs", type=int, default=None, help="worker processes (default: every core)")
    ev.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    vv = commands.add_parser("eval-verify", help="verification accuracy on PAIRS.csv (file_x, file_y, decision)")
    vv.add_argument("pairs", type=Path, help="CSV with columns file_x, file_y, decision (Yes/No)")
    vv.add_argument("--out", type=Path, default=Path("openliveness-verify-report"), help="report folder")
    vv.add_argument("--json", action="store_true", help="print the figures as one JSON object on stdout")
    vv.add_argument("--threshold", type=float, default=None, help="match_confidence threshold (default: the API's)")

    keys = commands.add_parser("keys", help="manage app-server API keys")
    key_commands = keys.add_subparsers(dest="key_command", required=True)
    create = key_commands.add_parser("create", help="create a key and print it (on its own line, once)")
    create.add_argument("--name", default="default", help="a label to tell keys apart")
    key_commands.add_parser("list", help="list keys (ids, names, state; never the keys themselves)")
    revoke = key_commands.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["simulate"]:
        from openliveness.simulate.cli import simulate_main

        return simulate_main(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command in ("migrate", "purge"):
            return asyncio.run(_with_store(args.command, args))
        if args.command == "eval":
            from openliveness.evaluation.cli import eval_main

            return eval_main(args)
        if args.command == "eval-verify":
            from openliveness.evaluation.cli import eval_verify_main

            return eval_verify_main(args)
        return asyncio.run(_with_store(args.key_command, args))
    except ImportError as exc:
        print(f"openliveness: {exc}. The server needs: pip install 'openliveness[server]'", file=sys.stderr)
        return 2
    except Exception as exc:
        # Configuration and database problems: one clear line, not a traceback.
        from pydantic import ValidationError
        from sqlalchemy.exc import SQLAlchemyError

        from openliveness.services import ConfigurationError
        from openliveness.store import DatabaseUnavailable

        if isinstance(exc, ValidationError):
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            print(f"openliveness: invalid settings (OPENLIVENESS_*): {problems}", file=sys.stderr)
            return 2
        if isinstance(exc, ConfigurationError):
            print(f"openliveness: {exc}", file=sys.stderr)
            return 2
        if isinstance(exc, (SQLAlchemyError, OSError, DatabaseUnavailable)):
            print(f"openliveness: cannot open the database: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    raise SystemExit(main())
