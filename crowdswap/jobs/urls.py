"""Routes of the job engine: the HTML retry (mounted at /) and the API (mounted at /api/)."""

from django.urls import path

from crowdswap.jobs import api, views

urlpatterns = [
    path("jobs/<int:job_id>/retry/", views.job_retry, name="job-retry"),
]

api_urlpatterns = [
    path("jobs/<int:job_id>/", api.JobDetailApi.as_view(), name="api-job-detail"),
    path("jobs/<int:job_id>/retry/", api.JobRetryApi.as_view(), name="api-job-retry"),
]
