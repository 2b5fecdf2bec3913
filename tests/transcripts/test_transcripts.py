"""Every transcript scenario in this folder, against the real dialogues."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.transcripts.runner import Transcript, scenarios

HERE = Path(__file__).parent


@pytest.mark.parametrize(
    "scenario", [s for _, s in scenarios(HERE)], ids=[i for i, _ in scenarios(HERE)]
)
async def test_transcript(scenario: dict[str, Any], tmp_path: Path) -> None:
    transcript = Transcript(tmp_path / "transcript.db")
    await transcript.open()
    try:
        await transcript.run(scenario)
    finally:
        await transcript.close()
