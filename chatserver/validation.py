"""Payload validation shared by socket handlers and HTTP views. Each helper returns a clean value
or raises InvalidPayload with a message that names the field."""
from __future__ import annotations

import re
from typing import Any

from .errors import InvalidFields, InvalidPayload

EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[^@\s<>\"']{1,255}\.[A-Za-z]{2,63}$")
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def payload(value: Any) -> dict:
    """The payload must be a JSON object; a missing payload counts as {}."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidPayload("payload must be a JSON object")
    return value


def text(obj: dict, name: str, max_chars: int, required: bool = True) -> str | None:
    value = obj.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidPayload(f"'{name}' must be a string", code="invalid_payload")
    value = value.strip()
    if "\x00" in value:
        raise InvalidPayload(f"'{name}' must not contain NUL characters")
    if not value:
        if not required:
            return None
        raise InvalidPayload(f"'{name}' must not be empty", code="empty_text")
    if len(value) > max_chars:
        raise InvalidPayload(f"'{name}' is longer than {max_chars} characters", code="text_too_long")
    return value


def client_id(obj: dict) -> str:
    value = obj.get("client_id")
    if not isinstance(value, str) or not CLIENT_ID_RE.match(value):
        raise InvalidPayload("'client_id' must be a string of 1-64 letters, digits, '_', '-', '.', ':'")
    return value


def integer(obj: dict, name: str, minimum: int | None = None, maximum: int | None = None,
            required: bool = True) -> int | None:
    value = obj.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidPayload(f"'{name}' must be an integer")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise InvalidPayload(f"'{name}' must be between {minimum} and {maximum}", code="out_of_range")
    return value


def id_list(obj: dict, name: str, maximum: int, max_items: int = 100) -> list[int]:
    """A list of positive integer ids (at most `max_items`)."""
    value = obj.get(name)
    if not isinstance(value, list) or len(value) > max_items:
        raise InvalidPayload(f"'{name}' must be a list of at most {max_items} ids")
    if any(isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= maximum for v in value):
        raise InvalidPayload(f"'{name}' must hold positive integer ids")
    return value


def boolean(obj: dict, name: str, required: bool = True) -> bool | None:
    value = obj.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, bool):
        raise InvalidPayload(f"'{name}' must be true or false")
    return value


def choice(obj: dict, name: str, options: set[str]) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or value not in options:
        raise InvalidPayload(f"'{name}' must be one of: {', '.join(sorted(options))}")
    return value


def email(obj: dict, name: str = "email") -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not EMAIL_RE.match(value.strip()):
        raise InvalidPayload(f"'{name}' must be a valid email address", code="invalid_email")
    return value.strip()


def slug(obj: dict, name: str = "slug") -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,119}", value):
        raise InvalidPayload(f"'{name}' must be an article slug")
    return value


def plainly(check, message: str):
    """Run `check()`; if it refuses, refuse with `message` instead (same code): the words a person filling in a
    form needs, saying what to do ("Enter a whole number from 1 to 50"), rather than the payload's field name."""
    try:
        return check()
    except InvalidPayload as exc:
        raise InvalidPayload(message, code=exc.code) from None


def collect_fields(checks: dict) -> dict:
    """Run each field's check (name -> zero-argument function) and gather every failure, so a form can show
    all its errors at once; the error code is that of the first failing field."""
    values, errors, first_code = {}, {}, None
    for name, check in checks.items():
        try:
            values[name] = check()
        except InvalidPayload as exc:
            errors[name] = exc.message
            first_code = first_code or exc.code
    if errors:
        raise InvalidFields(errors, code=first_code)
    return values
