from importlib import import_module

from django.apps import AppConfig
from django.conf import settings
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class PlatformCoreConfig(AppConfig):
    name = "platform_core"
    verbose_name = _("Platform core")

    def ready(self) -> None:
        # Every app's events.py subscribes its handlers to the bus.
        autodiscover_modules("events")
        # Extra handler modules (the real-worker tests load theirs this way).
        for module in settings.EVENTS_EXTRA_HANDLER_MODULES:
            import_module(module)
