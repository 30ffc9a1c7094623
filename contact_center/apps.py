from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactCenterConfig(AppConfig):
    name = "contact_center"
    verbose_name = _("Contact centre")

    def ready(self) -> None:
        # Subscribes the notifications of citizens to the case pipeline's events.
        from contact_center import events  # noqa: F401
