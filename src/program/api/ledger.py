"""The transparency log over HTTP, in the standard formats, for auditors and admins.

- ``GET /ledger/checkpoint[?size=N]``: a signed checkpoint (C2SP tlog-checkpoint note);
- ``GET /ledger/key``: the verifier key (C2SP signed-note vkey);
- ``GET /ledger/proof/{position}[?size=N]``: a ``c2sp.org/tlog-proof@v1`` file for the
  event at that global position (entry index = position − 1); its ``extra`` line is the
  row's chain hash, the leaf, which the caller compares with the row it holds;
- ``GET /ledger/consistency?from=M&to=N``: the consistency proof, one base64 hash a line.
"""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request, get
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery
from litestar.response import Response

from program.api.auth import Unauthenticated, actor_from_authorization
from program.application.policy import Act, role_may
from program.bootstrap import Services
from program.store.checkpoints import LedgerError, LedgerInconsistent
from program.transparency.merkle import ProofError
from program.transparency.note import b64

_TEXT = "text/plain; charset=utf-8"


def _text(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(body, status_code=status, media_type=_TEXT, headers=headers)


def _problem(status: int, code: str, message: str) -> Response[Any]:
    return Response({"code": code, "message": message}, status_code=status, media_type=MediaType.JSON)


def _ledger(request: Request[Any, Any, Any], state: State) -> Services | Response[Any]:
    try:
        actor = actor_from_authorization(request.headers.get("authorization"), state["jwt_secret"])
    except Unauthenticated as exc:
        return _problem(401, "UNAUTHENTICATED", str(exc))
    if not role_may(actor, Act.READ_LEDGER):
        return _problem(403, "FORBIDDEN", "only auditors and admins read the ledger")
    services: Services | None = state.get("services")
    if services is None:
        return _problem(503, "SERVICE_UNAVAILABLE", "the database is not reachable yet")
    return services


async def _answer(request: Request[Any, Any, Any], state: State, make: Any) -> Response[Any]:
    services = _ledger(request, state)
    if isinstance(services, Response):
        return services
    try:
        return await make(services)
    except LedgerInconsistent as exc:
        return _problem(500, exc.code, str(exc))
    except (LedgerError, ProofError) as exc:
        return _problem(404, "NOT_FOUND", str(exc))


def _size(value: int | None) -> int | None:
    if value is not None and value < 1:
        raise ProofError("size must be at least 1")
    return value


@get("/ledger/checkpoint", media_type=_TEXT)
async def ledger_checkpoint(
    request: Request[Any, Any, Any], state: State, size: FromQuery[int | None] = None
) -> Response[Any]:
    """The latest signed checkpoint, or the kept one of that size."""
    async def make(s: Services) -> Response[str]:
        return _text((await s.ledger.current(_size(size))).note)

    return await _answer(request, state, make)


@get("/ledger/key", media_type=_TEXT)
async def ledger_key(request: Request[Any, Any, Any], state: State) -> Response[Any]:
    """The verifier key that checks every checkpoint's signature."""
    async def make(s: Services) -> Response[str]:
        return _text(f"{s.ledger.verifier}\n")

    return await _answer(request, state, make)


@get("/ledger/proof/{position:int}", media_type=_TEXT)
async def ledger_proof(
    request: Request[Any, Any, Any], state: State, position: FromPath[int],
    size: FromQuery[int | None] = None,
) -> Response[Any]:
    """The inclusion proof of one event against the latest (or a kept) checkpoint."""
    async def make(s: Services) -> Response[str]:
        proof, _leaf = await s.ledger.inclusion_proof(position, _size(size))
        return _text(proof.format())

    return await _answer(request, state, make)


@get("/ledger/consistency", media_type=_TEXT)
async def ledger_consistency(request: Request[Any, Any, Any], state: State) -> Response[Any]:
    """A consistency proof between two tree sizes, one base64 hash a line."""
    async def make(s: Services) -> Response[str]:
        try:
            old, new = int(request.query_params["from"]), int(request.query_params["to"])
        except (KeyError, ValueError):
            return _problem(400, "BAD_USER_INPUT", "give from=M and to=N, whole numbers")
        hashes = await s.ledger.consistency_proof(old, new)
        return _text("".join(f"{b64(h)}\n" for h in hashes))

    return await _answer(request, state, make)


def ledger_route_handlers() -> list[object]:
    return [ledger_checkpoint, ledger_key, ledger_proof, ledger_consistency]
