"""Transparency log formats: RFC 9162 Merkle proofs, C2SP signed notes, checkpoints and proofs.

Pure functions over bytes and text (standard library and `cryptography` only), so the
offline verifier needs no database and any layer may use them.
"""
