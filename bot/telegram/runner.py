"""Starting and stopping the Telegram bot: ``python -m bot run [--webhook]``.

The lifecycle is written out here rather than left to ``Application.run_polling`` so that
the store, the background loops and the outbox start and stop in a known order, within a
known time:

1. check the settings and the token (``getMe``); each failure is one :class:`SetupError`;
2. open the store, publish the command menu, start the timer runner, the scheduler, the
   retention of notes, PTB and either our :class:`~bot.telegram.poller.Poller` (long
   polling that confirms an update only once it is handled, after sending again the
   replies a crash may have kept from going out, :mod:`~bot.telegram.recovery`) or PTB's
   webhook server (which refuses requests without the secret token);
3. on SIGTERM or SIGINT: stop fetching updates, finish the batch in hand (each update
   committed by the engine, with its reply, before the reply was queued) and confirm it
   to Telegram, stop the background loops, give the outbox what is left of the deadline
   to send what is queued, keep the mark of what was sent, close the store. All of it
   within :data:`SHUTDOWN_SECONDS`.

Logs never show the token: :func:`bot.logs.setup_logging` (called by the command line)
holds httpx's URL-bearing request log back and blanks tokens out of every record, and the
errors raised here name the variable to fix, never its value.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.error import BadRequest, InvalidToken, NetworkError
from telegram.ext import Application, ApplicationBuilder, CallbackContext, ExtBot, TypeHandler

from bot.app import open_app
from bot.config import Config
from bot.ops.health import Health
from bot.ops.metrics import Metrics, active_users_in
from bot.ops.server import OpsAddress, serve_ops
from bot.privacy import retention, retention_days
from bot.telegram import settings
from bot.telegram.clock import clock_for
from bot.telegram.door import TelegramDoor
from bot.telegram.limits import SendLimiter
from bot.telegram.outbox import LimitedBot
from bot.telegram.poller import Poller
from bot.telegram.processor import ChatOrderedProcessor
from bot.telegram.settings import SetupError, Webhook

log = logging.getLogger(__name__)

ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
]
SHUTDOWN_SECONDS = 8.0  # the stop sequence up to the drain; the process is gone within 10 s
RESTART_SECONDS = 1.0
STOP_RESERVE = 2.0  # of the stop sequence, kept from the batch in hand for the rest
MARK_SECONDS = 1.0  # for keeping the sent mark, after the outbox's share

# PTB's builder types the context's bot as ExtBot[None] even with a rate limiter set.
Context = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]
TelegramApp = Application[LimitedBot, Context, dict[Any, Any], dict[Any, Any], dict[Any, Any], None]


def run(config: Config, *, webhook: bool = False) -> None:
    """Run the bot until SIGTERM or SIGINT; raises :class:`SetupError` (or
    :class:`~bot.config.ConfigError`) for bad settings."""
    token = settings.token(config)
    hook = settings.webhook(config) if webhook else None
    ops = OpsAddress.from_env(os.environ)
    asyncio.run(serve(config, token, hook, retention_days(), ops))


async def serve(
    config: Config,
    token: str,
    hook: Webhook | None,
    keep_days: int | None,
    ops: OpsAddress | None = None,
) -> None:
    """Check the token with Telegram, then serve until a stop signal; notes older than
    ``keep_days`` are deleted as they age, as in every door."""
    application = build_application(config, token)
    health, metrics = Health(), Metrics()
    try:
        async with serve_ops(ops, health, metrics), application:
            app = await open_app(config, clock=clock_for(config.time_scale))
            health.set_database_open(True)
            metrics.watch_active_users(active_users_in(app.store, app.coach.clock))
            try:
                door = TelegramDoor(app.coach, app.catalog, application.bot, metrics=metrics)
                application.add_handler(TypeHandler(Update, door.on_update))
                application.add_error_handler(_log_error)
                async with retention(app.store, app.coach.clock, keep_days):
                    await _serve_until_stopped(application, door, hook, health)
            finally:
                health.set_database_open(False)
                await app.close()
    except InvalidToken:
        raise SetupError("Telegram rejected TELEGRAM_BOT_TOKEN (getMe failed)") from None
    except BadRequest as error:  # e.g. a webhook URL Telegram does not accept
        raise SetupError(f"Telegram refused to set the bot up: {error.message}") from None
    except NetworkError as error:
        raise SetupError(
            f"cannot reach the Bot API at {config.api_base_url} ({type(error).__name__})"
        ) from None


def build_application(config: Config, token: str) -> TelegramApp:
    """PTB's application: our update processor and rate limiter, no job queue."""
    base = config.api_base_url
    return (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .concurrent_updates(ChatOrderedProcessor())
        .rate_limiter(SendLimiter(send_rate=config.send_rate, chat_rate=config.chat_rate))
        .job_queue(None)
        .build()
    )


async def _serve_until_stopped(
    application: TelegramApp, door: TelegramDoor, hook: Webhook | None, health: Health
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    background = [
        asyncio.create_task(
            _keep_running(door.timers.run, "timer runner", door.metrics), name="timers"
        ),
        asyncio.create_task(
            _keep_running(door.schedule.run, "scheduler", door.metrics), name="schedule"
        ),
        asyncio.create_task(
            _keep_running(door.mark.run, "sent mark", door.metrics), name="sent mark"
        ),
    ]
    polling: asyncio.Task[None] | None = None
    try:
        await door.publish_commands()
        await application.start()
        if hook is None:
            await door.recover()
            poller = Poller(
                application.bot,
                door.take,
                allowed_updates=ALLOWED_UPDATES,
                handled=door.mark.handled,
            )
            polling = asyncio.create_task(poller.run(stop), name="poller")
        else:
            await _start_webhook(application, hook)
        health.set_transport_ready(True)
        log.info(
            "on Telegram as @%s (%s)", application.bot.username, "webhook" if hook else "polling"
        )
        waits = [asyncio.ensure_future(stop.wait()), *([polling] if polling else [])]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waits[0].cancel()
        if polling is not None and polling.done():
            polling.result()  # the poller gave up (a revoked token): raise why
        health.set_transport_ready(False)
        log.info("stopping: finishing the updates in hand")
    finally:
        stop.set()
        deadline = loop.time() + SHUTDOWN_SECONDS
        door.outbox.closing(deadline)
        if polling is not None and not polling.done():
            await _within(
                polling, deadline - STOP_RESERVE, "finishing and confirming the updates in hand"
            )
        await _shut_down(application, door, background, deadline)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def _start_webhook(application: TelegramApp, hook: Webhook) -> None:
    updater = application.updater
    if updater is None:
        raise RuntimeError("the application was built without an updater")
    try:
        await updater.start_webhook(
            listen=hook.listen,
            port=hook.port,
            url_path=hook.path,
            webhook_url=hook.url,
            secret_token=hook.secret,
            allowed_updates=ALLOWED_UPDATES,
        )
    except OSError as error:
        raise SetupError(f"cannot listen on {hook.listen}:{hook.port} ({error.strerror})") from None


async def _shut_down(
    application: TelegramApp,
    door: TelegramDoor,
    background: list[asyncio.Task[None]],
    deadline: float,
) -> None:
    """Stop in order, each step within what is left of the deadline."""
    loop = asyncio.get_running_loop()
    updater = application.updater
    if updater is not None and updater.running:
        await _within(updater.stop(), deadline, "stopping the updater")
    if application.running:
        await _within(application.stop(), deadline, "finishing the updates in hand")
    door.timers.stop()
    await _within(asyncio.wait(background[:1]), deadline, "delivering the timers in hand")
    for task in background:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    unsent = await door.outbox.drain(max(0.0, deadline - loop.time()))
    # One small write, after the drain: what it could not send stays below the mark.
    await _within(door.mark.keep(), loop.time() + MARK_SECONDS, "keeping the sent mark")
    stats = door.outbox.stats
    log.log(
        logging.WARNING if unsent or stats.failed else logging.INFO,
        "stopped: %d sends done, %d retried, %d failed, %d dropped for blocked users, %d unsent",
        stats.done, stats.retried, stats.failed, stats.dropped, unsent,
    )  # fmt: skip


async def _within(step: Any, deadline: float, what: str) -> None:
    remaining = max(0.0, deadline - asyncio.get_running_loop().time())
    try:
        await asyncio.wait_for(step, remaining)
    except TimeoutError:
        log.error("shutting down: %s took too long; going on", what)


async def _keep_running(run: Callable[[], Awaitable[None]], what: str, metrics: Metrics) -> None:
    """Run a background loop; if it fails (the database busy, say), log and start it again."""
    while True:
        try:
            await run()
            return
        except Exception:
            metrics.error()
            log.exception("the %s failed; restarting it", what)
            await asyncio.sleep(RESTART_SECONDS)


async def _log_error(update: object, context: Context) -> None:
    """PTB's error handler: the error with its traceback, never the update's content."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("update %s failed", update_id, exc_info=context.error)
