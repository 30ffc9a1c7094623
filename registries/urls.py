from rest_framework.routers import DefaultRouter

from registries import apis

router = DefaultRouter()
router.register("persons", apis.PersonViewSet, basename="person")
router.register("relations", apis.RelationViewSet, basename="relation")
router.register("life-events", apis.LifeEventViewSet, basename="life-event")
router.register("statuses", apis.PersonStatusViewSet, basename="status")
router.register("incomes", apis.IncomeRecordViewSet, basename="income")
router.register("insurers", apis.InsurerViewSet, basename="insurer")
router.register("classifiers", apis.ClassifierItemViewSet, basename="classifier-item")
router.register("banks", apis.BankViewSet, basename="bank")
router.register(
    "subsistence-minimums", apis.SubsistenceMinimumViewSet, basename="subsistence-minimum"
)

urlpatterns = router.urls
