"""The treasury in the admin: accruals, payments, batches and the ledger, scoped to the
staff user's territory, written only by the payroll (read-only here)."""

from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from platform_core.admin import ReadOnlyAdmin, ScopedAdmin
from platform_core.errors import DomainError
from treasury.models import Accrual, BudgetLimit, LedgerEntry, Payment, PaymentBatch, Posting
from treasury.services.bank import BankRefused, batch_approve, batch_send
from treasury.services.reports import (
    ReportFilter,
    ReportFormat,
    ReportKind,
    ReportTooLarge,
    report_build,
    report_csv,
    report_file_name,
    report_pdf,
)


@admin.register(Accrual)
class AccrualAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "person",
        "measure",
        "period",
        "kind",
        "day_from",
        "day_to",
        "amount",
        "held",
    ]
    list_filter = ["kind", "source", "period", "held"]
    search_fields = ["person__last_name", "person__snils"]
    list_select_related = ["person", "measure"]
    readonly_fields = [f.name for f in Accrual._meta.fields]


@admin.register(BudgetLimit)
class BudgetLimitAdmin(ScopedAdmin):
    list_display = ["year", "region", "source", "measure", "amount"]
    list_filter = ["year", "source"]
    list_select_related = ["region", "measure"]
    autocomplete_fields = ["measure"]


@admin.register(PaymentBatch)
class PaymentBatchAdmin(ReadOnlyAdmin):
    list_display = ["id", "region", "source", "channel", "pay_date", "status", "count", "total"]
    list_filter = ["status", "source", "channel", "period"]
    readonly_fields = [f.name for f in PaymentBatch._meta.fields]
    actions = ["approve", "send", "register_pdf", "register_csv"]

    @admin.action(permissions=["operate"], description=_("Approve the selected batches"))
    def approve(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        self._each(
            request,
            queryset,
            lambda batch: batch_approve(batch=batch, officer=request.user, now=timezone.now()),
        )

    @admin.action(permissions=["operate"], description=_("Send the selected batches to the bank"))
    def send(self, request: HttpRequest, queryset: models.QuerySet) -> None:
        self._each(request, queryset, lambda batch: batch_send(batch=batch, now=timezone.now()))

    @admin.action(permissions=["view"], description=_("Download the batch's register (PDF)"))
    def register_pdf(self, request: HttpRequest, queryset: models.QuerySet) -> HttpResponse | None:
        return self._register(request, queryset, ReportFormat.PDF)

    @admin.action(permissions=["view"], description=_("Download the batch's register (CSV)"))
    def register_csv(self, request: HttpRequest, queryset: models.QuerySet) -> HttpResponse | None:
        return self._register(request, queryset, ReportFormat.CSV)

    def _register(
        self, request: HttpRequest, queryset: models.QuerySet, fmt: str
    ) -> HttpResponse | None:
        batches = list(queryset[:2])
        if len(batches) != 1:
            self.message_user(
                request, _("Select one batch to download its register."), messages.WARNING
            )
            return None
        report = report_build(
            kind=ReportKind.REGISTER,
            spec=ReportFilter(batch=batches[0]),
            now=timezone.now(),
            user=request.user,
        )
        if fmt == ReportFormat.PDF:
            try:
                answer: HttpResponse = HttpResponse(
                    report_pdf(report), content_type="application/pdf"
                )
            except ReportTooLarge as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return None
        else:
            answer = StreamingHttpResponse(
                report_csv(report), content_type="text/csv; charset=utf-8"
            )
        answer["Content-Disposition"] = f'attachment; filename="{report_file_name(report, fmt)}"'
        return answer

    def _each(self, request: HttpRequest, queryset: models.QuerySet, act) -> None:  # type: ignore[no-untyped-def]
        for batch in queryset:
            try:
                done = act(batch)
            except BankRefused as exc:
                problems = "; ".join(
                    f"{p.get('line')}: {p.get('field')}: {p.get('message')}" for p in exc.problems
                )
                self.message_user(request, f"{batch}: {exc.message} {problems}", messages.ERROR)
            except DomainError as exc:
                self.message_user(request, f"{batch}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{done}: {done.get_status_display()}", messages.SUCCESS)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "recipient_name",
        "measure",
        "period",
        "amount",
        "withheld",
        "channel",
        "status",
    ]
    list_filter = ["status", "channel", "source", "period"]
    search_fields = ["recipient_name", "snils", "uuid"]
    list_select_related = ["measure"]
    readonly_fields = [f.name for f in Payment._meta.fields]


class PostingInline(admin.TabularInline):
    model = Posting
    extra = 0
    fields = ["account", "source", "measure", "debit", "credit"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "region", "period", "at", "description"]
    list_filter = ["kind", "period"]
    readonly_fields = [f.name for f in LedgerEntry._meta.fields]
    inlines = [PostingInline]
