"""Safety: the crisis screen every free-text message passes first, and local helplines.

Use it like this (transport-agnostic; the chat layer decides how to send each text)::

    screen = Screen.from_yaml("dialogues/safety.yaml")  # once, at start-up (about a second)
    detection = screen.classify(text, locale)  # every free-text message, before any dialogue
    if detection is not None:
        country = resources_for(user_country, locale)  # None when the country is unknown
        texts = [
            screen.message(detection.category, locale),
            render(country, set(detection.categories), locale),
            screen.grounding(locale).intro,
            *screen.grounding(locale).steps,
            screen.way_back(locale),
        ]

The screen never logs or stores the text; a Detection carries only category ids and the id
of the pattern that fired.
"""

from bot.dialogue.loader import register_special
from bot.safety import resources as _resources
from bot.safety import screen as _screen
from bot.safety.resources import (
    CountryResources,
    ResourcesFile,
    default_resources,
    render,
    resources_for,
)
from bot.safety.screen import Detection, Grounding, Screen, normalise

# The safety files are checked by `python -m bot validate` and at start-up, like dialogues.
register_special("safety.yaml", _screen.check_file)
register_special("resources.yaml", _resources.check_file)

__all__ = [
    "CountryResources",
    "Detection",
    "Grounding",
    "ResourcesFile",
    "Screen",
    "default_resources",
    "normalise",
    "render",
    "resources_for",
]
