"""``python -m bot.ops.probe``: exit 0 when the running bot's ``/healthz`` says ready.

For a container's ``HEALTHCHECK`` (the slim image has no curl) or a monitoring script. It
reads the same ``SECUREBASE_OPS_PORT`` and ``SECUREBASE_OPS_HOST`` as the bot, so the
check follows the setting; a bot listening on every interface (``0.0.0.0``) is asked on
127.0.0.1. Prints the answer (or why there was none) and exits 1 when not ready.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping

from bot.config import ConfigError
from bot.ops.server import OpsAddress

TIMEOUT_SECONDS = 3.0
ANY_ADDRESS = {"0.0.0.0": "127.0.0.1", "::": "::1"}


def url(address: OpsAddress) -> str:
    """The ``/healthz`` URL that reaches a server listening on ``address``."""
    host = ANY_ADDRESS.get(address.host, address.host)
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return f"http://{host}:{address.port}/healthz"


def main(env: Mapping[str, str] | None = None) -> int:
    """Ask ``/healthz`` once; 0 when ready, else 1 (with the reason on standard error)."""
    try:
        address = OpsAddress.from_env(os.environ if env is None else env)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if address is None:
        print("error: SECUREBASE_OPS_PORT is not set: there is no /healthz", file=sys.stderr)
        return 1
    try:
        with urllib.request.urlopen(url(address), timeout=TIMEOUT_SECONDS) as response:
            print(response.read().decode().strip())
            return 0
    except urllib.error.HTTPError as error:
        print(error.read().decode().strip() or error.reason, file=sys.stderr)
    except OSError as error:  # refused, timed out: the bot is not listening (yet)
        print(f"no answer from {url(address)}: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
