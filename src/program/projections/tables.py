"""Tables of a read model, and the in-memory row sets a batch loads, changes and writes back.

A batch never runs one statement per event: it loads the rows the batch touches in
one ``SELECT … = ANY(…)`` per table, applies the events to plain dicts in Python, and
writes what changed back with one multi-row upsert (``INSERT … SELECT FROM unnest(…)
ON CONFLICT … DO UPDATE``) or, for append-only tables, one binary ``COPY``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from program.projections import changes

from program.projections import storable

Key = Hashable

try:  # msgspec (a dependency of litestar) is several times faster than json
    import msgspec

    _encode = msgspec.json.encode
    loads: Callable[[str], Any] = msgspec.json.decode

    def dumps(value: Any) -> str:
        return _encode(value).decode()

except ImportError:  # pragma: no cover
    loads = json.loads

    def dumps(value: Any) -> str:
        return json.dumps(value, separators=(",", ":"))


@dataclass(frozen=True)
class Table:
    """A read-model table: columns with SQL types and a primary key."""

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    # Columns the projection computes in SQL from its other tables (``derived``): in the
    # table, but never loaded into a batch's rows nor written back from them.
    derived: tuple[tuple[str, str], ...] = ()
    # Columns some index covers (besides the key): their text is kept short enough for
    # a btree row. Filled in from the projection's ``indexes`` (``note_indexes``).
    indexed: set[str] = field(default_factory=set, compare=False, hash=False, repr=False)

    @classmethod
    def define(cls, name: str, columns: str, key: str, derived: str = "") -> Table:
        """``columns`` is ``"id uuid, name text, …"``; ``key`` is ``"id"`` or ``"a, b"``;
        ``derived`` names columns as ``columns`` does."""
        return cls(name, _parse(columns), tuple(k.strip() for k in key.split(",")),
                   _parse(derived))

    @functools.cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)

    @functools.cached_property
    def text_columns(self) -> dict[str, bool]:
        """Each text column, and whether an index covers it."""
        return {c: c in self.key or c in self.indexed
                for c, t in self.columns if t in ("text", "text[]")}

    def storable_text(self, column: str, values: list[Any]) -> list[Any]:
        """A text column's values, made storable (see ``program.projections.storable``)."""
        indexed = self.text_columns.get(column)
        if indexed is None:
            return values
        fine = storable.fine
        if all(fine(v, indexed) for v in values):
            return values
        return [storable.text(v, indexed=indexed) for v in values]

    def type_of(self, column: str) -> str:
        return dict(self.columns)[column]

    def ddl(self, schema: str) -> str:
        cols = ",\n    ".join(
            f"{c} {t}{' NOT NULL' if c in self.key else ''}"
            for c, t in self.columns + self.derived
        )
        return (
            f"CREATE TABLE {schema}.{self.name} (\n    {cols},\n"
            f"    PRIMARY KEY ({', '.join(self.key)})\n)"
        )

    def _keys_unnest(self, first: int = 1) -> str:
        args = ", ".join(f"${i + first}::{self.type_of(k)}[]" for i, k in enumerate(self.key))
        return f"unnest({args}) AS k({', '.join(self.key)})"

    def select_sql(self, schema: str) -> str:
        # jsonb comes back as text, parsed here (faster than a connection's json codec).
        cols = ", ".join(f"t.{c}::text AS {c}" if t == "jsonb" else f"t.{c}"
                         for c, t in self.columns)
        if len(self.key) == 1:
            (k,) = self.key
            return (
                f"SELECT {cols} FROM {schema}.{self.name} t "
                f"WHERE t.{k} = ANY($1::{self.type_of(k)}[])"
            )
        on = " AND ".join(f"t.{k} = k.{k}" for k in self.key)
        return f"SELECT {cols} FROM {self._keys_unnest()} JOIN {schema}.{self.name} t ON {on}"

    @functools.cached_property
    def json_columns(self) -> tuple[str, ...]:
        return tuple(c for c, t in self.columns if t == "jsonb")

    def upsert_sql(self, schema: str) -> str:
        # jsonb travels as text: asyncpg would read a list value as a nested array.
        cols = ", ".join(self.names)
        args = ", ".join(
            f"${i + 1}::{'text' if t == 'jsonb' else t}[]" for i, (_, t) in enumerate(self.columns)
        )
        select = ", ".join(f"x.{c}::jsonb" if t == "jsonb" else f"x.{c}" for c, t in self.columns)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in self.names if c not in self.key)
        conflict = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
        return (
            f"INSERT INTO {schema}.{self.name} ({cols}) SELECT {select} "
            f"FROM unnest({args}) AS x({cols}) ON CONFLICT ({', '.join(self.key)}) {conflict}"
        )

    def delete_sql(self, schema: str) -> str:
        if len(self.key) == 1:
            (k,) = self.key
            return f"DELETE FROM {schema}.{self.name} WHERE {k} = ANY($1::{self.type_of(k)}[])"
        on = " AND ".join(f"t.{k} = k.{k}" for k in self.key)
        return f"DELETE FROM {schema}.{self.name} t USING {self._keys_unnest()} WHERE {on}"


def _parse(columns: str) -> tuple[tuple[str, str], ...]:
    return tuple(
        (part.split(None, 1)[0], part.split(None, 1)[1].strip())
        for part in (p.strip() for p in columns.split(","))
        if part
    )


_INDEX = re.compile(r"\{schema\}\.(\w+)\s*(?:USING\s+\w+\s*)?\(([^)]*)\)", re.IGNORECASE)


def note_indexes(tables: Iterable[Table], indexes: Iterable[str]) -> None:
    """Tell each table which of its columns an index (``CREATE INDEX ON {schema}.t (…)``) covers."""
    by_name = {t.name: t for t in tables}
    for sql in indexes:
        match = _INDEX.search(sql)
        if match and match.group(1) in by_name:
            table = by_name[match.group(1)]
            table.indexed.update(c.strip().split()[0] for c in match.group(2).split(",") if c.strip())
            table.__dict__.pop("text_columns", None)


def _json(value: Any) -> str | None:
    if value is None:
        return None
    try:
        encoded = dumps(value)
    except UnicodeEncodeError:  # an unpaired surrogate
        return dumps(storable.json_value(value))
    return encoded if storable.json_text(encoded) else dumps(storable.json_value(value))


def _columns_of_keys(table: Table, keys: list[Key]) -> list[list[Any]]:
    if len(table.key) == 1:
        return [list(keys)]
    return [list(column) for column in zip(*keys, strict=True)]


class Rows:
    """One table's rows for one batch: loaded once, changed in memory, written back once."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._rows: dict[Key, dict[str, Any]] = {}
        self._known: set[Key] = set()
        self._dirty: set[Key] = set()
        self._deleted: set[Key] = set()

    def key_of(self, row: dict[str, Any]) -> Key:
        if len(self.table.key) == 1:
            return row[self.table.key[0]]
        return tuple(row[k] for k in self.table.key)

    async def load(self, conn: asyncpg.Connection, schema: str, keys: Iterable[Key]) -> None:
        wanted = [k for k in dict.fromkeys(keys) if k not in self._known]
        if not wanted:
            return
        self._known.update(wanted)
        records = await conn.fetch(
            self.table.select_sql(schema), *_columns_of_keys(self.table, wanted)
        )
        json_columns = self.table.json_columns
        for record in records:
            row = dict(record)
            for c in json_columns:
                if row[c] is not None:
                    row[c] = loads(row[c])
            self._rows[self.key_of(row)] = row

    def get(self, key: Key) -> dict[str, Any] | None:
        return self._rows.get(key)

    def values(self) -> Iterable[dict[str, Any]]:
        return self._rows.values()

    def put(self, row: dict[str, Any]) -> dict[str, Any]:
        """Add or replace a row (missing columns become NULL) and mark it changed."""
        full = dict.fromkeys(self.table.names)
        full.update(row)
        key = self.key_of(full)
        self._rows[key] = full
        self._known.add(key)
        self._dirty.add(key)
        self._deleted.discard(key)
        return full

    def changed(self, key: Key) -> None:
        if key in self._rows:
            self._dirty.add(key)

    def delete(self, key: Key) -> None:
        self._known.add(key)
        self._rows.pop(key, None)
        self._dirty.discard(key)
        self._deleted.add(key)

    async def flush(self, conn: asyncpg.Connection, schema: str) -> int:
        """Write deletions then changed rows; returns the number of rows written."""
        written = 0
        changes.wrote(self._deleted)
        changes.wrote(self._dirty)
        if self._deleted:
            keys = list(self._deleted)
            await conn.execute(self.table.delete_sql(schema), *_columns_of_keys(self.table, keys))
            written += len(keys)
        if self._dirty:
            rows = [self._rows[k] for k in self._dirty]
            json_columns = self.table.json_columns
            table = self.table
            columns = [
                [_json(row[c]) for row in rows] if c in json_columns
                else table.storable_text(c, [row[c] for row in rows])
                for c in table.names
            ]
            await conn.execute(self.table.upsert_sql(schema), *columns)
            written += len(rows)
        self._dirty.clear()
        self._deleted.clear()
        return written


class Appends:
    """Rows of an append-only table, written with one binary COPY."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.records: list[tuple[Any, ...]] = []

    def add(self, *values: Any) -> None:
        self.records.append(values)

    async def flush(self, conn: asyncpg.Connection, schema: str) -> int:
        if not self.records:
            return 0
        await conn.copy_records_to_table(
            self.table.name, records=self._storable(), columns=self.table.names,
            schema_name=schema,
        )
        written = len(self.records)
        self.records = []
        return written

    def _storable(self) -> list[tuple[Any, ...]]:
        table = self.table
        texts = [(i, table.text_columns[c]) for i, c in enumerate(table.names)
                 if c in table.text_columns]
        fine, text = storable.fine, storable.text
        out = []
        for r in self.records:
            if not all(fine(r[i], indexed) for i, indexed in texts):
                values = list(r)
                for i, indexed in texts:
                    values[i] = text(values[i], indexed=indexed)
                r = tuple(values)
            out.append(r)
        return out
