"""Direct links to stored media: presigned S3 URLs, so big files bypass the web processes."""

from django.conf import settings
from django.core.files.storage import Storage
from django.db.models.fields.files import FieldFile
from django.utils.http import content_disposition_header


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
