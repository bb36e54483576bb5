"""What the query modules get on PostgreSQL: an object that behaves like the part of `sqlite_utils.Database` they
use, so one set of query functions serves both engines.

- `db.execute(sql, params)` takes SQLite's `?` placeholders (translated to psycopg's `%s`, once per statement text);
- rows read like `sqlite3.Row`: `row["col"]`, `row[0]`, `dict(row)`, `row.keys()`, tuple unpacking;
- `cursor.lastrowid` after an INSERT into a table with an identity `id` (the statement gets `RETURNING id`);
- `db.locks_rows` is true inside a write transaction: `locks.row_lock(db)` then adds `FOR NO KEY UPDATE`.

Everything here is specific to PostgreSQL (psycopg 3) and stays inside chatserver/store.
"""
from __future__ import annotations

import functools
import re

import psycopg

_INSERT_INTO = re.compile(r"\s*INSERT\s+INTO\s+(\w+)", re.IGNORECASE)


class Row:
    """A result row that reads like sqlite3.Row: by position, by column name, `dict(row)`, `row.keys()`."""

    __slots__ = ("_values", "_names", "_index")

    def __init__(self, values, names: list[str], index: dict[str, int]):
        self._values = values
        self._names = names
        self._index = index

    def __getitem__(self, key):
        if isinstance(key, str):
            try:
                return self._values[self._index[key]]
            except KeyError:
                raise IndexError(f"no such column: {key}") from None
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._names)

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other) -> bool:
        if isinstance(other, Row):
            return self._names == other._names and tuple(self._values) == tuple(other._values)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self._values))

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._names, self._values))!r})"


def portable_row(cursor):
    """psycopg row factory: `Row`s sharing one name index per result."""
    description = cursor.description
    if description is None:
        return tuple
    names = [column.name for column in description]
    index: dict[str, int] = {}
    for position, name in enumerate(names):
        index.setdefault(name, position)  # like sqlite3.Row: the first column of that name

    def make(values):
        return Row(values, names, index)

    return make


class PortableCursor(psycopg.Cursor):
    """A psycopg cursor with sqlite3's `lastrowid` (the `RETURNING id` of the INSERT it ran)."""

    @functools.cached_property
    def lastrowid(self):
        if self.description is None:
            return None
        row = self.fetchone()
        return None if row is None else row[0]


def translate(sql: str, identity_tables: frozenset[str]) -> str:
    """SQLite's statement text for psycopg: `?` -> `%s`, a literal `%` -> `%%` (outside quoted strings and
    identifiers), and `RETURNING id` after an INSERT into a table whose id PostgreSQL generates."""
    out = []
    quote = None
    for char in sql:
        if quote is not None:
            out.append("%%" if char == "%" else char)
            if char == quote:
                quote = None
            continue
        if char in ("'", '"'):
            quote = char
            out.append(char)
        elif char == "?":
            out.append("%s")
        elif char == "%":
            out.append("%%")
        else:
            out.append(char)
    text = "".join(out)
    insert = _INSERT_INTO.match(text)
    if insert and insert.group(1).lower() in identity_tables and not re.search(r"\bRETURNING\b", text, re.I):
        text = text.rstrip().rstrip(";") + " RETURNING id"
    return text


class Dialect:
    """Per database: which tables have an identity id, and the translated text of every statement seen."""

    def __init__(self, identity_tables: frozenset[str]):
        self.identity_tables = identity_tables
        self._translated: dict[str, str] = {}

    def translate(self, sql: str) -> str:
        text = self._translated.get(sql)
        if text is None:
            if len(self._translated) > 4096:    # statement texts are a bounded set; this only guards a bug
                self._translated.clear()
            text = self._translated[sql] = translate(sql, self.identity_tables)
        return text


class PostgresDatabase:
    """The `db` a query function receives on PostgreSQL (see the module docstring)."""

    def __init__(self, conn: psycopg.Connection, dialect: Dialect, locks_rows: bool):
        self.conn = conn
        self.dialect = dialect
        self.locks_rows = locks_rows

    def execute(self, sql: str, params=None) -> PortableCursor:
        cursor = self.conn.cursor()
        cursor.execute(self.dialect.translate(sql), params if params is not None else ())
        return cursor

    def lock_transaction(self, key: int) -> None:
        """Wait for the transaction-level advisory lock `key` (released at COMMIT or ROLLBACK)."""
        self.conn.execute("SELECT pg_advisory_xact_lock(%s)", [key])


CONNECTION_KWARGS = {"row_factory": portable_row, "cursor_factory": PortableCursor, "connect_timeout": 10,
                     "application_name": "chatserver"}
