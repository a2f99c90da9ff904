from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from crowdswap import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("rooms/", include("rooms.urls")),
    path("play/", include("rooms.play_urls")),
    path("", include("swaps.urls")),
    path("api/", include("rooms.api_urls")),
    path("api/", include("swaps.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
# No public /media/ route: friends' photos are personal data, so every file is served by a
# view that checks who is asking (and, on S3, hands out a short-lived presigned URL).
