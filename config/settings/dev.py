"""Local development and `make run`: the embedded defaults of base."""

from config.settings.base import *  # noqa: F403

# Emulated peers of other agencies (never in production settings).
INSTALLED_APPS = [*INSTALLED_APPS, "emulators"]  # noqa: F405
