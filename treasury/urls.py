from django.urls import re_path
from rest_framework.routers import DefaultRouter

from treasury import apis
from treasury.services.reports import ReportKind

router = DefaultRouter()
router.register("accruals", apis.AccrualViewSet, basename="accrual")
router.register("payments", apis.PaymentViewSet, basename="payment")
router.register("batches", apis.PaymentBatchViewSet, basename="payment-batch")
router.register("ledger", apis.LedgerEntryViewSet, basename="ledger-entry")

urlpatterns = [
    *router.urls,
    re_path(
        rf"^reports/(?P<kind>{'|'.join(ReportKind.values)})/$",
        apis.TreasuryReportView.as_view(),
        name="treasury-report",
    ),
]
