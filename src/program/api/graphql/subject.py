"""The subject-access export through GraphQL (admins): the same document as
``GET /subjects/{id}/export``, recorded in the audit trail before it is built."""

from __future__ import annotations

import dataclasses
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from program.api.graphql import cache
from program.api.graphql.context import context_of
from program.api.graphql.mutations.base import _checked_key
from program.api.graphql.mutations.inputs import ParticipantIdInput
from program.api.graphql.mutations.payloads import Payload
from program.application.idempotency import fingerprint
from program.exports.subject import export_subject


@strawberry.type
class SubjectExportPayload(Payload):
    participant_id: UUID
    document: JSON = strawberry.field(description=(
        "Everything held about the person (program.subject-access-export/1): personal data, "
        "programmes, enrolments and waitlist history, attendance, outcomes, every consent "
        "change with its signed receipt, disclosures, purposes, recipients, retention and "
        "sources. GET /subjects/{id}/export?format=html gives it as a readable page."))


@strawberry.type
class SubjectAccessMutations:
    @strawberry.mutation(description=(
        "Export everything held about one person (GDPR Art. 15; admins). The export is "
        "recorded in the audit trail (Participant.DataExported, the admin as actor); nothing "
        "of it is kept."))
    async def export_subject_data(self, info: Info, input: ParticipantIdInput) -> SubjectExportPayload:
        ctx = context_of(info)
        ctx.actor  # noqa: B018 -- no token, no export: UNAUTHENTICATED first
        key = _checked_key(input.idempotency_key)
        command = ctx.command(key, fingerprint(dataclasses.asdict(input)) if key else None)
        try:
            exported = await export_subject(ctx.services, command, input.id, "json")
        finally:
            cache.results.invalidate()
        return SubjectExportPayload(position=exported.recorded.position,
                                    replayed=exported.recorded.replayed,
                                    participant_id=input.id, document=exported.document)
