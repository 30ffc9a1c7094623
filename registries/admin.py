"""Back-office admin of the base registries, scoped to the user's jurisdiction."""

from __future__ import annotations

import contextlib
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from platform_core.admin import ScopedAdmin
from platform_core.audit import personal_file_view_log
from platform_core.validators import normalize_snils
from registries.models import (
    Bank,
    ClassifierItem,
    EmploymentRecord,
    IncomeRecord,
    Insurer,
    LifeEvent,
    Person,
    PersonStatus,
    Relation,
    SubsistenceMinimum,
)
from registries.services.agency_data import incomes_changed


class PersonForm(forms.ModelForm):
    class Meta:
        model = Person
        fields = "__all__"  # noqa: DJ007 (PersonAdmin.fieldsets chooses what is shown)

    def clean_snils(self) -> str | None:
        value = self.cleaned_data.get("snils")
        if not value:
            return None
        try:
            return normalize_snils(value)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc


class RelationInline(admin.TabularInline):
    model = Relation
    fk_name = "from_person"
    extra = 0
    autocomplete_fields = ["to_person"]
    fields = ["kind", "basis", "to_person", "valid_from", "valid_to", "document"]


class StatusInline(admin.TabularInline):
    model = PersonStatus
    extra = 0


@admin.register(Person)
class PersonAdmin(ScopedAdmin, SimpleHistoryAdmin):
    form = PersonForm
    list_display = ["__str__", "snils", "birth_date", "sex", "region", "municipality", "death_date"]
    list_filter = ["sex", "region", "municipality"]
    search_fields = ["snils", "last_name", "first_name", "patronymic"]
    date_hierarchy = "birth_date"
    show_full_result_count = False  # counting a million rows on every page is wasted work
    readonly_fields = ["created_at", "updated_at"]
    inlines = [RelationInline, StatusInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "snils",
                    ("last_name", "first_name", "patronymic"),
                    ("birth_date", "sex"),
                    "death_date",
                    "citizenship",
                ]
            },
        ),
        (_("Address"), {"fields": ["region", "municipality", "address", "fias_guid"]}),
        (
            _("Contacts and consents"),
            {"fields": ["phone", "email", "notification_channels", "consent_proactive"]},
        ),
        (_("Bank details"), {"fields": ["bank_bic", "bank_account", "bank_card"]}),
        (None, {"fields": ["created_at", "updated_at"]}),
    ]

    def get_search_results(self, request: HttpRequest, queryset, search_term: str):  # type: ignore[no-untyped-def]
        # Officers type a SNILS in any spelling; the registry stores the canonical one.
        with contextlib.suppress(ValidationError):
            search_term = normalize_snils(search_term)
        return super().get_search_results(request, queryset, search_term)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            person = self.get_queryset(request).filter(pk=object_id).first()
            if person is not None:
                personal_file_view_log(
                    actor=request.user,
                    subject=person,
                    channel="admin",
                    remote_addr=request.META.get("REMOTE_ADDR"),
                )
        return response


@admin.register(Relation)
class RelationAdmin(ScopedAdmin, SimpleHistoryAdmin):
    list_display = ["kind", "basis", "from_person", "to_person", "valid_from", "valid_to"]
    list_filter = ["kind", "basis"]
    autocomplete_fields = ["from_person", "to_person"]
    show_full_result_count = False


@admin.register(LifeEvent)
class LifeEventAdmin(ScopedAdmin, SimpleHistoryAdmin):
    list_display = ["kind", "person", "occurred_on", "learned_at", "source_system", "status"]
    list_filter = ["kind", "status", "source_system"]
    search_fields = ["source_event_id", "act_number", "person__snils"]
    autocomplete_fields = ["person", "corrects"]
    date_hierarchy = "occurred_on"
    show_full_result_count = False


@admin.register(PersonStatus)
class PersonStatusAdmin(ScopedAdmin, SimpleHistoryAdmin):
    list_display = ["person", "kind", "disability_group", "valid_from", "valid_to", "source"]
    list_filter = ["kind", "disability_group", "from_childhood"]
    autocomplete_fields = ["person"]
    show_full_result_count = False


@admin.register(IncomeRecord)
class IncomeRecordAdmin(ScopedAdmin, SimpleHistoryAdmin):
    list_display = ["person", "kind", "month", "amount", "source"]
    list_filter = ["kind", "source"]
    autocomplete_fields = ["person"]
    show_full_result_count = False

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        before = {(form.initial.get("person"), form.initial.get("month"))} if change else set()
        super().save_model(request, obj, form, change)
        # What was decided on these months is worked out again (measures listens).
        for person_id, month in before | {(obj.person_id, obj.month)}:
            if person_id and month:
                incomes_changed(
                    person_id=person_id,
                    months=[month],
                    key=f"income:{obj.pk}:{obj.history.latest().history_id}",
                )

    def delete_model(self, request, obj):  # type: ignore[no-untyped-def]
        self.delete_queryset(request, IncomeRecord.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        gone = list(queryset.values_list("pk", "person_id", "month"))
        super().delete_queryset(request, queryset)
        for pk, person_id, month in gone:
            incomes_changed(person_id=person_id, months=[month], key=f"income:{pk}:deleted")


@admin.register(EmploymentRecord)
class EmploymentRecordAdmin(ScopedAdmin, SimpleHistoryAdmin):
    list_display = ["person", "insurer", "position", "started_on", "ended_on"]
    autocomplete_fields = ["person", "insurer"]


@admin.register(Insurer)
class InsurerAdmin(ScopedAdmin, SimpleHistoryAdmin):
    list_display = [
        "name",
        "kind",
        "inn",
        "ogrn",
        "kpp",
        "region",
        "registered_on",
        "deregistered_on",
    ]
    list_filter = ["kind", "region"]
    search_fields = ["name", "inn", "ogrn", "registration_number"]


@admin.register(ClassifierItem)
class ClassifierItemAdmin(ScopedAdmin):
    list_display = ["classifier", "code", "name", "valid_from", "valid_to", "is_demo"]
    list_filter = ["classifier", "is_demo"]
    search_fields = ["code", "name"]


@admin.register(Bank)
class BankAdmin(ScopedAdmin):
    list_display = ["bic", "name", "city", "valid_from", "valid_to", "is_demo"]
    search_fields = ["bic", "name"]


@admin.register(SubsistenceMinimum)
class SubsistenceMinimumAdmin(ScopedAdmin):
    list_display = ["region", "year", "group", "amount", "valid_from", "is_demo"]
    list_filter = ["year", "group", "is_demo", "region"]
