"""``python -m bot``: the coach's command line.

- ``run [--webhook]``: the coach on Telegram (long polling, or a webhook).
- ``chat``: the coach in this terminal.
- ``validate [PATH]``: lint the dialogues; exit 1 listing every problem as file:line.
- ``graph NAME``: a dialogue as a mermaid ``stateDiagram-v2``.
- ``backup PATH [--force]``: a consistent copy of the database, safe while the bot runs.
- ``restore BACKUP``: put a backup in place of the database (the bot stopped).
- no command: the Telegram bot when ``TELEGRAM_BOT_TOKEN`` is set, else ``chat``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.app import open_app
from bot.config import Config, ConfigError
from bot.console.chat import ConsoleChat, stdin_lines
from bot.dialogue.graph import mermaid
from bot.dialogue.loader import CatalogError, check_directory, load_catalog
from bot.logs import setup_logging
from bot.ops import backup
from bot.privacy import retention, retention_days
from bot.store.base import StoreError
from bot.telegram.runner import run
from bot.telegram.settings import SetupError

EXIT_PROBLEMS = 1
EXIT_CONFIG = 2

Command = Callable[[argparse.Namespace, Config], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")
    telegram = commands.add_parser("run", help="run the coach on Telegram")
    telegram.add_argument(
        "--webhook", action="store_true", help="receive updates by webhook, not long polling"
    )
    chat = commands.add_parser("chat", help="talk to the coach in this terminal")
    chat.add_argument("--user", default=_os_user(), help="whose conversation (default: you)")
    chat.add_argument("--fast", action="store_true", help="timers fire at once")
    check = commands.add_parser("validate", help="lint the dialogue files")
    check.add_argument("path", nargs="?", type=Path, help="dialogues folder")
    graph = commands.add_parser("graph", help="print a dialogue as a mermaid diagram")
    graph.add_argument("name", help="dialogue id, e.g. breathe")
    copy = commands.add_parser("backup", help="copy the database, safely while the bot runs")
    copy.add_argument("path", type=Path, help="the backup file to write")
    copy.add_argument("--force", action="store_true", help="replace PATH if it exists")
    put_back = commands.add_parser("restore", help="put a backup in place (stop the bot first)")
    put_back.add_argument("backup", type=Path, help="a file made by the backup command")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = Config.from_env()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    setup_logging(config.token)
    command = args.command or ("run" if config.token else "chat")
    if command == "chat" and not hasattr(args, "user"):
        args.user, args.fast = _os_user(), False
    handlers: dict[str, Command] = {
        "run": _run,
        "chat": _chat,
        "validate": _validate,
        "graph": _graph,
        "backup": _backup,
        "restore": _restore,
    }
    try:
        return handlers[command](args, config)
    except CatalogError as error:
        _print_problems(error.problems)
        return EXIT_PROBLEMS
    except (StoreError, SetupError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 0


def _run(args: argparse.Namespace, config: Config) -> int:
    run(config, webhook=getattr(args, "webhook", False))
    return 0


def _chat(args: argparse.Namespace, config: Config) -> int:
    async def talk() -> None:
        app = await open_app(config)
        try:
            files = config.db_path.parent / "files"
            chat = ConsoleChat(app.coach, args.user, sys.stdout, fast=args.fast, files=files)
            async with retention(app.store, app.coach.clock, retention_days()):
                await chat.run(stdin_lines())
        finally:
            await app.close()

    asyncio.run(talk())
    return 0


def _validate(args: argparse.Namespace, config: Config) -> int:
    problems = check_directory(args.path or config.dialogues)
    _print_problems(problems)
    if not problems:
        print("dialogues are clean")
    return EXIT_PROBLEMS if problems else 0


def _graph(args: argparse.Namespace, config: Config) -> int:
    catalog = load_catalog(config.dialogues)
    if args.name not in catalog.dialogues:
        known = ", ".join(sorted(catalog.dialogues))
        print(f"error: no dialogue '{args.name}' (known: {known})", file=sys.stderr)
        return EXIT_CONFIG
    print(mermaid(catalog.dialogues[args.name]))
    return 0


def _backup(args: argparse.Namespace, config: Config) -> int:
    backup.backup(config.db_path, args.path, force=args.force)
    print(f"backed up {config.db_path} to {args.path} (checked)")
    return 0


def _restore(args: argparse.Namespace, config: Config) -> int:
    kept = backup.restore(args.backup, config.db_path)
    print(f"restored {config.db_path} from {args.backup}")
    for path in kept:
        print(f"the file it replaced is kept as {path}: delete it once the bot works")
    return 0


def _print_problems(problems: Sequence[object]) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "me"
