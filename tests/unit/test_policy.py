"""The access policy's questions, one rule per test (no database)."""

from __future__ import annotations

from uuid import uuid4

import pytest

from program.application import policy
from program.application.context import Actor, Role
from program.application.policy import Act, Forbidden

A, B = uuid4(), uuid4()
FAC, OTHER_FAC = uuid4(), uuid4()

ADMIN = Actor("admin", Role.ADMIN)
MANAGER_A = Actor("pm", Role.PROGRAMME_MANAGER, frozenset({A}))
MANAGER_AB = Actor("pm", Role.PROGRAMME_MANAGER, frozenset({A, B}))
MANAGER_OF_NOTHING = Actor("pm", Role.PROGRAMME_MANAGER)
FACILITATOR = Actor("fac", Role.FACILITATOR, facilitator_id=FAC)
AUDITOR = Actor("auditor", Role.AUDITOR)
PARTNER = Actor("partner", Role.PARTNER, partner_id="evaluator-a")

COHORT_A = policy.cohort(A, [FAC])
PERSON_A, PERSON_B = policy.person([A]), policy.person([B])


def test_rules_when_listed_name_every_role() -> None:
    assert set(policy.RULES) == set(Role)


def test_may_enrol_when_person_is_of_another_programme_is_refused() -> None:
    assert not policy.may_enrol(MANAGER_A, PERSON_B, COHORT_A)


def test_may_enrol_when_person_and_cohort_are_in_scope_is_allowed() -> None:
    assert policy.may_enrol(MANAGER_A, PERSON_A, COHORT_A)
    assert policy.may_enrol(MANAGER_AB, PERSON_B, COHORT_A)


def test_may_enrol_when_person_is_in_no_programme_is_refused_to_managers() -> None:
    """The old loophole: a person in no programme was anyone's."""
    assert not policy.may_enrol(MANAGER_A, policy.person([]), COHORT_A)
    assert policy.may_enrol(ADMIN, policy.person([]), COHORT_A)


def test_act_for_person_when_person_was_in_the_programme_is_allowed() -> None:
    assert policy.allows(MANAGER_A, Act.ACT_FOR_PERSON, policy.person([B, A]))


@pytest.mark.parametrize("actor", [FACILITATOR, AUDITOR, PARTNER, MANAGER_OF_NOTHING])
def test_act_for_person_when_not_a_manager_of_theirs_is_refused(actor: Actor) -> None:
    assert not policy.allows(actor, Act.ACT_FOR_PERSON, PERSON_A)


def test_act_on_facilitator_when_serving_another_programme_is_refused() -> None:
    serving_b = policy.facilitator(OTHER_FAC, [B])
    assert not policy.allows(MANAGER_A, Act.ACT_ON_FACILITATOR, serving_b)
    assert not policy.allows(MANAGER_OF_NOTHING, Act.ACT_ON_FACILITATOR, serving_b)


def test_act_on_facilitator_when_serving_none_or_ours_is_allowed() -> None:
    assert policy.allows(MANAGER_A, Act.ACT_ON_FACILITATOR, policy.facilitator(OTHER_FAC))
    assert policy.allows(MANAGER_A, Act.ACT_ON_FACILITATOR, policy.facilitator(OTHER_FAC, [A, B]))


def test_may_assign_facilitator_when_facilitator_serves_another_programme_is_refused() -> None:
    assert not policy.may_assign_facilitator(MANAGER_A, COHORT_A, policy.facilitator(OTHER_FAC, [B]))


def test_may_record_outcome_when_person_of_another_programme_is_refused() -> None:
    assert not policy.may_record_outcome(MANAGER_A, PERSON_B, COHORT_A)
    assert not policy.may_record_outcome(FACILITATOR, PERSON_A, COHORT_A)


def test_may_record_attendance_when_assigned_facilitator_and_enrolled_cohort_is_allowed() -> None:
    assert policy.may_record_attendance(FACILITATOR, COHORT_A, None)
    assert not policy.may_record_attendance(FACILITATOR, policy.cohort(A, [OTHER_FAC]), None)


def test_may_record_attendance_when_drop_in_person_of_another_programme_is_refused() -> None:
    assert not policy.may_record_attendance(FACILITATOR, COHORT_A, PERSON_B)
    assert not policy.may_record_attendance(MANAGER_A, COHORT_A, PERSON_B)
    assert policy.may_record_attendance(FACILITATOR, COHORT_A, PERSON_A)
    assert policy.may_record_attendance(MANAGER_AB, COHORT_A, PERSON_B)


def test_may_see_personal_data_when_auditor_or_out_of_scope_is_refused() -> None:
    assert not policy.may_see_personal_data(AUDITOR, PERSON_A)
    assert not policy.may_see_personal_data(MANAGER_A, PERSON_B)
    assert policy.may_see_personal_data(MANAGER_A, PERSON_A)


def test_read_person_when_auditor_is_allowed_but_never_names() -> None:
    assert policy.allows(AUDITOR, Act.READ_PERSON, PERSON_B)
    assert not policy.allows(MANAGER_A, Act.READ_PERSON, PERSON_B)


def test_readable_programmes_when_partner_is_forbidden() -> None:
    assert policy.readable_programmes(ADMIN) is None
    assert policy.readable_programmes(MANAGER_A) == {A}
    with pytest.raises(Forbidden):
        policy.readable_programmes(PARTNER)


def test_require_role_may_when_role_never_does_it_is_forbidden() -> None:
    with pytest.raises(Forbidden, match="AUDITOR may not"):
        policy.require_role_may(AUDITOR, Act.RUN_PROGRAMME)
    policy.require_role_may(MANAGER_OF_NOTHING, Act.RUN_PROGRAMME)


def test_staff_contact_when_facilitator_is_their_own_only() -> None:
    assert policy.may_see_staff_contact(FACILITATOR, FAC)
    assert not policy.may_see_staff_contact(FACILITATOR, OTHER_FAC)
    assert not policy.may_see_staff_name(AUDITOR)


# -- transparency, receipts and exports (issue 9) ------------------------------------------


@pytest.mark.parametrize("actor", [MANAGER_AB, FACILITATOR, AUDITOR, PARTNER])
def test_export_subject_data_when_not_an_admin_is_refused(actor: Actor) -> None:
    assert not policy.allows(actor, Act.EXPORT_SUBJECT_DATA, PERSON_A)
    assert policy.allows(ADMIN, Act.EXPORT_SUBJECT_DATA, PERSON_A)


@pytest.mark.parametrize(("actor", "allowed"), [(ADMIN, True), (AUDITOR, True), (MANAGER_AB, False),
                                               (FACILITATOR, False), (PARTNER, False)])
def test_export_records_when_asked_is_for_auditors_and_admins(actor: Actor, allowed: bool) -> None:
    assert policy.role_may(actor, Act.EXPORT_RECORDS) is allowed


def test_consent_receipt_when_person_is_in_the_managers_programme_is_allowed() -> None:
    assert policy.allows(MANAGER_A, Act.READ_CONSENT_RECEIPT, PERSON_A)
    assert not policy.allows(MANAGER_A, Act.READ_CONSENT_RECEIPT, PERSON_B)
    assert policy.allows(AUDITOR, Act.READ_CONSENT_RECEIPT, PERSON_B)
    assert not policy.allows(FACILITATOR, Act.READ_CONSENT_RECEIPT, PERSON_A)


@pytest.mark.parametrize("actor", [MANAGER_AB, FACILITATOR, AUDITOR, PARTNER])
def test_issue_checkpoint_when_not_an_admin_is_refused(actor: Actor) -> None:
    assert not policy.role_may(actor, Act.ISSUE_CHECKPOINT)
