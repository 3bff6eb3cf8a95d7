"""Auditors' bulk exports: consent histories, the audit trail and the partner-feed
disclosure log as CSV or JSON Lines.

Filtered like their GraphQL queries (``consentHistory``: person, purpose, a time range;
``auditTrail``: aggregate, actor, event type, since/until; ``disclosures``: person,
partner, a time range), read through a server-side
cursor in log order and encoded a chunk at a time, so memory stays flat however many
rows there are. Only what an auditor may read leaves: pseudonymous ids, codes, states,
times and the chain hashes; never a name, a contact detail or free text (a consent
change's ``reason`` is left out).

The disclosure log holds, per disclosure or withholding, the partner, channel, the
partner's sequence, the event's id and public type, the person's id, the consent (id and
version) that authorised it and the outcome with its system-given reason.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from program.projections.audit_trail.projection import AuditTrailProjection
from program.projections.consent_history.projection import ConsentHistoryProjection
from program.projections.paging import Sql

CHUNK_ROWS = 500
FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportFilter:
    """Every field optional; ``since`` inclusive, ``until`` exclusive."""

    participant_id: UUID | None = None
    purpose: str | None = None
    aggregate_id: UUID | None = None
    actor: str | None = None
    event_type: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    partner_id: UUID | None = None


@dataclass(frozen=True)
class Dataset:
    name: str
    table: str
    columns: tuple[str, ...]
    narrow: Callable[[Sql, ExportFilter], None]
    order: str = "position"

    def query(self, f: ExportFilter, select: str | None = None) -> Sql:
        q = Sql(f"SELECT {select or ', '.join(self.columns)} FROM {self.table}")
        self.narrow(q, f)
        return q


def _equal(q: Sql, column: str, value: object, cast: str = "") -> None:
    if value is not None:
        q.where(f"{column} = {q.arg(value)}{cast}")


def _window(q: Sql, f: ExportFilter, column: str) -> None:
    """``since`` inclusive, ``until`` exclusive, on the dataset's own time column."""
    if f.since is not None:
        q.where(f"{column} >= {q.arg(f.since)}")
    if f.until is not None:
        q.where(f"{column} < {q.arg(f.until)}")


def _consent_changes(q: Sql, f: ExportFilter) -> None:
    _equal(q, "participant_id", f.participant_id, "::uuid")
    _equal(q, "purpose", f.purpose)
    _window(q, f, "at")


def _audit_entries(q: Sql, f: ExportFilter) -> None:
    _equal(q, "aggregate_id", f.aggregate_id, "::uuid")
    _equal(q, "actor", f.actor)
    if f.event_type is not None:
        aggregate_type, _, name = f.event_type.rpartition(".")
        _equal(q, "event_type", name)
        _equal(q, "aggregate_type", aggregate_type or None)
    _window(q, f, "recorded_at")


def _disclosures(q: Sql, f: ExportFilter) -> None:
    if f.participant_id is not None:  # on the entries' sets too, which their index finds
        q.where(f"set_participants @> ARRAY[{q.arg(f.participant_id)}::uuid]")
    _equal(q, "participant_id", f.participant_id, "::uuid")
    _equal(q, "partner_id", f.partner_id, "::uuid")
    _window(q, f, "at")


CONSENT_COLUMNS = (
    "position", "consent_id", "participant_id", "purpose", "state", "notice_id",
    "notice_version", "notice_hash", "language", "lawful_basis", "method", "recipients",
    "recorded_by", "valid_until", "at", "recorded_at",
)
AUDIT_COLUMNS = (
    "position", "recorded_at", "aggregate_id", "aggregate_type", "event_type",
    "originator_version", "actor", "role", "command", "correlation_id", "causation_id",
    "request_id", "event_id", "detail", "hash",
)
DISCLOSURE_COLUMNS = (
    "id", "at", "partner_id", "channel", "endpoint_id", "sequence", "event_id", "type",
    "participant_id", "consent_id", "consent_version", "outcome", "reason",
)
DATASETS = {
    "consent-changes": Dataset("consent-changes", f"{ConsentHistoryProjection.schema}.changes",
                               CONSENT_COLUMNS, _consent_changes),
    "audit-trail": Dataset("audit-trail", f"{AuditTrailProjection.schema}.entries", AUDIT_COLUMNS,
                           _audit_entries),
    "disclosures": Dataset("disclosures", "feed_disclosures", DISCLOSURE_COLUMNS,
                           _disclosures, order="set_id, entry"),
}


async def count(pool: asyncpg.Pool, dataset: Dataset, f: ExportFilter) -> int:
    """How many rows the export will hold (for a progress bar)."""
    q = dataset.query(f, "count(*)")
    sql = q.select + (" WHERE " + " AND ".join(f"({c})" for c in q.conditions)
                      if q.conditions else "")
    return int(await pool.fetchval(sql, *q.args))


async def rows(pool: asyncpg.Pool, dataset: Dataset, f: ExportFilter
               ) -> AsyncIterator[list[asyncpg.Record]]:
    """The rows in chunks, through a server-side cursor (one transaction, one snapshot)."""
    q = dataset.query(f)
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        chunk: list[asyncpg.Record] = []
        async for record in conn.cursor(q.text(dataset.order), *q.args, prefetch=CHUNK_ROWS):
            chunk.append(record)
            if len(chunk) >= CHUNK_ROWS:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


async def encoded(pool: asyncpg.Pool, dataset: Dataset, f: ExportFilter, fmt: str,
                  progress: Callable[[int], None] | None = None) -> AsyncIterator[bytes]:
    """The export as bytes, a chunk of rows at a time; CSV starts with its header."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    if fmt == "csv":
        yield _csv_lines([dataset.columns])
    done = 0
    async for chunk in rows(pool, dataset, f):
        values = [[_plain(r[c]) for c in dataset.columns] for r in chunk]
        if fmt == "csv":
            yield _csv_lines([[_csv_cell(v) for v in row] for row in values])
        else:
            yield "".join(json.dumps(dict(zip(dataset.columns, row, strict=True)),
                                     ensure_ascii=False, separators=(",", ":")) + "\n"
                          for row in values).encode()
        done += len(chunk)
        if progress is not None:
            progress(done)


def _plain(value: Any) -> Any:
    """A JSON value: ids and times as text, hashes as base64, lists as lists."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _csv_cell(value: Any) -> Any:
    """Lists joined with ';'; text a spreadsheet would run as a formula is quoted with a
    leading apostrophe (OWASP CSV injection)."""
    if isinstance(value, list):
        value = ";".join(str(v) for v in value)
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def _csv_lines(rows_: list[Any]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows_)
    return out.getvalue().encode()
