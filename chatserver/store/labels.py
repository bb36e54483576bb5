"""The label list (kept by admins), the labels on each conversation, and a conversation's priority."""
from __future__ import annotations

from sqlite_utils import Database

from ..errors import Conflict, NotFound
from .locks import lock_conversation


def all_labels(db: Database) -> list[dict]:
    """Every label with how many conversations carry it, by name."""
    return [dict(r) for r in db.execute(
        "SELECT l.id, l.name, l.colour, (SELECT count(*) FROM conversation_labels cl WHERE cl.label_id = l.id) "
        "AS conversations FROM labels l ORDER BY lower(l.name), l.id").fetchall()]


def add_label(db: Database, name: str, colour: str, now: float) -> dict:
    if db.execute("SELECT 1 FROM labels WHERE lower(name) = lower(?)", [name]).fetchone():
        raise Conflict("a label with that name exists", code="label_exists")
    cur = db.execute("INSERT INTO labels (name, colour, created_at) VALUES (?, ?, ?)", [name, colour, now])
    return {"id": cur.lastrowid, "name": name, "colour": colour, "conversations": 0}


def delete_label(db: Database, label_id: int) -> None:
    """Removes the label from the list and from every conversation that carried it."""
    if db.execute("SELECT 1 FROM labels WHERE id = ?", [label_id]).fetchone() is None:
        raise NotFound("no such label", code="label_not_found")
    db.execute("DELETE FROM conversation_labels WHERE label_id = ?", [label_id])
    db.execute("DELETE FROM labels WHERE id = ?", [label_id])


def labels_of(db: Database, conversation_id: int) -> list[dict]:
    return [dict(r) for r in db.execute(
        "SELECT l.id, l.name, l.colour FROM conversation_labels cl JOIN labels l ON l.id = cl.label_id "
        "WHERE cl.conversation_id = ? ORDER BY lower(l.name), l.id", [conversation_id]).fetchall()]


def labels_by_conversation(db: Database, conversation_ids: list[int]) -> dict[int, list[str]]:
    """Label names per conversation, for lists and reports (conversations without labels are left out)."""
    found: dict[int, list[str]] = {}
    for start in range(0, len(conversation_ids), 500):
        chunk = conversation_ids[start:start + 500]
        marks = ", ".join("?" for _ in chunk)
        for row in db.execute(
                f"SELECT cl.conversation_id, l.name FROM conversation_labels cl JOIN labels l ON l.id = cl.label_id "
                f"WHERE cl.conversation_id IN ({marks}) ORDER BY lower(l.name)", chunk).fetchall():
            found.setdefault(row[0], []).append(row[1])
    return found


def set_labels(db: Database, conversation_id: int, label_ids: list[int], agent_id: int, now: float) -> list[dict]:
    """Replace the conversation's labels with `label_ids` (each must exist); returns the labels it now has."""
    lock_conversation(db, conversation_id)
    wanted = sorted(set(label_ids))
    if wanted:
        marks = ", ".join("?" for _ in wanted)
        known = {r[0] for r in db.execute(f"SELECT id FROM labels WHERE id IN ({marks})", wanted).fetchall()}
        missing = [i for i in wanted if i not in known]
        if missing:
            raise NotFound(f"no label with id {missing[0]}", code="label_not_found")
    current = {r[0] for r in db.execute("SELECT label_id FROM conversation_labels WHERE conversation_id = ?",
                                        [conversation_id]).fetchall()}
    for label_id in sorted(current - set(wanted)):
        db.execute("DELETE FROM conversation_labels WHERE conversation_id = ? AND label_id = ?",
                   [conversation_id, label_id])
    for label_id in wanted:
        if label_id not in current:
            db.execute("INSERT INTO conversation_labels (conversation_id, label_id, agent_id, created_at) "
                       "VALUES (?, ?, ?, ?)", [conversation_id, label_id, agent_id, now])
    return labels_of(db, conversation_id)


def set_priority(db: Database, conversation_id: int, priority: str) -> None:
    db.execute("UPDATE conversations SET priority = ? WHERE id = ?", [priority, conversation_id])
