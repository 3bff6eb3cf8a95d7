"""``program token``: mint a bearer token for local use, signed like the server's."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any
from uuid import UUID

from program.application.context import Role
from program.cli.common import CliError, load_settings
from program.domain import limits
from program.domain.errors import InvalidInput
from program.domain.values import check_text

# Which scope claim each role needs to be of any use; a token without it is minted
# (it authenticates) but can reach nothing, so say so.
_SCOPE_OF = {
    Role.PROGRAMME_MANAGER: ("programmes", "--programme"),
    Role.FACILITATOR: ("facilitator", "--facilitator"),
    Role.PARTNER: ("partner", "--partner"),
}


def add_commands(subparsers: Any, open_services_cm: Any) -> None:
    roles = ", ".join(r.value for r in Role)
    parser = subparsers.add_parser(
        "token",
        help="print a bearer token signed with the server's secret",
        description="Print a JWT for 'Authorization: Bearer <token>'. It is signed with "
        "PROGRAM_JWT_SECRET or, when that is unset, with the secret kept in "
        "PROGRAM_DATA_DIR/jwt-secret (created on first use) — the same one `program "
        "serve` uses with the same settings.",
    )
    parser.add_argument("--role", required=True, type=_role, help=f"one of {roles} (any case)")
    parser.add_argument(
        "--programme", dest="programmes", action="append", type=_uuid("programme"), default=[],
        metavar="ID", help="a programme the token is limited to (PROGRAMME_MANAGER); repeatable",
    )
    parser.add_argument(
        "--facilitator", type=_uuid("facilitator"), metavar="ID",
        help="the facilitator this token speaks for (FACILITATOR)",
    )
    parser.add_argument("--partner", type=_uuid("partner"), metavar="ID",
                        help="the partner whose feed this token reads (PARTNER)")
    parser.add_argument(
        "--subject", metavar="NAME",
        help="who the token speaks for; recorded as the actor of every event it causes "
        "(default: local-<role>)",
    )
    parser.add_argument(
        "--ttl-hours", type=_ttl, default=12.0, metavar="N",
        help="hours until the token expires (default: 12)",
    )
    parser.set_defaults(handler=run)


def _role(text: str) -> Role:
    try:
        return Role(text.strip().upper().replace("-", "_"))
    except ValueError:
        roles = ", ".join(r.value for r in Role)
        raise argparse.ArgumentTypeError(f"unknown role {text!r}; choose one of {roles}") from None


def _uuid(what: str) -> Any:
    def parse(text: str) -> UUID:
        try:
            return UUID(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {what} id (a UUID)") from None

    return parse


def _ttl(text: str) -> float:
    try:
        hours = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of hours") from None
    if not 0 < hours <= 24 * 366:
        raise argparse.ArgumentTypeError("--ttl-hours must be more than 0 and at most a year")
    return hours


def run(args: argparse.Namespace) -> int:
    from program.api.auth import mint_token, resolve_secret

    role: Role = args.role
    subject = (args.subject if args.subject is not None else f"local-{role.value.lower()}").strip()
    if not subject:
        raise CliError("--subject must not be empty")
    try:  # the server refuses a token whose subject breaks the input limits
        check_text(subject, "--subject", limits.IDENTITY)
    except InvalidInput as exc:
        raise CliError(exc.message) from None
    settings = load_settings()
    try:
        secret = resolve_secret(settings)
    except OSError as exc:
        raise CliError(f"cannot read or create the secret in {settings.data_dir}: {exc}", 1) from None
    token = mint_token(
        secret,
        role=role,
        subject=subject,
        programme_ids=args.programmes,
        facilitator_id=args.facilitator,
        partner_id=str(args.partner) if args.partner else None,
        ttl=timedelta(hours=args.ttl_hours),
    )
    scope = _SCOPE_OF.get(role)
    if scope is not None and not getattr(args, scope[0]):
        print(f"note: a {role.value} token without {scope[1]} can reach nothing", file=sys.stderr)
    print(token)
    return 0
