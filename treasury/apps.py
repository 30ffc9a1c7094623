from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TreasuryConfig(AppConfig):
    name = "treasury"
    verbose_name = _("Treasury")

    def ready(self) -> None:
        # Subscribes the treasury to life events (a death pulls unsent payments).
        from treasury import events  # noqa: F401
