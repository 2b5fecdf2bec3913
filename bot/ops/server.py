"""The operations endpoint: ``/healthz`` and ``/metrics`` on a local port.

Off unless ``SECUREBASE_OPS_PORT`` is set; it listens on 127.0.0.1 unless
``SECUREBASE_OPS_HOST`` says otherwise (``0.0.0.0`` in a container whose health check or
Prometheus reaches it from outside; never publish it to the internet).

Served with ``aiohttp.web`` on the bot's own event loop rather than prometheus-client's
WSGI app in a ``wsgiref`` thread:

- the health answer then proves the loop is alive (a stuck loop does not answer), which
  a thread would not;
- the active-user count is read with ``await`` on the store's own connection, with no
  hop between threads;
- it starts and stops with the door, in the same ``async with``, and ``wsgiref`` serves
  one request at a time in its thread (a stalled scrape would hold up the health check).

aiohttp is a mature, typed, asyncio-native server; the tests already used it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from bot.config import ConfigError
from bot.ops.health import Health
from bot.ops.metrics import CONTENT_TYPE, Metrics

DEFAULT_HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class OpsAddress:
    """Where ``/healthz`` and ``/metrics`` listen (port 0: any free port, for tests)."""

    host: str = DEFAULT_HOST
    port: int = 0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> OpsAddress | None:
        """``SECUREBASE_OPS_HOST`` and ``SECUREBASE_OPS_PORT``; None (off) when the port
        is unset. Raises :class:`ConfigError` for a port that is not 1-65535."""
        text = env.get("SECUREBASE_OPS_PORT", "").strip()
        if not text:
            return None
        if not text.isdigit() or not 0 < int(text) < 65536:
            raise ConfigError(f"SECUREBASE_OPS_PORT must be a port number (1-65535), not {text!r}")
        return cls(env.get("SECUREBASE_OPS_HOST", "").strip() or DEFAULT_HOST, int(text))


class OpsServer:
    """``/healthz`` and ``/metrics`` over HTTP; :meth:`start`, then :meth:`stop`."""

    def __init__(self, health: Health, metrics: Metrics, address: OpsAddress) -> None:
        self.health = health
        self.metrics = metrics
        self.address = address
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)

    @property
    def port(self) -> int:
        """The port listened on (the one the system chose, when asked for port 0)."""
        host_and_port: tuple[str, int] = self._runner.addresses[0][:2]
        return host_and_port[1]

    async def start(self) -> None:
        """Listen; raises :class:`ConfigError`, naming the setting, if the port is taken."""
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.address.host, self.address.port)
        try:
            await site.start()
        except OSError as error:
            await self._runner.cleanup()
            where = f"{self.address.host}:{self.address.port}"
            raise ConfigError(
                f"cannot serve /healthz and /metrics on {where} ({error.strerror}):"
                " set SECUREBASE_OPS_PORT (and SECUREBASE_OPS_HOST) to a free address"
            ) from None

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def _healthz(self, request: web.Request) -> web.Response:
        problem = self.health.problem
        if problem is None:
            return web.Response(text="ok\n")
        return web.Response(status=503, text=f"not ready: {problem}\n")

    async def _metrics(self, request: web.Request) -> web.Response:
        body = await self.metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


@asynccontextmanager
async def serve_ops(
    address: OpsAddress | None, health: Health, metrics: Metrics
) -> AsyncIterator[OpsServer | None]:
    """``async with serve_ops(...)``: the ops server for the block (None when ``address``
    is None, i.e. switched off)."""
    if address is None:
        yield None
        return
    server = OpsServer(health, metrics, address)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
