"""Free text that may hold health information (withdrawal, cancellation, suspension and
amendment reasons) is sealed under the data key of whom it concerns before it reaches an
event: a person's reasons under their own key (erased with them), a cohort's under the
cohort's, a facilitator's under the facilitator's (key subject ids are any uuid)."""

from __future__ import annotations

from uuid import UUID

from program.domain.values import optional_text
from program.application.ports import KeyErased, PersonalDataKeys, decrypt, encrypt

SEALED = "aesgcm1:"


async def seal_reason(keys: PersonalDataKeys, subject_id: UUID, reason: str | None) -> str | None:
    """The reason checked as plain text (``reason``'s input limit), then sealed; blank is None."""
    text = optional_text(reason, "reason")
    if text is None:
        return None
    key = await keys.create(subject_id)  # the existing key, or a new one for a new subject
    return encrypt(key, subject_id, {"reason": text})


def require_reason(reason: str | None) -> str:
    from program.domain.values import require_text

    return require_text(reason, "reason")


async def open_reasons(
    keys: PersonalDataKeys, sealed: list[tuple[UUID, str | None]]
) -> list[str | None]:
    """The plain text of each (subject, reason); None once the subject's key is destroyed.
    Reasons recorded before they were sealed come back as they are."""
    subjects = list({s for s, text in sealed if text and text.startswith(SEALED)})
    live = await keys.get_many(subjects) if subjects else {}
    out: list[str | None] = []
    for subject, text in sealed:
        if not text or not text.startswith(SEALED):
            out.append(text)
            continue
        try:
            out.append(decrypt(live.get(subject), subject, text).get("reason"))
        except KeyErased:
            out.append(None)
    return out


def is_sealed(text: str | None) -> bool:
    return bool(text) and text.startswith(SEALED)  # type: ignore[union-attr]
