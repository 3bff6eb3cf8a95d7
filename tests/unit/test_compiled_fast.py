"""A compiled plan completes plain fields in one generated step, and its answer — errors,
nulls and their paths included — is the one Strawberry's own execution gives.

The fast form answers only when nothing is unusual; anything unusual (a null where none
may be, a value a scalar refuses, something that is not a list) sends the object back to
field-by-field completion. These cases put each unusual value at each depth and compare
the two answers byte for byte; the fast form must also really answer the usual case.
"""

from __future__ import annotations

import enum
import json
import math
import uuid
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import pytest
import strawberry
from graphql import parse
from graphql.execution.values import get_variable_values
from strawberry.http import process_result
from strawberry.types import Info

from program.api.graphql import compiled
from program.api.graphql.compiled import Compiler


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Item:
    name: str
    count: int
    ratio: float | None
    tags: list[str]
    seen: date | None
    uid: uuid.UUID
    colour: Colour


@strawberry.type
class Box:
    id: strawberry.ID
    label: str | None
    items: list[Item]
    first: Item | None
    maybe: list[Item | None] | None

    @strawberry.field
    async def later(self, info: Info, by: int = 1) -> int:
        return len(self.items) + by


def item(**changes: Any) -> Item:
    base = Item(name="a", count=1, ratio=0.5, tags=["x", "y"], seen=date(2026, 1, 2),
                uid=uuid.UUID(int=7), colour=Colour.RED)
    for key, value in changes.items():
        object.__setattr__(base, key, value)
    return base


@dataclass
class Boxes:
    box: Box = field(default_factory=lambda: Box(id="b1", label="L", items=[item(), item(name="b")],
                                                 first=item(), maybe=[item(), None]))


BOXES = Boxes()


@strawberry.type
class Query:
    @strawberry.field
    def box(self) -> Box | None:
        return BOXES.box

    @strawberry.field
    async def sure(self, which: str) -> Box:
        return BOXES.box

    @strawberry.field
    def echo(self, n: int, s: str | None = None, c: Colour | None = None,
             d: date | None = None, u: uuid.UUID | None = None) -> str:
        return repr((n, s, c, d, u))


schema = strawberry.Schema(query=Query)

PLAIN = """{ box { id label __typename items { name count ratio tags seen uid colour }
  first { name uid } maybe { name } } }"""
MIXED = """query M($by: Int!) { sure(which: "x") { id later(by: $by) first { name count }
  items { colour kind: __typename } } }"""


def encode(result: Any) -> bytes:
    return json.dumps(process_result(result)).encode()


async def both(query: str, variables: dict[str, Any] | None = None,
               change: Any = lambda box: box) -> tuple[bytes, bytes]:
    """The plan's answer and Strawberry's, each over a box made afresh by ``change``."""
    usual = BOXES.box
    plan = Compiler(schema._schema, parse(query), None).plan()
    BOXES.box = change(usual)
    planned = await plan.run(variables, {})
    assert planned is not None
    BOXES.box = change(usual)
    return encode(planned), encode(await schema.execute(query, variable_values=variables))


UNUSUAL: list[tuple[str, Any]] = [
    ("a non-null text that is null", lambda b: replace(b, items=[item(name=None)])),
    ("an Int past 32 bits", lambda b: replace(b, items=[item(count=2**40)])),
    ("a float that is not finite", lambda b: replace(b, items=[item(ratio=math.nan)])),
    ("a list item that is null", lambda b: replace(b, items=[item(tags=["x", None])])),
    ("a list that is a generator", lambda b: replace(b, items=[item(tags=(t for t in "ab"))])),
    ("a list that is not one", lambda b: replace(b, items=[item(tags=5)])),
    ("an id that is a number", lambda b: replace(b, id=12)),
    ("an enum value from elsewhere", lambda b: replace(b, items=[item(colour="green")])),
    ("a scalar that refuses", lambda b: replace(b, items=[item(seen="not a date")])),
    ("a non-null object that is null", lambda b: replace(b, items=[None])),
    ("a nullable object that is null", lambda b: replace(b, first=None)),
    ("an error as a value", lambda b: replace(b, first=item(name=ValueError("boom")))),
    ("a null in a nullable list", lambda b: replace(b, maybe=[None, item()])),
    ("an attribute that is missing", lambda b: replace(b, first=object())),
]


@pytest.fixture(autouse=True)
def usual_box() -> Any:
    saved = BOXES.box
    yield
    BOXES.box = saved


@pytest.mark.parametrize("query", [PLAIN, MIXED], ids=["plain", "mixed"])
@pytest.mark.parametrize(("case", "change"), UNUSUAL, ids=[c for c, _ in UNUSUAL])
async def test_an_unusual_value_is_answered_as_strawberry_answers_it(
        case: str, change: Any, query: str) -> None:
    # given a box with one unusual value, when the plan and Strawberry both answer
    planned, strawberry_answer = await both(query, {"by": 2} if query is MIXED else None, change)
    # then the bytes are the same
    assert planned == strawberry_answer


@pytest.mark.parametrize("query", [PLAIN, MIXED], ids=["plain", "mixed"])
async def test_the_usual_value_is_answered_by_the_fast_form_alone(
        query: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a plan, and a count of the fields completed one by one
    executed: list[str] = []
    original = compiled._Field.execute

    def counting(self: Any, run: Any, source: Any, path: Any) -> Any:
        executed.append(self.name)
        return original(self, run, source, path)

    monkeypatch.setattr(compiled._Field, "execute", counting)
    # when it answers the usual box
    planned, strawberry_answer = await both(query, {"by": 2} if query is MIXED else None)
    # then only the resolved fields went one by one, and the answer is Strawberry's
    assert planned == strawberry_answer
    assert b'"errors"' not in planned
    assert executed == (["box"] if query is PLAIN else ["sure", "later"])


async def test_resolvers_are_called_without_strawberrys_wrapper(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # given a plan, and Strawberry's wrappers of its two resolvers made to fail
    plan = Compiler(schema._schema, parse(MIXED), None).plan()

    def wrapper(*_: Any, **__: Any) -> Any:
        raise AssertionError("Strawberry's wrapper ran")

    monkeypatch.setattr(schema._schema.query_type.fields["sure"], "resolve", wrapper)
    monkeypatch.setattr(schema._schema.type_map["Box"].fields["later"], "resolve", wrapper)
    # when the plan answers
    planned = await plan.run({"by": 2}, {})
    # then it called the resolvers themselves
    assert planned is not None and planned.errors is None
    assert planned.data["sure"]["later"] == len(BOXES.box.items) + 2


ECHO = "query E($n: Int!, $s: String, $c: Colour, $d: Date, $u: UUID) { echo(n: $n, s: $s, c: $c, d: $d, u: $u) }"


@pytest.mark.parametrize("variables", [
    {"n": 1},
    {"n": 1, "s": None, "c": "BLUE", "d": "2026-02-03", "u": str(uuid.UUID(int=9))},
    {"n": -5, "s": "text", "c": None, "unused": [1, 2]},
])
async def test_scalar_variables_coerce_as_graphql_core_coerces_them(variables: dict[str, Any]) -> None:
    # given a plan whose variables are all scalars and enums
    plan = Compiler(schema._schema, parse(ECHO), None).plan()
    # when good variables are coerced by the plan, then graphql-core would give the same
    mine = compiled._coerce_scalars(plan.scalars, variables)
    theirs = get_variable_values(schema._schema, plan.operation.variable_definitions, variables)
    assert mine is not None and not isinstance(theirs, list)
    assert mine.coerced == theirs.coerced

    def sources(values: Any) -> dict[str, Any]:
        return {name: (s.signature.name, str(s.signature.type), s.signature.default, s.value)
                for name, s in values.sources.items()}

    assert sources(mine) == sources(theirs)
    # and the answer is Strawberry's
    planned, strawberry_answer = await both(ECHO, variables)
    assert planned == strawberry_answer and b'"errors"' not in planned


@pytest.mark.parametrize("variables", [
    {}, {"n": None}, {"n": "one"}, {"n": 2**40}, {"n": 1, "c": "GREEN"}, {"n": 1, "d": "soon"},
    {"n": 1, "u": "not-a-uuid"}, {"n": 1, "s": 5},
])
async def test_variables_that_do_not_coerce_are_left_to_strawberry(variables: dict[str, Any]) -> None:
    # given a plan, when its variables do not coerce
    plan = Compiler(schema._schema, parse(ECHO), None).plan()
    # then it does not answer (Strawberry answers, with graphql-core's error)
    assert await plan.run(variables, {}) is None
    assert isinstance(get_variable_values(
        schema._schema, plan.operation.variable_definitions, variables), list)
