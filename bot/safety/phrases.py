"""The labelled phrases the crisis screen learns from and is measured on.

One file per locale (``dialogues/safety_phrases/en.yaml``), in two parts: ``train``, which
the learned stage is fitted on, and ``heldout``, which nothing is ever fitted or tuned on
and which the project's aims are measured against (``python -m bot.safety.evaluate``).
Positives are labelled with the crisis category they must raise and whether they say it
plainly (``direct``) or only mean it (``indirect``); negatives are harmless messages that
share words or tone with a disclosure, grouped by kind (figurative, media, sport…) so that
false alarms can be read per kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""PyYAML's safe loader, the C one where libyaml is there (ten times faster on this file)."""

NONE = "none"
"""The label of a harmless message, beside the crisis category ids."""

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
Phrase = Annotated[str, Field(min_length=1)]
Style = Literal["direct", "indirect"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Styles(_Strict):
    """A category's positives: said plainly, and meant without the obvious words."""

    direct: list[Phrase] = Field(default_factory=list)
    indirect: list[Phrase] = Field(default_factory=list)

    def items(self) -> Iterator[tuple[Style, str]]:
        yield from (("direct", text) for text in self.direct)
        yield from (("indirect", text) for text in self.indirect)


class Part(_Strict):
    """One part of the set: positives by category and style, negatives by kind."""

    positives: dict[Name, Styles] = Field(default_factory=dict)
    negatives: dict[Name, list[Phrase]] = Field(default_factory=dict)

    def examples(self) -> list[tuple[str, str]]:
        """(text, label) pairs, the label being a category id or :data:`NONE`."""
        pairs = [
            (text, category)
            for category, styles in self.positives.items()
            for _, text in styles.items()
        ]
        pairs += [(text, NONE) for texts in self.negatives.values() for text in texts]
        return pairs

    @property
    def size(self) -> int:
        return len(self.examples())


class LabelledPhrases(_Strict):
    """A locale's whole labelled set."""

    locale: Name
    train: Part
    heldout: Part

    @classmethod
    def from_yaml(cls, path: str | Path) -> LabelledPhrases:
        """Load and validate a phrase file."""
        raw = Path(path).read_bytes()
        data = yaml.load(raw, Loader=_LOADER)
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping with locale, train and heldout")
        return cls.model_validate(data)

    def categories(self) -> set[str]:
        """Every category labelled in either part."""
        return set(self.train.positives) | set(self.heldout.positives)
