"""Root URLs: the only place that knows every app."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from platform_core.views import healthz

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("portal/", include("frontoffice.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/v1/core/", include("platform_core.urls")),
    path("api/v1/registries/", include("registries.urls")),
    path("api/v1/measures/", include("measures.urls")),
    path("api/v1/treasury/", include("treasury.urls")),
    path("api/v1/integration/", include("integration.urls")),
    path("api/v1/contact-center/", include("contact_center.urls")),
    path("api/v1/portal/", include("frontoffice.api_urls")),
]
