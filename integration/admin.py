"""Admin of integration: external systems and their credentials, the inbox with its review,
inter-agency requests and exchanges, complaints, circuits and the federal feed."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from integration.enums import ExchangeStatus, InboxStatus, PublicationStatus
from integration.models import (
    DataComplaint,
    DataExchange,
    DataRequest,
    ExchangeAttempt,
    ExternalSystem,
    FederalFact,
    InboundEvent,
    ProviderCircuit,
    new_secret,
)
from integration.services import complaints, inbox, interagency, publication
from integration.services.http import circuit_reset
from platform_core.admin import ReadOnlyAdmin, RecordAdmin, ScopedAdmin
from platform_core.errors import DomainError


@admin.register(ExternalSystem)
class ExternalSystemAdmin(ScopedAdmin):
    list_display = ["code", "name", "kind", "provides", "base_url", "active", "created_at"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name"]
    # The secret is shown once, when it is issued (the action's message), never on the page.
    exclude = ["secret"]
    readonly_fields = ["created_at"]
    actions = ["rotate_secret"]

    @admin.action(
        permissions=["operate"], description=_("Issue a new signing secret to the selected systems")
    )
    def rotate_secret(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        for system in queryset:
            system.secret = new_secret()
            system.save(update_fields=["secret"])
            self.message_user(request, f"{system.code}: {system.secret}", messages.WARNING)
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
class InboundEventAdmin(RecordAdmin):
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

    @admin.action(
        permissions=["operate"],
        description=_("Apply the selected events in review or failed again"),
    )
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


def _done(admin_: admin.ModelAdmin, request: HttpRequest, done: int, failed: list[str]) -> None:
    admin_.message_user(
        request,
        ngettext("%(count)d done.", "%(count)d done.", done) % {"count": done},
        messages.SUCCESS,
    )
    for problem in failed:
        admin_.message_user(request, problem, messages.WARNING)


class ExchangeAttemptInline(admin.TabularInline):
    model = ExchangeAttempt
    extra = 0
    can_delete = False
    fields = ["number", "started_at", "latency_ms", "http_status", "outcome", "error"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(DataExchange)
class DataExchangeAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "kind",
        "provider",
        "status",
        "created_at",
        "deadline_at",
        "attempts",
        "latency_ms",
        "answered_at",
    ]
    list_filter = ["status", "kind", "provider"]
    date_hierarchy = "created_at"
    # Whom an exchange is about and what came back are the asking region's (requests).
    exclude = ["subject", "answer"]
    readonly_fields = [
        f.name for f in DataExchange._meta.fields if f.name not in ("subject", "answer")
    ]
    inlines = [ExchangeAttemptInline]
    actions = ["retry"]

    @admin.action(
        permissions=["operate"],
        description=_("Ask again for the data of the selected refused or expired exchanges"),
    )
    def retry(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        done, failed = 0, []
        for exchange in queryset.filter(status__in=[ExchangeStatus.FAILED, ExchangeStatus.EXPIRED]):
            try:
                interagency.exchange_retry(exchange=exchange, now=timezone.now())
                done += 1
            except DomainError as exc:
                failed.append(str(exc.message))
        _done(self, request, done, failed)


@admin.register(DataRequest)
class DataRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "requested_at",
        "kind",
        "case_ref",
        "region",
        "requested_by",
        "reused",
        "exchange_status",
        "released_at",
    ]
    list_filter = ["kind", "reused", "region"]
    search_fields = ["case_ref"]
    date_hierarchy = "requested_at"
    readonly_fields = [f.name for f in DataRequest._meta.fields] + ["answer"]
    list_select_related = ["exchange", "region", "requested_by"]

    @admin.display(description=_("answer"))
    def exchange_status(self, obj: DataRequest) -> str:
        return obj.exchange.get_status_display()

    @admin.display(description=_("answer"))
    def answer(self, obj: DataRequest) -> str:
        return json.dumps(obj.exchange.answer, ensure_ascii=False, indent=1)


class ComplaintForm(forms.ModelForm):
    """A complaint as an officer files it: checked by the same rules as through the API."""

    class Meta:
        model = DataComplaint
        fields = ["kind", "exchange", "provider", "region", "text"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].required = False  # the exchange's, when one is named

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        if data.get("exchange") and not data.get("provider"):
            data["provider"] = self.instance.provider = data["exchange"].provider
        problems = complaints.complaint_problems(
            kind=data["kind"],
            text=data.get("text", ""),
            exchange=data.get("exchange"),
            provider=data.get("provider"),
        )
        for field, message in problems.items():
            self.add_error(field if field in self.fields else None, message)
        return data


@admin.register(DataComplaint)
class DataComplaintAdmin(ScopedAdmin):
    form = ComplaintForm
    list_display = [
        "filed_at",
        "kind",
        "provider",
        "status",
        "filed_by",
        "answered_at",
        "corrected",
    ]
    list_filter = ["status", "kind", "provider"]
    search_fields = ["text", "answer"]
    raw_id_fields = ["exchange"]

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        if obj is None:
            return []
        return [f.name for f in DataComplaint._meta.fields]

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: DataComplaint, form: Any, change: bool) -> None:
        if change:
            return  # a filed complaint is the provider's to answer, not ours to edit
        filed = complaints.complaint_file(
            kind=obj.kind,
            text=obj.text,
            filed_by=request.user,
            region_id=obj.region_id,
            exchange=obj.exchange,
            provider=obj.provider,
            now=timezone.now(),
        )
        obj.pk = filed.pk


@admin.register(ProviderCircuit)
class ProviderCircuitAdmin(ReadOnlyAdmin):
    list_display = ["system", "failures", "open_until", "opened_times", "last_failure_at"]
    readonly_fields = [f.name for f in ProviderCircuit._meta.fields]
    actions = ["reset"]

    @admin.action(
        permissions=["operate"],
        description=_("Close the selected circuits: ask the providers again at once"),
    )
    def reset(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        for circuit in queryset.select_related("system"):
            circuit_reset(system=circuit.system)
        _done(self, request, queryset.count(), [])


@admin.register(FederalFact)
class FederalFactAdmin(ReadOnlyAdmin):
    list_display = ["fact_id", "version", "status", "created_at", "attempts", "delivered_at"]
    list_filter = ["status"]
    search_fields = ["fact_id"]
    date_hierarchy = "created_at"
    # Whom a fact is about (its payload) is the regions' business, not operators'.
    exclude = ["payload"]
    readonly_fields = [f.name for f in FederalFact._meta.fields if f.name != "payload"]
    actions = ["resend"]

    @admin.action(permissions=["operate"], description=_("Send the selected rejected facts again"))
    def resend(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        done, failed = 0, []
        for fact in queryset.filter(status=PublicationStatus.REJECTED):
            try:
                publication.fact_resend(fact=fact, now=timezone.now())
                done += 1
            except DomainError as exc:
                failed.append(str(exc.message))
        _done(self, request, done, failed)
