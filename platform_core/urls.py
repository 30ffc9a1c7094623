from rest_framework.routers import DefaultRouter

from platform_core import apis

router = DefaultRouter()
router.register("regions", apis.RegionViewSet, basename="region")
router.register("municipalities", apis.MunicipalityViewSet, basename="municipality")
router.register("organisations", apis.OrganisationViewSet, basename="organisation")
router.register("calendar", apis.CalendarViewSet, basename="calendar-day")
router.register("events", apis.OutboxEventViewSet, basename="event")
router.register("deliveries", apis.EventDeliveryViewSet, basename="delivery")
router.register("personal-file-views", apis.PersonalFileViewViewSet, basename="personal-file-view")

urlpatterns = router.urls
