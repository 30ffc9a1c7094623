from rest_framework.routers import DefaultRouter

from treasury import apis

router = DefaultRouter()
router.register("accruals", apis.AccrualViewSet, basename="accrual")
router.register("payments", apis.PaymentViewSet, basename="payment")
router.register("batches", apis.PaymentBatchViewSet, basename="payment-batch")
router.register("ledger", apis.LedgerEntryViewSet, basename="ledger-entry")

urlpatterns = router.urls
