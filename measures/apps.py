from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeasuresConfig(AppConfig):
    name = "measures"
    verbose_name = _("Measures")

    def ready(self) -> None:
        # Subscribes the proactive pipeline to life events.
        from measures import events  # noqa: F401
