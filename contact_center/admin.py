"""Back office of the contact centre: the notifications log (read-only), scoped to the
person's territory, with an action to send failed notifications again."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from contact_center.enums import NotificationStatus
from contact_center.models import Notification
from contact_center.services import notification_resend
from platform_core.admin import ScopedAdmin
from platform_core.errors import Conflict
from platform_core.scoping import scope_queryset


@admin.register(Notification)
class NotificationAdmin(ScopedAdmin):
    list_display = ["created_at", "person", "channel", "kind", "status", "attempts", "sent_at"]
    list_filter = ["status", "channel", "kind"]
    search_fields = ["source_key", "person__last_name", "person__snils", "recipient"]
    list_select_related = ["person"]
    date_hierarchy = "created_at"
    raw_id_fields = ["person"]
    actions = ["send_again"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the log of what citizens were told is kept

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A notification is never edited; "change" only opens the action below.
        return obj is None and super().has_change_permission(request, obj)

    @admin.action(
        description=_("Send the selected failed notifications again"), permissions=["change"]
    )
    def send_again(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        failed = queryset.filter(status=NotificationStatus.FAILED)
        queued = 0
        for notification in scope_queryset(failed, user=request.user, action="change"):
            try:
                notification_resend(notification=notification, now=timezone.now())
            except Conflict:
                continue  # sent or queued by someone else meanwhile
            queued += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d notification queued again.",
                "%(count)d notifications queued again.",
                queued,
            )
            % {"count": queued},
            messages.SUCCESS,
        )
