"""Admin of integration: external systems and their credentials, the inbox with its review."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from integration.enums import InboxStatus
from integration.models import ExternalSystem, InboundEvent, new_secret
from integration.services import inbox
from platform_core.admin import ScopedAdmin


@admin.register(ExternalSystem)
class ExternalSystemAdmin(ScopedAdmin):
    list_display = ["code", "name", "kind", "active", "created_at"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name"]
    readonly_fields = ["secret", "created_at"]
    actions = ["rotate_secret"]

    @admin.action(description=_("Issue a new signing secret to the selected systems"))
    def rotate_secret(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        for system in queryset:
            system.secret = new_secret()
            system.save(update_fields=["secret"])
        self.message_user(
            request,
            ngettext(
                "%(count)d system has a new secret; give it to its operator.",
                "%(count)d systems have a new secret; give it to their operators.",
                queryset.count(),
            )
            % {"count": queryset.count()},
            messages.SUCCESS,
        )


@admin.register(InboundEvent)
class InboundEventAdmin(ScopedAdmin):
    list_display = [
        "event_id",
        "system",
        "contract",
        "event_type",
        "status",
        "received_at",
        "processed_at",
        "attempts",
    ]
    list_filter = ["status", "contract", "event_type", "system"]
    search_fields = ["event_id", "corrects_event_id"]
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in InboundEvent._meta.fields]
    actions = ["replay"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Apply the selected events in review or failed again"))
    def replay(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        replayed = 0
        for inbound in queryset.filter(status__in=[InboxStatus.REVIEW, InboxStatus.FAILED]):
            inbox.inbound_replay(inbound=inbound)
            replayed += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d event queued to be applied again.",
                "%(count)d events queued to be applied again.",
                replayed,
            )
            % {"count": replayed},
            messages.SUCCESS,
        )
