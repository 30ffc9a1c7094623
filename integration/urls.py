from django.urls import path
from rest_framework.routers import DefaultRouter

from integration import apis, apis_outbound

router = DefaultRouter()
router.register("systems", apis.ExternalSystemViewSet, basename="external-system")
router.register("inbox", apis.InboundEventViewSet, basename="inbound-event")
router.register("requests", apis_outbound.DataRequestViewSet, basename="data-request")
router.register("complaints", apis_outbound.ComplaintViewSet, basename="data-complaint")
router.register("exchanges", apis_outbound.ExchangeViewSet, basename="data-exchange")
router.register("circuits", apis_outbound.CircuitViewSet, basename="provider-circuit")
router.register("facts", apis_outbound.FactViewSet, basename="federal-fact")


def _inbound(prefix: str, views: tuple[type, type, type]) -> list:
    single, batch, status = views
    return [
        path(f"{prefix}/events", single.as_view(), name=f"{prefix}-events"),
        path(f"{prefix}/events/batch", batch.as_view(), name=f"{prefix}-events-batch"),
        path(f"{prefix}/events/<str:event_id>", status.as_view(), name=f"{prefix}-event-status"),
    ]


urlpatterns = [
    *_inbound("civil-registry", apis.CIVIL_REGISTRY),
    *_inbound("disability", apis.DISABILITY),
    *_inbound("education", apis.EDUCATION),
    *router.urls,
]
