"""Free-text reasons as a caller may see them: opened with the data key of whom they concern
for those the access policy lets read them (admins, the record's managers), null for everyone
else (auditors never see free text) and once that key is destroyed."""

from __future__ import annotations

from uuid import UUID

from strawberry.types import Info

from program.api.graphql.context import context_of
from program.application import policy
from program.application.sealing import open_reasons


async def opened(info: Info, subject_id: UUID, sealed: str | None, about: policy.Target
                 ) -> str | None:
    ctx = context_of(info)
    if sealed is None or not policy.may_read_reasons(ctx.actor, about):
        return None
    (plain,) = await open_reasons(ctx.services.keys, [(subject_id, sealed)])
    return plain
