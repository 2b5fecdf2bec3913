"""Assembling the coach: dialogues, store, engine — shared by every door."""

from __future__ import annotations

import random
from dataclasses import dataclass

from bot.clock import Clock, SystemClock
from bot.coach.engine import Coach
from bot.coach.extensions import Extensions
from bot.coach.moves import DialogueMachines
from bot.config import Config
from bot.dialogue.loader import Catalog, load_catalog
from bot.privacy import privacy
from bot.safety.feature import safety
from bot.schedule.feature import schedule
from bot.store.sqlite import SQLiteStore


@dataclass(slots=True)
class App:
    """A ready coach over an open store. Close it to release the database."""

    config: Config
    catalog: Catalog
    store: SQLiteStore
    coach: Coach

    async def close(self) -> None:
        await self.store.close()


def features(catalog: Catalog, config: Config) -> Extensions:
    """Every feature package's hooks, merged. A new feature adds one line here."""
    return Extensions() + privacy(config) + safety(config.dialogues) + schedule(catalog, config)


async def open_app(
    config: Config, *, clock: Clock | None = None, rng: random.Random | None = None
) -> App:
    """Load and check the dialogues first (refusing to start on lint errors), then open
    and migrate the database."""
    catalog = load_catalog(config.dialogues)
    extensions = features(catalog, config)
    store = await SQLiteStore.open(config.db_path)
    coach = Coach(
        catalog,
        store,
        DialogueMachines(catalog.dialogues),
        clock=clock or SystemClock(),
        rng=rng,
        extensions=extensions,
    )
    return App(config, catalog, store, coach)
