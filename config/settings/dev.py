"""Local development and `make run`: the embedded defaults of base."""

from config.settings.base import *  # noqa: F403
