"""Settings, read once from the environment.

Nothing here is secret-aware beyond this: the token is kept out of ``repr`` so it can
never end up in a log line or a traceback by way of printing the settings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
DEFAULT_DIALOGUES = PACKAGE_ROOT.parent / "dialogues"
DEFAULT_DB = Path("data") / "securebase.db"
DEFAULT_API = "https://api.telegram.org"


class ConfigError(ValueError):
    """A setting in the environment cannot be used; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Config:
    db_path: Path = DEFAULT_DB
    dialogues: Path = DEFAULT_DIALOGUES
    token: str | None = field(default=None, repr=False)
    api_base_url: str = DEFAULT_API
    admins: frozenset[int] = frozenset()

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Config:
        env = dict(os.environ) if env is None else env
        return cls(
            db_path=Path(env.get("SECUREBASE_DB") or DEFAULT_DB),
            dialogues=Path(env.get("SECUREBASE_DIALOGUES") or DEFAULT_DIALOGUES),
            token=env.get("TELEGRAM_BOT_TOKEN") or None,
            api_base_url=(env.get("TELEGRAM_API_BASE_URL") or DEFAULT_API).rstrip("/"),
            admins=_ids(env.get("SECUREBASE_ADMINS", "")),
        )


def _ids(text: str) -> frozenset[int]:
    return frozenset(int(part) for part in text.replace(",", " ").split() if part.isdigit())
