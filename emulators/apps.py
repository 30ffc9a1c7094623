from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EmulatorsConfig(AppConfig):
    """Emulated peers of other agencies, for the demo and the tests; never in production."""

    name = "emulators"
    verbose_name = _("Emulated external systems")
