from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from crowdswap import health, views
from crowdswap.jobs import urls as job_urls

# The admin signs in through allauth's login page, with its throttles, instead of an unthrottled form of its own.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("rooms/", include("rooms.urls")),
    path("rooms/", include("swaps.urls")),
    path("play/", include("swaps.play_urls")),
    path("", include(job_urls.urlpatterns)),
    path("api/", include("rooms.api_urls")),
    path("api/", include("swaps.api_urls")),
    path("api/", include(job_urls.api_urlpatterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
# No public /media/ route: friends' photos are personal data, so every file is served by a
# view that checks who is asking (and, on S3, redirects to a short-lived presigned URL).
