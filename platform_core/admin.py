"""Admin of the shared kernel, and the scoped base every staff-facing admin derives from."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from platform_core import bus
from platform_core.enums import DeliveryStatus
from platform_core.errors import DomainError
from platform_core.models import (
    CalendarDay,
    EventDelivery,
    Municipality,
    Organisation,
    OutboxEvent,
    PersonalFileView,
    Region,
    User,
)
from platform_core.roles import user_role_apply
from platform_core.scoping import (
    ensure_territory_allowed,
    has_access,
    jurisdiction_of,
    scope_queryset,
)

admin.site.site_header = _("Social Treasury: back office")
admin.site.site_title = _("Social Treasury")
admin.site.index_title = _("Administration")


class ScopedAdmin(admin.ModelAdmin):
    """A ModelAdmin that shows and changes only rows inside the user's jurisdiction.

    Lists go through scope_queryset; an object outside it answers as if it did not exist;
    foreign-key choices to scoped models are narrowed too, so a record cannot be attached to
    a person of another region by posting their id.
    """

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return scope_queryset(super().get_queryset(request), user=request.user, action="view")

    def has_operate_permission(self, request: HttpRequest) -> bool:
        """May run the admin's actions (`permissions=["operate"]`): the role's change
        permission on the model and the organisation's power to change it. A view-only
        role (an auditor, a contact-centre operator) sees the list but acts on nothing."""
        opts = self.model._meta
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}") and has_access(
            self.model, user=request.user, action="change"
        )

    def _in_change_scope(self, request: HttpRequest, obj: models.Model) -> bool:
        model = type(obj)
        return scope_queryset(
            model._default_manager.filter(pk=obj.pk), user=request.user, action="change"
        ).exists()

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or self._in_change_scope(request, obj))

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or self._in_change_scope(request, obj))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        related = db_field.related_model
        spec = getattr(related, "jurisdiction", None)
        if spec is not None and spec.region is not None:
            kwargs["queryset"] = scope_queryset(
                related._default_manager.all(), user=request.user, action="change"
            )
        elif related is Region and not request.user.is_superuser:
            organisation = request.user.organisation
            if organisation is not None and not organisation.is_nationwide:
                kwargs["queryset"] = Region.objects.filter(pk=organisation.region_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: models.Model, form: Any, change: bool) -> None:
        spec = jurisdiction_of(type(obj))
        if spec.region == "region":
            try:
                ensure_territory_allowed(
                    user=request.user,
                    region_code=obj.region_id,
                    municipality_oktmo=getattr(obj, "municipality_id", None),
                    power=spec.change,
                )
            except DomainError as exc:
                self.message_user(request, exc.message, level=messages.ERROR)
                raise
        super().save_model(request, obj, form, change)


class RecordAdmin(ScopedAdmin):
    """Rows that services write (cases, decisions, the inbox...): seen and acted on through
    actions, never added or deleted by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


class ReadOnlyAdmin(RecordAdmin):
    """A log: not even changed by hand."""

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "timezone", "federal_district"]
    search_fields = ["code", "name", "name_en"]
    list_filter = ["federal_district"]


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ["oktmo", "name", "region", "kind"]
    search_fields = ["oktmo", "name"]
    list_filter = ["region"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "region", "municipality", "is_active"]
    list_filter = ["kind", "region", "is_active"]
    search_fields = ["name", "short_name", "inn"]
    autocomplete_fields = ["parent"]


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    list_display = ["username", "last_name", "first_name", "organisation", "role", "is_active"]
    list_filter = ["role", "organisation__region", "is_staff", "is_active"]
    fieldsets = (
        *UserAdmin.fieldsets,
        (_("Organisation and role"), {"fields": ("organisation", "role", "patronymic")}),
    )

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        user_role_apply(user=obj)


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "note"]
    list_filter = ["kind"]
    date_hierarchy = "date"


class EventDeliveryInline(admin.TabularInline):
    model = EventDelivery
    extra = 0
    can_delete = False
    fields = ["handler", "status", "attempts", "next_attempt_at", "finished_at", "last_error"]
    readonly_fields = fields


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ["event_type", "created_at", "dispatched_at", "id"]
    list_filter = ["event_type"]
    search_fields = ["id", "event_type"]
    date_hierarchy = "created_at"
    readonly_fields = ["id", "event_type", "payload", "created_at", "dispatched_at", "actor_id"]
    inlines = [EventDeliveryInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):  # type: ignore[no-untyped-def]
        extra_context = {**(extra_context or {}), "event_stats": bus.event_stats()}
        return super().changelist_view(request, extra_context)


@admin.register(EventDelivery)
class EventDeliveryAdmin(admin.ModelAdmin):
    list_display = ["handler", "event", "status", "attempts", "created_at", "finished_at"]
    list_filter = ["status", "handler"]
    readonly_fields = [
        "event",
        "handler",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created_at",
        "finished_at",
    ]
    actions = ["replay"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Replay the selected failed or dead deliveries"))
    def replay(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        replayed = 0
        for delivery in queryset.filter(status__in=[DeliveryStatus.DEAD, DeliveryStatus.FAILED]):
            bus.delivery_replay(delivery=delivery)
            replayed += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery queued again.", "%(count)d deliveries queued again.", replayed
            )
            % {"count": replayed},
            messages.SUCCESS,
        )


@admin.register(PersonalFileView)
class PersonalFileViewAdmin(admin.ModelAdmin):
    list_display = ["viewed_at", "actor", "subject_type", "subject_id", "channel", "purpose"]
    list_filter = ["channel", "subject_type"]
    search_fields = ["subject_id", "actor__username"]
    date_hierarchy = "viewed_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
