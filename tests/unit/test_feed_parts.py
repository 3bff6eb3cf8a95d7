"""Feed parts without a database: pseudonyms, URL rules, signatures, retries, catalogue."""

from __future__ import annotations

import socket
import uuid
from datetime import UTC, datetime

import jsonschema
import pytest
from standardwebhooks.webhooks import Webhook

from program.domain.partner import PUBLIC_EVENT_TYPES
from program.feeds import catalogue, urls, webhooks
from program.feeds.envelope import envelope
from program.feeds.pseudonyms import Pseudonyms

PARTNER_A, PARTNER_B, PERSON = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def test_pseudonym_when_asked_twice_is_stable_and_differs_per_partner_and_key() -> None:
    names = Pseudonyms(b"k" * 32)
    assert names.of(PARTNER_A, PERSON) == names.of(PARTNER_A, PERSON)
    assert names.of(PARTNER_A, PERSON) != names.of(PARTNER_B, PERSON)
    assert Pseudonyms(b"j" * 32).of(PARTNER_A, PERSON) != names.of(PARTNER_A, PERSON)
    assert str(PERSON) not in names.of(PARTNER_A, PERSON)


@pytest.mark.parametrize("url", [
    "http://example.org/hook", "https://127.0.0.1/", "https://localhost/", "https://10.0.0.1/",
    "https://172.16.5.4/", "https://192.168.1.1/", "https://169.254.169.254/", "https://[::1]/",
    "https://[fe80::1]/", "https://0.0.0.0/", "https://u:p@example.org/", "not a url",
    # IPv6 forms that carry an inward IPv4 address: NAT64, 6to4, mapped
    "https://[64:ff9b::7f00:1]/", "https://[64:ff9b::a00:1]/", "https://[2002:7f00:1::1]/",
    "https://[2002:c0a8:101::1]/", "https://[::ffff:169.254.169.254]/",
])
async def test_check_url_when_inward_or_not_https_is_refused(url: str) -> None:
    with pytest.raises(urls.UnsafeUrl):
        await urls.check(url, allow_private=False)


async def test_check_url_when_private_is_allowed_by_setting_accepts_loopback_http() -> None:
    await urls.check("http://127.0.0.1:8080/hook", allow_private=True)


def test_signature_header_when_rotating_verifies_under_either_secret() -> None:
    old, new = webhooks.new_secret(), webhooks.new_secret()
    at = datetime.now(UTC)
    header = webhooks.signature_header([new, old], "msg_1", at, "[]")
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(at.timestamp())),
               "webhook-signature": header}
    for secret in (old, new):
        Webhook(secret).verify("[]", headers)


def test_message_id_when_the_range_is_the_same_is_the_same() -> None:
    endpoint = uuid.uuid4()
    assert webhooks.message_id(endpoint, 1, 5) == webhooks.message_id(endpoint, 1, 5)
    assert webhooks.message_id(endpoint, 1, 5) != webhooks.message_id(endpoint, 1, 6)


def test_next_delay_when_the_schedule_is_exhausted_is_none_and_retry_after_wins() -> None:
    failed = webhooks.Outcome("failed", 500, 1.0)
    throttled = webhooks.Outcome("throttled", 429, 1.0, retry_after=42.0)
    assert 4.5 <= webhooks.next_delay((5.0, 300.0), 1, failed) <= 6.0
    assert webhooks.next_delay((5.0, 300.0), 3, failed) is None
    assert webhooks.next_delay((5.0, 300.0), 1, throttled) == 42.0


def test_retry_after_when_an_http_date_is_given_reads_seconds() -> None:
    assert webhooks.retry_after("120") == 120.0
    assert webhooks.retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert webhooks.retry_after("soon") is None


@pytest.mark.parametrize("event_type", PUBLIC_EVENT_TYPES)
def test_schema_when_published_is_valid_json_schema(event_type: str) -> None:
    jsonschema.Draft202012Validator.check_schema(catalogue.schema_of(event_type))


def test_envelope_when_built_validates_and_keeps_its_id_across_builds() -> None:
    event_type = "org.program.cohort.started.v1"
    source = uuid.uuid4()
    data = {"programmeId": str(uuid.uuid4()), "cohortId": str(uuid.uuid4()),
            "startedOn": "2026-11-23"}
    first = envelope(partner_id=PARTNER_A, source_event_id=source, event_type=event_type,
                     time=datetime.now(UTC), sequence=7, subject=None, data=data)
    again = envelope(partner_id=PARTNER_A, source_event_id=source, event_type=event_type,
                     time=datetime.now(UTC), sequence=7, subject=None, data=data)
    import json

    jsonschema.validate(json.loads(first[1]), catalogue.schema_of(event_type))
    assert first[0] == again[0]


async def test_guarded_resolution_when_the_name_resolves_publicly_answers_those_addresses(
) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "2606:2800:220:1::1"]

    answered = await urls.PublicOnly(resolve).resolve("hooks.example.org", 443)

    # the client connects to these very addresses: no second lookup
    assert [(a["host"], a["port"], a["family"]) for a in answered] == [
        ("93.184.216.34", 443, socket.AF_INET), ("2606:2800:220:1::1", 443, socket.AF_INET6)]
    assert all(a["hostname"] == "hooks.example.org" for a in answered)


@pytest.mark.parametrize("answer", [["127.0.0.1"], ["93.184.216.34", "10.1.2.3"], ["::1"], []])
async def test_guarded_resolution_when_any_address_is_inward_answers_none(
    answer: list[str],
) -> None:
    async def resolve(host: str, port: int) -> list[str]:
        return answer

    with pytest.raises(urls.UnsafeUrl):
        await urls.PublicOnly(resolve).resolve("rebind.example.org", 443)
