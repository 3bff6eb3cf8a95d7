"""``program audit verify-receipt``: check a consent receipt offline, with the log's key only."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from program.cli.ledger_verify import parse_key


def add_commands(audit_sub: Any) -> None:
    receipt = audit_sub.add_parser(
        "verify-receipt",
        help="check a signed consent receipt offline",
        description="Check a consent receipt file (the consentReceipt query's `document`, or "
        "one from a subject-access export): its JWS (EdDSA over the RFC 8785 canonical JSON "
        "of the receipt) is signed by KEY, and its tlog proof shows the consent event it "
        "names is in the log under a checkpoint KEY signed. Needs no database. Exit 0 and "
        "print the receipt's main fields when it holds; exit 1 with the reason when any "
        "field was changed or anything else fails.",
    )
    receipt.add_argument("file", type=Path, help="the receipt file (JSON: receipt and jws)")
    receipt.add_argument("--key", required=True, help="the log's verifier key (GET /ledger/key), "
                         "or a file holding it: it signs receipts and checkpoints alike")
    receipt.add_argument("--origin", help="the log origin to expect (default: the key's name)")
    receipt.set_defaults(handler=verify_receipt_command)


def verify_receipt_command(args: argparse.Namespace) -> int:
    from program.cli.common import CliError
    from program.transparency.receipt import ReceiptError, verify

    verifier = parse_key(args.key)
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc}") from None
    try:
        receipt = verify(data, verifier, args.origin)
    except ReceiptError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    event = receipt["event"]
    print(json.dumps({
        "ok": True, "receipt_id": receipt.get("consentReceiptID"),
        "person": receipt.get("piiPrincipalId"), "purposes": receipt.get("purposes"),
        "state": receipt.get("state"), "at": receipt.get("stateAt"),
        "notice": receipt.get("notice"), "position": event["position"], "leaf": event["leaf"],
    }))
    return 0
