"""Stored files: serve them to a browser that may see them, and delete them once their rows are gone.

On S3 a browser gets a short-lived presigned URL, so big files bypass the web processes; on local
disk (no public media route) the access-checked view streams the file itself.
"""

import logging
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.core.files.storage import Storage
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header

logger = logging.getLogger(__name__)


def signs_urls(storage: Storage) -> bool:
    """Return whether the storage hands out presigned, expiring URLs (S3) rather than public paths."""
    from storages.backends.s3 import S3Storage

    return isinstance(storage, S3Storage) and bool(storage.querystring_auth)


def file_url(field_file: FieldFile | None, *, expires: int | None = None, download_name: str = "") -> str | None:
    """Return a presigned URL valid for `expires` seconds, or None when a view must serve the file.

    Call it only after checking that the requester may see the file: whoever holds the URL can
    read the object until it expires. On local disk there is no such URL (media has no public
    route), so the caller streams the file through its own access-checked view instead.
    """
    if not field_file or not field_file.name:
        return None
    storage = field_file.storage
    if not signs_urls(storage):
        return None
    parameters = {}
    if download_name:
        # S3 sends this back as the Content-Disposition header, so the browser saves a friendly name.
        parameters["ResponseContentDisposition"] = content_disposition_header(True, download_name)
    lifetime = expires if expires is not None else int(getattr(settings, "AWS_QUERYSTRING_EXPIRE", 300))
    return storage.url(field_file.name, parameters=parameters or None, expire=lifetime)


def serve_file(
    field_file: FieldFile | None, *, public_max_age: int | None = None, download_name: str = ""
) -> HttpResponse:
    """Return a response that gives the browser this stored JPEG, after the caller checked access.

    ``public_max_age`` lets shared caches keep a file everyone may see (a published challenge's
    picture); otherwise only the browser keeps a private copy. ``download_name`` makes the browser
    save the file under that name instead of showing it.
    """
    if not field_file:
        raise Http404("No file.")
    url = file_url(field_file, download_name=download_name)
    if url is not None:
        # The redirect itself must not outlive the URL it points at.
        redirect = HttpResponseRedirect(url)
        patch_cache_control(redirect, private=True, no_store=True)
        return redirect
    try:
        handle = field_file.storage.open(field_file.name, "rb")
    except FileNotFoundError as error:
        raise Http404("File missing.") from error
    response = FileResponse(
        handle, content_type="image/jpeg", as_attachment=bool(download_name), filename=download_name or None
    )
    # Names are random and never reused, so a cached copy never goes stale.
    if public_max_age is not None:
        patch_cache_control(response, public=True, max_age=public_max_age)
    else:
        patch_cache_control(response, private=True, max_age=3600)
    return response


def walk_storage(storage: Storage, prefix: str) -> Iterator[str]:
    """Yield every file name under a storage prefix, recursively."""
    try:
        directories, files = storage.listdir(prefix)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in files:
        yield f"{prefix}/{name}"
    for directory in directories:
        yield from walk_storage(storage, f"{prefix}/{directory}")


def delete_files(storage: Storage, names: Iterable[str]) -> None:
    """Delete stored files, logging (not raising) the ones that resist."""
    for name in names:
        try:
            storage.delete(name)
        except Exception:  # one stubborn file must not keep the others alive
            logger.exception("could not delete %s", name)
