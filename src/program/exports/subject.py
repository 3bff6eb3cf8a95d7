"""Subject-access export (GDPR Art. 15): everything held about one person, as one document.

The export is recorded first (``Participant.DataExported``, the admin as actor), then
built: the person's own stream and the streams of every cohort they joined are read
from the log itself (personal data decrypted with their live key, none once erased),
their consent changes from the consent history (waiting until it has caught up with
the export's own record) each with a freshly signed receipt, and what the controller
says about purposes, recipients, retention and sources. Nothing of it is kept: the
document goes to the caller only.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from program.application.context import CommandContext
from program.application.unit import CommandResult
from program.bootstrap import Services
from program.store.keys import KeyErased, decrypt
from program.store.records import Recorded

FORMAT = "program.subject-access-export/1"
CATCH_UP_TIMEOUT = 30.0

_MEMBERSHIP = {"ParticipantEnrolled": "ENROLLED", "ParticipantWaitlisted": "WAITLISTED",
               "ParticipantPromoted": "PROMOTED", "ParticipantWithdrawn": "WITHDRAWN"}


class ReadModelsBehind(Exception):
    """The consent history did not catch up with the log in time: retry."""

    code = "NOT_CAUGHT_UP"


@dataclass(frozen=True)
class SubjectExport:
    recorded: CommandResult  # the DataExported event's command result
    document: dict[str, Any]


async def export_subject(services: Services, ctx: CommandContext, participant_id: UUID | str,
                         format: str = "json") -> SubjectExport:
    """Record the export (admins only), then build the document."""
    recorded = await services.application.record_subject_export(ctx, participant_id, format)
    pid = UUID(recorded["participant_id"])
    await _caught_up(services, recorded.position)
    return SubjectExport(recorded, await build(services, pid, generated_by=ctx.actor.subject,
                                               recorded_at=recorded.position))


async def _caught_up(services: Services, position: int) -> None:
    from program.projections import projection_status

    runner = services.projections
    if runner is not None:
        if await runner.wait_for(position, CATCH_UP_TIMEOUT):
            return
    else:
        deadline = asyncio.get_running_loop().time() + CATCH_UP_TIMEOUT
        while asyncio.get_running_loop().time() < deadline:
            rows = await projection_status(services.pool)
            if rows and min(r.position for r in rows) >= position:
                return
            await asyncio.sleep(0.1)
    raise ReadModelsBehind(f"the projections did not reach position {position} in "
                           f"{CATCH_UP_TIMEOUT:g} s; retry once they run")


async def build(services: Services, pid: UUID, *, generated_by: str,
                recorded_at: int) -> dict[str, Any]:
    store, decode = services.store, services.repository.to_domain_event
    own = [(row, decode(row)) for row in await store.read_aggregate(pid)]
    person = _person(own)
    registered_into, ciphertext = person.pop("_programme_id"), person.pop("_ciphertext")
    key = await services.keys.get(pid)
    joined = [e.cohort_id for row, e in own if _kind(row) == "JoinedCohort"]
    cohorts = await _cohorts(services, joined, pid, key)
    programme_ids = list(dict.fromkeys(
        ([registered_into] if registered_into else [])
        + [c["programmeId"] for c in cohorts["names"]]))
    consents = await _consents(services, pid, key)
    controller = services.receipts.controller
    recipients = sorted({r for c in consents for r in c["recipients"]})
    return {
        "format": FORMAT,
        "generatedAt": services.application.clock.now().isoformat(),
        "generatedBy": generated_by,
        "recordedAtPosition": recorded_at,
        "controller": {"name": controller.name, "contact": controller.contact,
                       "jurisdiction": controller.jurisdiction,
                       "policyUrl": controller.policy_url},
        "person": {**person, "registeredInto": str(registered_into) if registered_into else None,
                   "personalData": _personal(ciphertext, key, pid)},
        "programmes": [await _programme(services, p) for p in programme_ids],
        "enrolments": cohorts["enrolments"],
        "attendance": cohorts["attendance"],
        "outcomes": [_outcome(row, e) for row, e in own if _kind(row) == "OutcomeRecorded"],
        "consents": consents,
        "disclosures": await _disclosures(services, pid),
        "disclosuresNote": ("Events about a person leave only through partner feeds, each "
                            "disclosure logged with the consent that allowed it (and each "
                            "event withheld for want of one, with the reason)."),
        "purposes": [{"purpose": c, "lawfulBasis": b} for c, b in sorted(
            {(c["purpose"], c["lawfulBasis"]) for c in consents if c["lawfulBasis"]})]
        + [{"purpose": "running the programme the person was registered into",
            "lawfulBasis": "consent (programme-participation) or the controller's stated basis"}],
        "recipients": recipients,
        "partnersDisclosedTo": sorted({d["partner"] for d in await _disclosures(services, pid)
                                       if d["outcome"] == "DISCLOSED"}),
        "dataCategories": list(controller.data_categories),
        "retention": controller.retention,
        "withdrawal": controller.withdrawal,
        "sources": ["the person themself, through the programme's staff who registered them",
                    "programme staff and facilitators (enrolment, attendance, outcomes)"]
        + (["the referral source recorded with their personal data"] if ciphertext else []),
        "accessLog": [{"at": row.recorded_at.isoformat(), "by": row.metadata.get("actor"),
                       "position": row.position}
                      for row, _ in own if _kind(row) == "DataExported"],
    }


def _kind(row: Recorded) -> str:
    return row.topic.rpartition(".")[2]


def _person(own: list[tuple[Recorded, Any]]) -> dict[str, Any]:
    person: dict[str, Any] = {"id": None, "registeredAt": None, "erased": False,
                              "erasedAt": None, "_ciphertext": None, "_programme_id": None}
    for row, e in own:
        kind = _kind(row)
        if kind == "Registered":
            person.update(id=str(row.originator_id), registeredAt=row.recorded_at.isoformat(),
                          _ciphertext=e.personal_data, _programme_id=e.programme_id)
        elif kind == "PersonalDataUpdated":
            person["_ciphertext"] = e.personal_data
        elif kind == "Erased":
            person.update(erased=True, erasedAt=row.recorded_at.isoformat())
    return person


def _personal(ciphertext: str | None, key: bytes | None, pid: UUID) -> dict[str, Any] | None:
    if not ciphertext:
        return None
    try:
        data = decrypt(key, pid, ciphertext)
    except KeyErased:
        return None
    return {"name": data.get("name"), "email": data.get("email"), "phone": data.get("phone"),
            "referralSource": data.get("referral_source")}


def _outcome(row: Recorded, e: Any) -> dict[str, Any]:
    return {"cohortId": str(e.cohort_id), "measure": e.measure, "timepoint": e.timepoint,
            "score": float(e.score), "recordedAt": row.recorded_at.isoformat(),
            "position": row.position}


def _readable(value: Any, key: bytes | None, pid: UUID) -> Any:
    """Free text as the person should read it: ciphertext under their key is opened."""
    if isinstance(value, str) and value.startswith("aesgcm1:"):
        try:
            opened = decrypt(key, pid, value)
        except (KeyErased, ValueError):
            return None
        return opened.get("reason", opened) if isinstance(opened, dict) else opened
    return value


async def _cohorts(services: Services, cohort_ids: list[UUID], pid: UUID,
                   key: bytes | None) -> dict[str, list[dict[str, Any]]]:
    store, decode = services.store, services.repository.to_domain_event
    names, enrolments, attendance = [], [], []
    for cid in dict.fromkeys(cohort_ids):
        sessions: dict[UUID, str] = {}
        for row in await store.read_aggregate(cid):
            kind = _kind(row)
            if kind not in _MEMBERSHIP and kind not in ("Planned", "SessionScheduled",
                                                        "AttendanceRecorded"):
                continue
            e = decode(row)
            if kind == "Planned":
                names.append({"cohortId": str(cid), "name": e.name,
                              "programmeId": e.programme_id})
            elif kind == "SessionScheduled":
                sessions[e.session_id] = e.starts_at.isoformat()
            elif getattr(e, "participant_id", None) != pid:
                continue
            elif kind == "AttendanceRecorded":
                attendance.append({"cohortId": str(cid), "sessionId": str(e.session_id),
                                   "sessionStartsAt": sessions.get(e.session_id),
                                   "status": e.status, "recordedAt": row.recorded_at.isoformat(),
                                   "position": row.position})
            else:
                enrolments.append({
                    "cohortId": str(cid), "cohortName": names[-1]["name"] if names else None,
                    "change": _MEMBERSHIP[kind], "at": row.recorded_at.isoformat(),
                    "position": row.position,
                    "waitlistPosition": getattr(e, "position", None),
                    "reason": _readable(getattr(e, "reason", None), key, pid),
                })
    return {"names": names, "enrolments": enrolments, "attendance": attendance}


async def _programme(services: Services, programme_id: UUID) -> dict[str, Any]:
    rows = await services.store.read_aggregate(programme_id, to_version=1)
    name = services.repository.to_domain_event(rows[0]).name if rows else None
    return {"id": str(programme_id), "name": name}


async def _consents(services: Services, pid: UUID, key: bytes | None) -> list[dict[str, Any]]:
    """Every consent change in log order, each with its signed receipt."""
    from program.projections.consent_history import consent_history

    history = await consent_history(services.pool, pid)
    out = []
    for change in sorted(history.changes, key=lambda c: c.position):
        receipt = await services.receipts.for_change(pid, change.purpose, change.position)
        out.append({
            "purpose": change.purpose, "state": change.state, "at": change.at.isoformat(),
            "position": change.position, "noticeId": change.notice_id,
            "noticeVersion": change.notice_version, "noticeHash": change.notice_hash,
            "language": change.language, "lawfulBasis": change.lawful_basis,
            "method": change.method, "recipients": list(change.recipients),
            "validUntil": change.valid_until.isoformat() if change.valid_until else None,
            "reason": _readable(change.reason, key, pid),
            "receipt": receipt.document,
        })
    return out


async def _disclosures(services: Services, pid: UUID) -> list[dict[str, Any]]:
    """Every disclosure to a partner: who, what, when, under which consent."""
    from program.feeds.queries import disclosures_of_participant

    return [{"at": d.at.isoformat(), "partner": d.partner_name or str(d.partner_id),
             "partnerId": str(d.partner_id), "channel": d.channel, "type": d.type,
             "eventId": str(d.event_id), "sequence": d.sequence, "outcome": d.outcome,
             "consentId": str(d.consent_id) if d.consent_id else None,
             "consentVersion": d.consent_version, "reason": d.reason}
            for d in await disclosures_of_participant(services.pool, pid)]
