from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationConfig(AppConfig):
    name = "integration"
    verbose_name = _("Integration")

    def ready(self) -> None:
        # Connects the cache of systems' credentials to their changes.
        from integration.services import inbox  # noqa: F401
