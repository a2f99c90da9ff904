from django.urls import path

from swaps import views

urlpatterns = [
    path("jobs/<int:job_id>/retry/", views.job_retry, name="job-retry"),
]
