"""Refusals a person can act on, raised by services and turned into one HTTP status everywhere."""


class ServiceError(Exception):
    """A request the service refuses, with a message a person can act on (400)."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(ServiceError):
    """A request this person may not make (403), e.g. a cross-site post or a quota reached."""

    status = 403


class Conflict(ServiceError):
    """A request that contradicts the current state (409): already finished, not failed, not ready yet."""

    status = 409


class Gone(ServiceError):
    """The thing asked for existed but is closed for good (410)."""

    status = 410


class RateLimited(ServiceError):
    """Too many requests in a short time (429)."""

    status = 429
