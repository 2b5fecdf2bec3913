"""``/healthz`` and ``/metrics`` over real HTTP on 127.0.0.1, its settings, and the probe a
container's health check runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import ConfigError
from bot.ops import probe
from bot.ops.health import Health
from bot.ops.metrics import Metrics
from bot.ops.server import OpsAddress, OpsServer, serve_ops

LOCAL = OpsAddress("127.0.0.1", 0)


@pytest.fixture
async def server() -> AsyncIterator[OpsServer]:
    started = OpsServer(Health(), Metrics(), LOCAL)
    await started.start()
    yield started
    await started.stop()


async def get(port: int, path: str) -> tuple[int, str, str]:
    """Status, content type and body of ``GET path`` on 127.0.0.1."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status, response.headers["Content-Type"], await response.text()


async def test_healthz_is_ready_only_with_the_database_open_and_updates_coming(
    server: OpsServer,
) -> None:
    assert await get(server.port, "/healthz") == (
        503,
        "text/plain; charset=utf-8",
        "not ready: database not open\n",
    )
    server.health.set_database_open(True)
    status, _, body = await get(server.port, "/healthz")
    assert status == 503
    assert body == "not ready: not receiving updates (polling not started, webhook not set)\n"
    server.health.set_transport_ready(True)
    assert await get(server.port, "/healthz") == (200, "text/plain; charset=utf-8", "ok\n")
    server.health.set_transport_ready(False)  # shutting down
    assert (await get(server.port, "/healthz"))[0] == 503


async def test_metrics_are_served_in_the_prometheus_text_format(server: OpsServer) -> None:
    server.metrics.update("message")
    status, content_type, body = await get(server.port, "/metrics")
    assert status == 200
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    samples = [
        sample for family in text_string_to_metric_families(body) for sample in family.samples
    ]
    assert any(
        sample.name == "securebase_updates_total"
        and sample.labels == {"kind": "message"}
        and sample.value == 1
        for sample in samples
    )


async def test_nothing_else_is_served(server: OpsServer) -> None:
    assert (await get(server.port, "/"))[0] == 404
    assert (await get(server.port, "/healthz/../metrics/x"))[0] == 404


def test_the_address_comes_from_the_environment() -> None:
    assert OpsAddress.from_env({}) is None
    assert OpsAddress.from_env({"SECUREBASE_OPS_PORT": " "}) is None
    assert OpsAddress.from_env({"SECUREBASE_OPS_PORT": "9464"}) == OpsAddress("127.0.0.1", 9464)
    assert OpsAddress.from_env(
        {"SECUREBASE_OPS_PORT": "9464", "SECUREBASE_OPS_HOST": "0.0.0.0"}
    ) == OpsAddress("0.0.0.0", 9464)


@pytest.mark.parametrize("port", ["http", "0", "65536", "-1", "9464.5"])
def test_a_port_that_is_no_port_is_a_config_error(port: str) -> None:
    with pytest.raises(ConfigError, match="SECUREBASE_OPS_PORT must be a port number"):
        OpsAddress.from_env({"SECUREBASE_OPS_PORT": port})


async def test_a_port_in_use_is_one_clear_config_error(server: OpsServer) -> None:
    second = OpsServer(Health(), Metrics(), OpsAddress("127.0.0.1", server.port))
    with pytest.raises(ConfigError, match=f"127.0.0.1:{server.port} .*SECUREBASE_OPS_PORT"):
        await second.start()


async def test_serve_ops_serves_for_the_block_and_is_off_without_an_address() -> None:
    health, metrics = Health(), Metrics()
    async with serve_ops(None, health, metrics) as off:
        assert off is None
    async with serve_ops(LOCAL, health, metrics) as on:
        assert on is not None
        assert (await get(on.port, "/healthz"))[0] == 503
        port = on.port
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(port, "/healthz")


async def test_the_probe_exits_0_only_when_the_bot_is_ready(
    server: OpsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"SECUREBASE_OPS_PORT": str(server.port), "SECUREBASE_OPS_HOST": "0.0.0.0"}
    assert await asyncio.to_thread(probe.main, env) == 1
    assert "not ready: database not open" in capsys.readouterr().err

    server.health.set_database_open(True)
    server.health.set_transport_ready(True)
    assert await asyncio.to_thread(probe.main, env) == 0
    assert capsys.readouterr().out == "ok\n"


async def test_the_probe_fails_when_nothing_answers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with serve_ops(LOCAL, Health(), Metrics()) as stopped:
        assert stopped is not None
        port = stopped.port
    env = {"SECUREBASE_OPS_PORT": str(port)}
    assert await asyncio.to_thread(probe.main, env) == 1
    assert "no answer from http://127.0.0.1:" in capsys.readouterr().err
    assert probe.main({}) == 1
    assert "SECUREBASE_OPS_PORT is not set" in capsys.readouterr().err


def test_the_probe_asks_a_server_on_every_interface_on_loopback() -> None:
    assert probe.url(OpsAddress("0.0.0.0", 9464)) == "http://127.0.0.1:9464/healthz"
    assert probe.url(OpsAddress("::", 9464)) == "http://[::1]:9464/healthz"
    assert probe.url(OpsAddress("10.0.0.5", 9464)) == "http://10.0.0.5:9464/healthz"
