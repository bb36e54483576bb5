"""Visitors' identities as the host site states them: verified (a valid signature: `customer_id`, unique) or
claimed (name and email only, never merged)."""
from __future__ import annotations

from sqlite_utils import Database

from .locks import row_lock


def of_visitor(db: Database, visitor_id: str) -> dict | None:
    row = db.execute("SELECT customer_id, verified, name, email, email_verified FROM visitor_identities "
                     "WHERE visitor_id = ?", [visitor_id]).fetchone()
    if row is None:
        return None
    return {"customer_id": row["customer_id"], "verified": bool(row["verified"]), "name": row["name"],
            "email": row["email"], "email_verified": bool(row["email_verified"])}


def visitor_of_customer(db: Database, customer_id: str) -> str | None:
    row = db.execute("SELECT visitor_id FROM visitor_identities WHERE customer_id = ?" + row_lock(db),
                     [customer_id]).fetchone()
    return row[0] if row else None


def save(db: Database, visitor_id: str, customer_id: str | None, name: str | None, email: str | None,
         email_verified: bool, now: float) -> None:
    """Verified (customer_id given) or claimed (None: keeps a verified row's customer id and flag)."""
    db.execute("""
        INSERT INTO visitor_identities (visitor_id, customer_id, verified, name, email, email_verified, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (visitor_id) DO UPDATE SET
            customer_id = COALESCE(excluded.customer_id, visitor_identities.customer_id),
            verified = CASE WHEN excluded.verified = 1 THEN 1 ELSE visitor_identities.verified END,
            name = CASE WHEN excluded.verified = 1 OR visitor_identities.verified = 0 THEN excluded.name
                        ELSE visitor_identities.name END,
            email = CASE WHEN excluded.verified = 1 OR visitor_identities.verified = 0 THEN excluded.email
                         ELSE visitor_identities.email END,
            email_verified = CASE WHEN excluded.verified = 1 THEN excluded.email_verified
                                  ELSE visitor_identities.email_verified END,
            updated_at = excluded.updated_at""",
               [visitor_id, customer_id, int(customer_id is not None), name, email, int(email_verified), now])
