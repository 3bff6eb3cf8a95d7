"""Exports: a person's subject-access export, and auditors' bulk exports (CSV, JSON Lines)."""
