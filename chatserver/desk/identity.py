"""Verified identity (docs/widget.md, "Verified identity"): the host site's server signs its customer's id (and
optionally email) with the secret from Admin → Settings; the widget passes `{id, name, email, signature}` in its
connect. A valid signature makes the customer one visitor on every browser and device (their conversations follow
them); without one, the name and email are kept as claimed (agents see "unverified") and never merge anyone.

signature = hex(HMAC-SHA256(secret, id)) verifies the id; hex(HMAC-SHA256(secret, id + ":" + email)) verifies
the id and the email."""
from __future__ import annotations

import hashlib
import hmac
import re

from ..store import identities as identity_queries
from ..store import visitors as visitor_queries

CUSTOMER_ID_RE = re.compile(r"^[\w.@:+-]{1,128}$")
FIELD_CHARS = 200


def _text(value: object, limit: int = FIELD_CHARS) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value[:limit] or None


def check(secret: str, claimed: object) -> dict | None:
    """The identity as the server believes it: None (nothing usable sent), or {customer_id (None unless the
    signature is valid), name, email, email_verified}."""
    if not isinstance(claimed, dict):
        return None
    name, email = _text(claimed.get("name")), _text(claimed.get("email"), 320)
    customer_id = claimed.get("id")
    signature = claimed.get("signature")
    verified = email_verified = False
    if secret and isinstance(customer_id, str) and CUSTOMER_ID_RE.match(customer_id) and isinstance(signature, str):
        key = secret.encode()
        signature = signature.strip().lower()
        if email and hmac.compare_digest(signature, hmac.new(key, f"{customer_id}:{email}".encode(),
                                                             hashlib.sha256).hexdigest()):
            verified = email_verified = True
        elif hmac.compare_digest(signature, hmac.new(key, customer_id.encode(), hashlib.sha256).hexdigest()):
            verified = True
    if not verified and name is None and email is None:
        return None
    return {"customer_id": customer_id if verified else None, "name": name, "email": email,
            "email_verified": email_verified}


def resolve(db, visitor_id: str | None, identity: dict | None, fresh_id: str, now: float) -> str:
    """Inside the connect's write: the visitor this browser is. A verified customer is their one visitor (a browser
    whose token names another customer's visitor gets theirs, never that one's history); otherwise the token's
    visitor (or `fresh_id`) with any claimed details saved as unverified."""
    if identity is not None and identity["customer_id"] is not None:
        known = identity_queries.visitor_of_customer(db, identity["customer_id"])
        if known is not None:
            visitor_id = known
        else:
            current = identity_queries.of_visitor(db, visitor_id) if visitor_id else None
            if visitor_id is None or (current is not None and current["customer_id"] is not None):
                visitor_id = fresh_id          # that browser's visitor is another customer: not theirs
        visitor_queries.ensure_visitor(db, visitor_id, now)
        identity_queries.save(db, visitor_id, identity["customer_id"], identity["name"], identity["email"],
                              identity["email_verified"], now)
        return visitor_id
    visitor_id = visitor_id or fresh_id
    if identity is not None:
        visitor_queries.ensure_visitor(db, visitor_id, now)
        identity_queries.save(db, visitor_id, None, identity["name"], identity["email"], False, now)
    return visitor_id
