"""Job endpoints: the owner reads and retries; strangers and anonymous visitors get nothing."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from crowdswap.jobs.models import Job


@pytest.fixture
def job(host) -> Job:
    return Job.objects.create(
        kind="ping", owner=host, status=Job.Status.FAILED, attempts=3, error="Tried 3 times", payload={"seconds": 0}
    )


def test_owner_reads_job(host_client, job):
    response = host_client.get(f"/api/jobs/{job.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == job.pk
    assert (body["kind"], body["status"], body["error"], body["attempts"]) == ("ping", "failed", "Tried 3 times", 3)
    assert body["payload"] == {"seconds": 0}


def test_stranger_gets_404(stranger_client, job):
    assert stranger_client.get(f"/api/jobs/{job.pk}/").status_code == 404
    assert stranger_client.post(f"/api/jobs/{job.pk}/retry/").status_code == 404
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED


def test_anonymous_is_refused(client, job):
    assert client.get(f"/api/jobs/{job.pk}/").status_code in (401, 403)
    assert client.post(f"/api/jobs/{job.pk}/retry/").status_code in (401, 403)


def test_missing_job_is_404(host_client):
    assert host_client.get("/api/jobs/999999/").status_code == 404


def test_owner_retries_failed_job_through_api(host_client, job, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = host_client.post(f"/api/jobs/{job.pk}/retry/")
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert callbacks, "retry must nudge a worker after commit"
    job.refresh_from_db()
    assert (job.status, job.attempts, job.error) == (Job.Status.QUEUED, 0, "")


def test_retry_of_a_job_that_did_not_fail_is_a_conflict(host_client, job):
    Job.objects.filter(id=job.pk).update(status=Job.Status.DONE)
    response = host_client.post(f"/api/jobs/{job.pk}/retry/")
    assert response.status_code == 409
    assert "Only a failed job" in response.json()["detail"]


def test_api_retry_needs_csrf_for_session_users(host, job):
    client = Client(enforce_csrf_checks=True)
    client.force_login(host)
    assert client.post(f"/api/jobs/{job.pk}/retry/").status_code == 403
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED


def test_html_retry_redirects_back(host_client, job):
    response = host_client.post(f"/jobs/{job.pk}/retry/", {"next": "/rooms/7/"})
    assert response.status_code == 302
    assert response["Location"] == "/rooms/7/"
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED


def test_html_retry_ignores_offsite_next(host_client, job):
    response = host_client.post(f"/jobs/{job.pk}/retry/", {"next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/rooms/"


def test_html_retry_of_done_job_changes_nothing(host_client, job):
    Job.objects.filter(id=job.pk).update(status=Job.Status.DONE)
    response = host_client.post(f"/jobs/{job.pk}/retry/")
    assert response.status_code == 302
    assert "Only a failed job can be retried." in [str(m) for m in get_messages(response.wsgi_request)]
    job.refresh_from_db()
    assert job.status == Job.Status.DONE


def test_html_retry_is_owner_only_and_post_only(stranger_client, job):
    assert stranger_client.post(f"/jobs/{job.pk}/retry/").status_code == 404
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED


def test_html_retry_refuses_get(host_client, job):
    assert host_client.get(f"/jobs/{job.pk}/retry/").status_code == 405


def test_html_retry_sends_anonymous_to_login(client, job):
    response = client.post(f"/jobs/{job.pk}/retry/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
