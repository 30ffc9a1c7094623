"""Back office of the catalogue: measures, their rules (checked, previewed, published),
entitlements with their explanations, cases with their timeline, decisions and assignments.
Every list goes through the jurisdiction scope."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from measures.enums import RuleStatus
from measures.models import (
    Application,
    Assignment,
    Case,
    CaseEntry,
    ChannelPolicy,
    ContractAssistance,
    ContractStep,
    Decision,
    Entitlement,
    FunctionTransfer,
    Measure,
    Recalculation,
    RuleVersion,
    SocialContract,
)
from measures.rules import FACTS
from measures.selectors import entitlement_explanation
from measures.services import cases
from measures.services.rules import rule_version_preview, rule_version_publish
from platform_core.admin import RecordAdmin, ScopedAdmin
from platform_core.errors import DomainError
from platform_core.scoping import has_access, scope_queryset
from registries.models import Person


class ChannelPolicyInline(admin.TabularInline):
    model = ChannelPolicy
    extra = 0


class FunctionTransferInline(admin.TabularInline):
    model = FunctionTransfer
    extra = 0


class RuleVersionInline(admin.TabularInline):
    model = RuleVersion
    extra = 0
    fields = ["version", "status", "valid_from", "valid_to", "eligibility", "amount"]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Measure)
class MeasureAdmin(ScopedAdmin):
    list_display = ["code", "name", "level", "region", "mode", "provision", "is_demo"]
    list_filter = ["level", "mode", "provision", "payee_role", "is_demo", "region"]
    search_fields = ["code", "name", "legal_act"]
    filter_horizontal = ["excludes", "capped_with"]
    inlines = [ChannelPolicyInline, FunctionTransferInline, RuleVersionInline]
    change_list_template = "admin/measures/measure/change_list.html"

    def get_urls(self) -> list:
        facts = path(
            "facts/",
            self.admin_site.admin_view(self.facts_view),
            name="measures_measure_facts",
        )
        return [facts, *super().get_urls()]

    def facts_view(self, request: HttpRequest) -> HttpResponse:
        """The facts library, documented: what a rule may use, its type, meaning and owner."""
        context = {
            **self.admin_site.each_context(request),
            "title": _("Facts a rule may use"),
            "facts": FACTS.values(),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/measures/measure/facts.html", context)


@admin.register(RuleVersion)
class RuleVersionAdmin(ScopedAdmin):
    list_display = [
        "measure",
        "version",
        "status",
        "valid_from",
        "valid_to",
        "published_at",
        "preview_link",
    ]
    list_filter = ["status", "measure__level", "measure__region"]
    search_fields = ["measure__code", "measure__name"]
    readonly_fields = ["version", "status", "created_by", "published_by", "published_at"]
    actions = ["publish"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A published or retired version is history: it is never edited, only superseded.
        if obj is not None and obj.status != RuleStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: RuleVersion, form: Any, change: bool) -> None:
        if not change:
            # The admin's save runs in a transaction: the lock serialises concurrent adds.
            Measure.objects.select_for_update().get(pk=obj.measure_id)
            latest = RuleVersion.objects.filter(measure=obj.measure).aggregate(n=Max("version"))
            obj.version = (latest["n"] or 0) + 1
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    # Without `permissions` an action is offered to whoever may view the list.
    @admin.action(description=_("Publish the selected drafts"), permissions=["change"])
    def publish(self, request: HttpRequest, queryset: Any) -> None:
        for version in queryset:
            try:
                rule_version_publish(rule_version=version, actor=request.user)
            except (DomainError, ValidationError) as exc:
                message = exc.message if isinstance(exc, DomainError) else "; ".join(exc.messages)
                self.message_user(request, f"{version}: {message}", messages.ERROR)
            else:
                self.message_user(request, _("%(v)s published.") % {"v": version})

    def get_urls(self) -> list:
        preview = path(
            "<int:pk>/preview/",
            self.admin_site.admin_view(self.preview_view),
            name="measures_ruleversion_preview",
        )
        return [preview, *super().get_urls()]

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """How many persons of the officer's region the rules find eligible, with examples."""
        version = get_object_or_404(self.get_queryset(request), pk=pk)
        organisation = request.user.organisation
        region = request.GET.get("region") or (organisation.region_id if organisation else None)
        # As of ?on=, else the day the version comes into force if that is still ahead.
        on = max(timezone.localdate(), version.valid_from)
        if request.GET.get("on"):
            try:
                on = date.fromisoformat(request.GET["on"])
            except ValueError:
                self.message_user(request, _("Enter a date as YYYY-MM-DD."), messages.ERROR)
        preview = None
        # The sample shows personal data: only of a region whose persons the user may see.
        if (
            region
            and not scope_queryset(
                Person.objects.filter(region_id=region), user=request.user
            ).exists()
        ):
            self.message_user(request, _("You see no persons in this region."), messages.ERROR)
        elif region:
            try:
                preview = rule_version_preview(rule_version=version, region_code=region, on=on)
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Preview of %(v)s") % {"v": version},
            "version": version,
            "preview": preview,
            "region": region,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/measures/ruleversion/preview.html", context)

    def preview_link(self, obj: RuleVersion) -> str:
        url = reverse("admin:measures_ruleversion_preview", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Preview"))

    preview_link.short_description = _("preview")  # type: ignore[attr-defined]


@admin.register(Entitlement)
class EntitlementAdmin(ScopedAdmin):
    list_display = ["person", "measure", "rule_version", "as_of", "outcome", "amount"]
    list_filter = ["outcome", "measure", "as_of"]
    search_fields = ["person__snils", "person__last_name", "measure__code"]
    raw_id_fields = ["person"]
    readonly_fields = ["explanation"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("explanation"))
    def explanation(self, obj: Entitlement) -> str:
        evaluation = entitlement_explanation(entitlement=obj)
        conditions = format_html_join(
            "", "<li><code>{}</code>: {}</li>", ((c.text, c.value) for c in evaluation.conditions)
        )
        facts = format_html_join(
            "",
            "<li>{} <code>{}</code> = {} ({})</li>",
            ((f.label, f.key, f.value, f.owner) for f in evaluation.facts),
        )
        return format_html("<ul>{}</ul><ul>{}</ul>", conditions, facts)


class CaseEntryInline(admin.TabularInline):
    model = CaseEntry
    extra = 0
    can_delete = False
    fields = ["at", "kind", "channel", "actor", "from_status", "to_status", "text"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(RecordAdmin):
    """Cases of the officer's territory; status changes only through the services (API)."""

    list_display = [
        "id",
        "person",
        "measure",
        "status",
        "trigger_kind",
        "opened_at",
        "decision_due_at",
        "assigned_to",
    ]
    list_filter = ["status", "trigger_kind", "measure"]
    search_fields = ["person__last_name", "person__snils", "trigger_key"]
    date_hierarchy = "opened_at"
    list_select_related = ["person", "measure", "assigned_to"]
    raw_id_fields = ["person", "life_event"]
    readonly_fields = [f.name for f in Case._meta.fields]
    inlines = [CaseEntryInline]
    actions = ["take"]

    def has_operate_permission(self, request: HttpRequest) -> bool:
        # Officers take cases by their organisation's power to assign measures.
        return has_access(Case, user=request.user, action="change")

    @admin.action(
        permissions=["operate"], description=_("Take the selected open cases to work on them")
    )
    def take(self, request: HttpRequest, queryset: Any) -> None:
        taken = 0
        for case in queryset:
            try:
                cases.case_take(case=case, officer=request.user, now=timezone.now())
                taken += 1
            except DomainError as exc:
                self.message_user(request, f"{case}: {exc.message}", messages.WARNING)
        self.message_user(request, _("Cases taken: %(n)d.") % {"n": taken}, messages.SUCCESS)


@admin.register(Decision)
class DecisionAdmin(RecordAdmin):
    list_display = [
        "number",
        "outcome",
        "amount",
        "period_from",
        "period_to",
        "automatic",
        "decided_at",
    ]
    list_filter = ["outcome", "automatic"]
    search_fields = ["number"]
    readonly_fields = [f.name for f in Decision._meta.fields]


@admin.register(Assignment)
class AssignmentAdmin(RecordAdmin):
    list_display = ["id", "person", "measure", "amount", "active_from", "active_to", "status"]
    list_filter = ["status", "measure"]
    search_fields = ["person__last_name", "person__snils"]
    list_select_related = ["person", "measure"]
    readonly_fields = [f.name for f in Assignment._meta.fields]


@admin.register(Recalculation)
class RecalculationAdmin(RecordAdmin):
    list_display = [
        "id",
        "assignment",
        "cause",
        "effective_from",
        "old_amount",
        "new_amount",
        "difference",
        "applied_at",
    ]
    list_filter = ["cause"]
    search_fields = ["case__person__last_name", "case__person__snils"]
    list_select_related = ["assignment__measure", "case"]
    readonly_fields = [f.name for f in Recalculation._meta.fields]


@admin.register(Application)
class ApplicationAdmin(RecordAdmin):
    list_display = ["id", "person", "applicant", "measure", "channel", "status", "submitted_at"]
    list_filter = ["status", "channel", "measure"]
    search_fields = ["person__last_name", "person__snils"]
    list_select_related = ["person", "applicant", "measure"]
    readonly_fields = [f.name for f in Application._meta.fields]


class ContractStepInline(admin.TabularInline):
    model = ContractStep
    extra = 0
    fields = ["title", "due_on", "done_on", "note"]
    readonly_fields = fields


class ContractAssistanceInline(admin.TabularInline):
    model = ContractAssistance
    extra = 0
    fields = ["kind", "amount", "months", "note"]
    readonly_fields = fields


@admin.register(SocialContract)
class SocialContractAdmin(RecordAdmin):
    """Social contracts; drawn up, signed and closed through the API's services."""

    list_display = ["number", "person", "subject", "term_from", "term_to", "status"]
    list_filter = ["status", "subject"]
    search_fields = ["number", "person__last_name", "person__snils"]
    list_select_related = ["person"]
    readonly_fields = [f.name for f in SocialContract._meta.fields]
    inlines = [ContractStepInline, ContractAssistanceInline]
