from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistriesConfig(AppConfig):
    name = "registries"
    verbose_name = _("Base registries")

    def ready(self) -> None:
        # Subscribes the handlers of what external systems send (integration's inbox) and of
        # what other agencies answer.
        from registries import events  # noqa: F401
        from registries.services import inbound  # noqa: F401
