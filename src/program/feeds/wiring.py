"""What a Partner event changes in the feed tables: the partner row (in memory, written
through by the builder) and its webhook endpoints (one statement each)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from program.feeds.consent import PartnerRow

_SECRET = "jsonb_build_array(jsonb_build_object('secret', $2::text, 'until', NULL))"


def partner_change(partners: dict[UUID, PartnerRow], name: str, e: Any) -> bool:
    """Apply a Partner event to the partner rows; True when a row changed."""
    pid = e.originator_id
    if name == "Registered":
        partners[pid] = PartnerRow(pid, e.name, "ACTIVE", list(e.purposes),
                                   set(e.programme_ids), set(e.event_types))
        return True
    partner = partners.get(pid)
    if partner is None:
        return False
    if name == "Updated":
        changes = e.changes
        partner.name = changes.get("name", partner.name)
        partner.purposes = list(changes.get("purposes", partner.purposes))
        partner.programme_ids = set(changes.get("programme_ids", partner.programme_ids))
        partner.event_types = set(changes.get("event_types", partner.event_types))
    elif name in ("Suspended", "Reinstated", "Retired"):
        partner.status = {"Suspended": "SUSPENDED", "Reinstated": "ACTIVE",
                          "Retired": "RETIRED"}[name]
    else:
        return False
    return True


def endpoint_op(name: str, e: Any, head: int) -> tuple[str, tuple[Any, ...]] | None:
    """The statement an endpoint event needs; ``head`` is the partner's sequence now (a new
    endpoint starts after it: older events are reached by replay)."""
    if name == "WebhookEndpointAdded":
        return ("WITH ep AS (INSERT INTO feed_endpoints (endpoint_id, partner_id, url, enabled, "
                f"secrets) VALUES ($1, $3, $4, true, {_SECRET}) ON CONFLICT DO NOTHING) "
                "INSERT INTO feed_deliveries (endpoint_id, partner_id, delivered) "
                "VALUES ($1, $3, $5) ON CONFLICT DO NOTHING",
                (e.endpoint_id, e.secret, e.originator_id, e.url, head))
    if name == "WebhookSecretRotated":
        return ("UPDATE feed_endpoints SET version = version + 1, secrets = "
                f"{_SECRET} || coalesce((SELECT jsonb_agg(jsonb_set(s, '{{until}}', "
                "to_jsonb($3::text))) FROM jsonb_array_elements(secrets) s "
                "WHERE s->'until' = 'null'::jsonb), '[]'::jsonb) WHERE endpoint_id = $1",
                (e.endpoint_id, e.secret, e.previous_valid_until.isoformat()))
    if name == "WebhookEndpointEnabled":
        return ("WITH d AS (UPDATE feed_deliveries SET attempt = 0, next_at = NULL, "
                "failing_since = NULL WHERE endpoint_id = $1) UPDATE feed_endpoints SET "
                "enabled = true, disabled_reason = NULL, version = version + 1 "
                "WHERE endpoint_id = $1", (e.endpoint_id,))
    if name == "WebhookEndpointDisabled":
        return ("UPDATE feed_endpoints SET enabled = false, disabled_reason = $2, "
                "version = version + 1 WHERE endpoint_id = $1", (e.endpoint_id, e.reason))
    if name == "WebhookEndpointRemoved":
        return ("UPDATE feed_endpoints SET enabled = false, removed = true, "
                "version = version + 1 WHERE endpoint_id = $1", (e.endpoint_id,))
    if name == "WebhookReplayRequested":
        return ("UPDATE feed_deliveries SET delivered = $2 - 1, inflight_to = NULL, attempt = 0, "
                "next_at = NULL, failing_since = NULL WHERE endpoint_id = $1 AND delivered >= $2",
                (e.endpoint_id, e.from_sequence))
    if name == "Retired":
        return ("UPDATE feed_endpoints SET enabled = false, disabled_reason = 'partner retired', "
                "version = version + 1 WHERE partner_id = $1", (e.originator_id,))
    return None


def secrets_of(raw: Any) -> list[dict[str, Any]]:
    return json.loads(raw) if isinstance(raw, str) else list(raw)
