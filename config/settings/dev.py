"""Local development and `make run`: the embedded defaults of base."""

from config.settings.base import *  # noqa: F403

# Emulated peers of other agencies (never in production settings).
INSTALLED_APPS = [*INSTALLED_APPS, "emulators"]  # noqa: F405

# The portal offers its demo login (seeded citizens, `manage.py load_portal_demo`).
PORTAL_DEMO_LOGIN = env_bool("PORTAL_DEMO_LOGIN", True)  # noqa: F405
