"""The treasury in the admin: accruals, payments, batches and the ledger, scoped to the
staff user's territory, written only by the payroll (read-only here)."""

from django.contrib import admin

from platform_core.admin import ReadOnlyAdmin
from treasury.models import Accrual, LedgerEntry, Payment, PaymentBatch, Posting


@admin.register(Accrual)
class AccrualAdmin(ReadOnlyAdmin):
    list_display = ["id", "person", "measure", "period", "kind", "day_from", "day_to", "amount"]
    list_filter = ["kind", "source", "period"]
    search_fields = ["person__last_name", "person__snils"]
    list_select_related = ["person", "measure"]
    readonly_fields = [f.name for f in Accrual._meta.fields]


@admin.register(PaymentBatch)
class PaymentBatchAdmin(ReadOnlyAdmin):
    list_display = ["id", "region", "source", "channel", "pay_date", "status", "count", "total"]
    list_filter = ["status", "source", "channel", "period"]
    readonly_fields = [f.name for f in PaymentBatch._meta.fields]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["id", "recipient_name", "measure", "period", "amount", "channel", "status"]
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
