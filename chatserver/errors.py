"""Domain errors with stable codes. Raised deep down, translated at the edge:
to an error ack in socket handlers, to an HTTP status in views. Every code is listed in docs/protocol.md."""
from __future__ import annotations


class ChatError(Exception):
    code = "internal_error"
    http_status = 500

    def __init__(self, message: str = "", code: str | None = None):
        super().__init__(message or self.__doc__ or self.code)
        if code:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0])

    def ack(self) -> dict:
        return {"ok": False, "error": self.code, "message": self.message}


class InvalidPayload(ChatError):
    """The payload is not an object with the documented fields and types."""
    code = "invalid_payload"
    http_status = 400


class InvalidFields(InvalidPayload):
    """One or more fields are not valid; `errors` maps each field to a readable message."""

    def __init__(self, errors: dict[str, str], code: str = "invalid_payload"):
        self.errors = errors
        super().__init__("; ".join(errors.values()), code=code)

    def ack(self) -> dict:
        return {**super().ack(), "fields": self.errors}


class NotFound(ChatError):
    """No such conversation (or it is not yours)."""
    code = "not_found"
    http_status = 404


class Forbidden(ChatError):
    """You may not do that."""
    code = "forbidden"
    http_status = 403


class Conflict(ChatError):
    """The conversation is not in a state that allows this."""
    code = "conflict"
    http_status = 409


class RateLimited(ChatError):
    """Too many messages; slow down."""
    code = "rate_limited"
    http_status = 429


class StorageError(ChatError):
    """The message could not be stored; it was not accepted. Retry later."""
    code = "storage_error"
    http_status = 503


class Unauthorized(ChatError):
    """Log in first (or again: the session ended)."""
    code = "unauthorized"
    http_status = 401


class CsrfFailed(Forbidden):
    """The form or call lacks the CSRF token of this login session."""
    code = "csrf_failed"


class UnknownEvent(ChatError):
    """No such event in this namespace."""
    code = "unknown_event"
    http_status = 404


class TooLarge(ChatError):
    """The request (an inbound email) is larger than allowed."""
    code = "email_too_large"
    http_status = 413


class InvalidAttachment(ChatError):
    """An upload refused for what it is: empty, too large, a type not allowed (read from its bytes), unreadable."""
    code = "attachment_type_not_allowed"
    http_status = 415
    STATUSES = {"attachment_empty": 400, "attachment_too_large": 413, "attachment_type_not_allowed": 415,
                "attachment_unreadable": 415}

    def __init__(self, message: str = "", code: str | None = None):
        super().__init__(message, code)
        self.http_status = self.STATUSES.get(self.code, 415)
