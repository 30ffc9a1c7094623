from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationConfig(AppConfig):
    name = "integration"
    verbose_name = _("Integration")

    def ready(self) -> None:
        # Subscribes integration's handlers; connects the cache of systems' credentials to
        # their changes.
        from integration import events  # noqa: F401
        from integration.services import inbox  # noqa: F401
