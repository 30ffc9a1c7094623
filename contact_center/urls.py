from rest_framework.routers import DefaultRouter

from contact_center import apis

router = DefaultRouter()
router.register("notifications", apis.NotificationViewSet, basename="notification")

urlpatterns = router.urls
