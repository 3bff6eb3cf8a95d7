"""Audit trail: every event with who did it, when, to which aggregate, and why."""

from program.projections.audit_trail.projection import AuditTrailProjection
from program.projections.audit_trail.queries import audit_trail
from program.projections.audit_trail.views import AuditEntryView

__all__ = ["AuditEntryView", "AuditTrailProjection", "audit_trail"]
