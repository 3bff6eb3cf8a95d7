"""Partner: given / when / then."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from .gwt import given, rejected, then
from program.domain import InvalidInput, InvalidTransition, Partner, PartnerRetired, UnknownEndpoint
from program.domain.partner import PUBLIC_EVENT_TYPES

PROGRAMME = uuid.uuid4()
ENDPOINT = uuid.uuid4()
AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def registered() -> Partner:
    return given(Partner.register("Evaluator", ["evaluation"], [PROGRAMME]))


def with_endpoint() -> Partner:
    partner = registered()
    partner.add_webhook_endpoint(ENDPOINT, "https://example.org/hook", "aesgcm1:sealed")
    return given(partner)


def test_register_when_no_event_types_given_subscribes_to_the_whole_catalogue() -> None:
    partner = Partner.register("Evaluator", ["evaluation"], [PROGRAMME])
    [(name, data)] = then(partner)
    assert name == "Registered" and data["event_types"] == list(PUBLIC_EVENT_TYPES)


def test_register_when_an_event_type_is_not_public_is_refused() -> None:
    with pytest.raises(InvalidInput):
        Partner.register("Evaluator", ["evaluation"], [PROGRAMME], ["Cohort.Planned"])


def test_register_when_it_serves_no_purpose_is_refused() -> None:
    with pytest.raises(InvalidInput):
        Partner.register("Evaluator", [], [PROGRAMME])


def test_add_webhook_endpoint_when_url_is_not_http_is_refused() -> None:
    partner = registered()
    with rejected(partner, InvalidInput):
        partner.add_webhook_endpoint(ENDPOINT, "ftp://example.org/", "aesgcm1:sealed")


def test_add_webhook_endpoint_when_accepted_records_only_the_sealed_secret() -> None:
    partner = registered()
    partner.add_webhook_endpoint(ENDPOINT, "https://example.org/hook", "aesgcm1:sealed")
    [(name, data)] = then(partner)
    assert name == "WebhookEndpointAdded" and data["secret"] == "aesgcm1:sealed"


def test_disable_webhook_endpoint_when_already_disabled_records_nothing() -> None:
    partner = with_endpoint()
    partner.disable_webhook_endpoint(ENDPOINT, "410 Gone")
    given(partner)
    partner.disable_webhook_endpoint(ENDPOINT, "again")
    assert then(partner) == []


def test_enable_webhook_endpoint_when_disabled_records_it_enabled() -> None:
    partner = with_endpoint()
    partner.disable_webhook_endpoint(ENDPOINT)
    given(partner)
    partner.enable_webhook_endpoint(ENDPOINT)
    assert [n for n, _ in then(partner)] == ["WebhookEndpointEnabled"]


def test_replay_webhook_when_endpoint_is_unknown_is_refused() -> None:
    partner = registered()
    with rejected(partner, UnknownEndpoint):
        partner.replay_webhook(uuid.uuid4(), 1)


def test_rotate_webhook_secret_when_endpoint_exists_keeps_the_previous_until_a_moment() -> None:
    partner = with_endpoint()
    partner.rotate_webhook_secret(ENDPOINT, "aesgcm1:new", AT)
    [(name, data)] = then(partner)
    assert name == "WebhookSecretRotated" and data["previous_valid_until"] == AT


def test_suspend_when_suspended_is_refused() -> None:
    partner = registered()
    partner.suspend("review")
    given(partner)
    with rejected(partner, InvalidTransition):
        partner.suspend()


def test_add_webhook_endpoint_when_retired_is_refused() -> None:
    partner = registered()
    partner.retire()
    given(partner)
    with rejected(partner, PartnerRetired):
        partner.add_webhook_endpoint(ENDPOINT, "https://example.org/hook", "aesgcm1:sealed")
