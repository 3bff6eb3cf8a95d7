"""Queries run through a plan compiled once per validated document (as graphql-jit does).

graphql-core's executor rediscovers, for every field of every request, what the document
already fixes: which fields a selection set holds once fragments are merged, each field's
definition, resolver and return type, and how to complete that type. For a dashboard of
some seventy values that bookkeeping costs more than reading the row. A ``Plan`` does it
once per document and operation; executing it only resolves and completes.

What runs is what graphql-core runs: the same resolvers, so every field's access-policy
check and input-limit check (``CheckedArguments``) runs exactly as on the normal path;
the same variable and argument coercion; the same value completion, error location and
null propagation; the same error processing (``ProgramSchema.process_errors``). Where
the outcome is fixed, the work is done more directly:

- fields whose resolver is Strawberry's default (a plain attribute, no extension, no
  permission) are read directly, and all such fields of an object are completed by one
  generated function; at anything unusual it gives way to completion field by field,
  which reports the error as graphql-core does (reading an attribute twice changes
  nothing);
- a resolver whose arguments are scalars or enums and around which only
  ``CheckedArguments`` runs is called as Strawberry's wrapper would call it (same
  Python names, same check, same ``Info``), without the wrapper;
- variables that are all scalars or enums without defaults are coerced by their types;
  when any of them does not coerce, graphql-core coerces them all and says why.

Anything the compiler does not handle is answered by Strawberry's normal execution:
documents that fail to parse or validate, mutations and subscriptions, directives on
selections (``@skip``, ``@include``, ``@defer``…), interfaces and unions, introspection,
variables that do not coerce, and every schema whose extensions hook into execution.
``tests/e2e`` runs every query both ways and compares the bytes (see ``Shadow``).
"""

from __future__ import annotations

import asyncio
import os
from keyword import iskeyword
from math import isfinite
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    located_error,
)
from graphql.execution.get_variable_signature import get_variable_signature
from graphql.execution.values import (
    VariableValues,
    VariableValueSource,
    get_argument_values,
    get_variable_values,
)
from graphql.language import VariableNode, Visitor, visit
from graphql.pyutils import Path, Undefined, gather_with_cancel, inspect, is_iterable
from graphql.type import (
    GraphQLResolveInfoHelpers,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from strawberry.execution.is_awaitable import optimized_is_awaitable as is_awaitable
from strawberry.relay.types import GlobalID
from strawberry.types.base import StrawberryMaybe, StrawberryOptional
from strawberry.types import ExecutionResult

from program.api.graphql.validation import CheckedArguments

Complete = Callable[["_Run", Path, Any], Any]
Fast = Callable[[Any], Any]
Resolve = Callable[[Any, GraphQLResolveInfo, dict[str, Any]], Any]
PLAN_CACHE_SIZE = 256


class Unsupported(Exception):
    """The document needs something the compiler leaves to Strawberry."""


class _Abandon(BaseException):
    """Met while running a plan: a value the compiler does not complete (an async
    iterable). A BaseException, so no field's error handling turns it into an answer."""


# -- the run of one request ------------------------------------------------------------


class _Run:
    """One execution: its variables, context and the errors collected so far."""

    __slots__ = ("context", "errors", "helpers", "nulled", "plan", "settling", "variables")

    def __init__(self, plan: Plan, variables: Any, context: Any) -> None:
        self.plan = plan
        self.variables = variables
        self.context = context
        self.errors: list[GraphQLError] = []
        self.nulled: set[Path | None] = set()
        self.settling: list[asyncio.Future[Any]] = []
        # Functions that do not hold ``self``: a cycle through them would keep each
        # request's whole answer alive until a garbage collection.
        self.helpers = GraphQLResolveInfoHelpers(gather=gather_values,
                                                 track=partial(_settle, self.settling))

    def info(self, f: _Field, path: Path) -> GraphQLResolveInfo:
        plan = self.plan
        return GraphQLResolveInfo(
            f.name, f.nodes, f.return_type, f.parent_type, path, plan.schema,
            plan.fragments, None, plan.operation, self.variables, self.context,
            is_awaitable, None, self.helpers,
        )

    def handle(self, raw: Exception, return_type: GraphQLOutputType, nodes: list[FieldNode],
               path: Path) -> None:
        """graphql-core's ``handle_field_error``: locate; raise past a non-null field."""
        error = located_error(raw, nodes, path.as_list())
        if is_non_null_type(return_type):
            raise error
        self.add(error, path)

    def add(self, error: GraphQLError, path: Path | None) -> None:
        at: Path | None = path
        while at is not None:
            if at in self.nulled:
                return
            at = at.prev
        self.nulled.add(path)
        self.errors.append(error)

    def settle(self, awaitables: Sequence[Any]) -> None:
        """Let work already started finish (and fail) on its own, as graphql-core does."""
        _settle(self.settling, awaitables)


def gather_values(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
    """graphql-core's ``gather`` helper, as a plain function (one that holds no executor)."""
    return gather_with_cancel(*values)


def _settle(settling: list[asyncio.Future[Any]], awaitables: Iterable[Any]) -> None:
    pending = [a for a in awaitables if is_awaitable(a)]
    if pending:
        settling.append(asyncio.gather(*pending, return_exceptions=True))


# -- plans -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Field:
    key: str
    name: str
    nodes: list[FieldNode]
    definition: GraphQLField
    parent_type: GraphQLObjectType
    return_type: GraphQLOutputType
    python_name: str | None  # set when the field is a plain attribute
    static_args: dict[str, Any] | None  # arguments without variables, coerced once
    complete: Complete
    sync: bool = False  # a plain attribute whose completion runs no resolver
    direct: Resolve | None = None  # the resolver without Strawberry's wrapper
    fast: Fast | None = None  # when ``sync``: the value completed at once, or ``_Slow``

    def execute(self, run: _Run, source: Any, path: Path) -> Any:
        """graphql-core's ``execute_field``, with what the document fixes looked up once."""
        if self.sync:  # nothing below can be awaitable: complete it at once
            try:
                return self.complete(run, path, getattr(source, self.python_name))  # type: ignore[arg-type]
            except Exception as raw:
                run.handle(raw, self.return_type, self.nodes, path)
                return None
        try:
            if self.python_name is not None:
                result = getattr(source, self.python_name)
            else:
                args = self.static_args
                if args is None:
                    args = get_argument_values(self.definition, self.nodes[0], run.variables)
                if self.direct is not None:
                    result = self.direct(source, run.info(self, path), args)
                else:
                    result = self.definition.resolve(source, run.info(self, path), **args)  # type: ignore[misc]
            if is_awaitable(result):
                return self._complete_awaitable(run, path, result)
            completed = self.complete(run, path, result)
            if is_awaitable(completed):
                return self._await_completed(run, path, completed)
        except Exception as raw:
            run.handle(raw, self.return_type, self.nodes, path)
            return None
        return completed

    async def _complete_awaitable(self, run: _Run, path: Path, result: Any) -> Any:
        try:
            completed = self.complete(run, path, await result)
            if is_awaitable(completed):
                completed = await completed
        except Exception as raw:
            run.handle(raw, self.return_type, self.nodes, path)
            return None
        return completed

    async def _await_completed(self, run: _Run, path: Path, completed: Any) -> Any:
        try:
            return await completed
        except Exception as raw:
            run.handle(raw, self.return_type, self.nodes, path)
            return None


@dataclass(slots=True)
class Plan:
    schema: GraphQLSchema
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    fields: tuple[_Field, ...]
    resolved: frozenset[tuple[str, str]] = frozenset()  # (type, field) with a resolver
    scalars: tuple[tuple[str, Any, Any, bool], ...] | None = None  # see ``_scalar_variables``

    async def run(self, variables: dict[str, Any] | None, context: Any) -> ExecutionResult | None:
        """The answer, or None when the variables do not coerce (Strawberry then says why)."""
        coerced = _coerce_scalars(self.scalars, variables or {})
        if coerced is None:
            coerced = get_variable_values(self.schema, self.operation.variable_definitions or (),
                                          variables or {})
        if isinstance(coerced, list):
            return None
        run = _Run(self, coerced, context)
        data: dict[str, Any] | None
        try:
            result = execute_fields(run, self.fields, None, None)
            data = await result if is_awaitable(result) else result
        except GraphQLError as error:
            run.add(error, None)
            data = None
        except _Abandon:
            return None
        return ExecutionResult(data=data, errors=run.errors or None)


def _scalar_variables(schema: GraphQLSchema, operation: OperationDefinitionNode
                      ) -> tuple[tuple[str, Any, Any, bool], ...] | None:
    """(name, signature, type, non-null) of each variable, when all are scalars or enums
    without a default: those coerce by the type alone. None otherwise."""
    out = []
    for definition in operation.variable_definitions or ():
        signature = get_variable_signature(schema, definition)
        if isinstance(signature, GraphQLError):
            return None
        type_ = signature.type
        non_null = is_non_null_type(type_)
        named = type_.of_type if non_null else type_  # type: ignore[union-attr]
        if definition.default_value is not None or not is_leaf_type(named):
            return None
        out.append((signature.name, signature, named, non_null))
    return tuple(out)


def _coerce_scalars(scalars: tuple[tuple[str, Any, Any, bool], ...] | None,
                    given: dict[str, Any]) -> VariableValues | None:
    """graphql-core's ``get_variable_values`` for variables that are all scalars or
    enums, when nothing is wrong with them; None otherwise (graphql-core then coerces
    them, and says what is wrong)."""
    if scalars is None:
        return None
    sources: dict[str, VariableValueSource] = {}
    coerced: dict[str, Any] = {}
    for name, signature, type_, non_null in scalars:
        value = given.get(name, Undefined)
        if value is Undefined:
            if non_null:
                return None
            sources[name] = VariableValueSource(signature)
            continue
        sources[name] = VariableValueSource(signature, value)
        if value is None:
            if non_null:
                return None
            coerced[name] = None
            continue
        try:
            value = type_.coerce_input_value(value)
        except Exception:  # noqa: BLE001 - graphql-core says what is wrong with it
            return None
        if value is Undefined:
            return None
        coerced[name] = value
    return VariableValues(sources, coerced)


def execute_fields(run: _Run, fields: tuple[_Field, ...], source: Any,
                   path: Path | None, results: dict[str, Any] | None = None) -> Any:
    """graphql-core's ``execute_fields``: siblings resolved at once, awaited together;
    into ``results`` when given (the plain fields already there, with a place for each
    of these in document order)."""
    if results is None:
        results = {}
    waiting: list[str] = []
    try:
        for f in fields:
            result = f.execute(run, source, Path(path, f.key, f.parent_type.name))
            results[f.key] = result
            if is_awaitable(result):
                waiting.append(f.key)
    except Exception:
        run.settle([results[k] for k in waiting])
        raise
    if not waiting:
        return results
    return _await_fields(results, waiting)


async def _await_fields(results: dict[str, Any], waiting: list[str]) -> dict[str, Any]:
    if len(waiting) == 1:
        results[waiting[0]] = await results[waiting[0]]
    else:
        done = await gather_with_cancel(*(results[k] for k in waiting))
        results.update(zip(waiting, done, strict=True))
    return results


class Compiler:
    """Builds the plan of one operation of a validated document."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode,
                 operation_name: str | None) -> None:
        self.schema = schema
        self.resolved: set[tuple[str, str]] = set()
        self.fragments: dict[str, FragmentDefinitionNode] = {}
        operation: OperationDefinitionNode | None = None
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                if operation_name is None:
                    if operation is not None:
                        raise Unsupported("several operations and no name")
                    operation = definition
                elif definition.name and definition.name.value == operation_name:
                    operation = definition
            elif isinstance(definition, FragmentDefinitionNode):
                if definition.variable_definitions:
                    raise Unsupported("fragment variables")
                self.fragments[definition.name.value] = definition
        if operation is None:
            raise Unsupported("no such operation")
        if operation.operation is not OperationType.QUERY:
            raise Unsupported("only queries are compiled")
        if _has_directives(document):
            raise Unsupported("directives")
        self.operation = operation

    def plan(self) -> Plan:
        root = self.schema.query_type
        assert root is not None
        fields = self.fields(root, [self.operation.selection_set])
        return Plan(self.schema, self.operation, self.fragments, fields, frozenset(self.resolved),
                    _scalar_variables(self.schema, self.operation))

    def fields(self, parent: GraphQLObjectType,
               selection_sets: Sequence[SelectionSetNode]) -> tuple[_Field, ...]:
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            self._collect(parent, selection_set, grouped, set())
        return tuple(self._field(parent, key, nodes) for key, nodes in grouped.items())

    def _collect(self, parent: GraphQLObjectType, selection_set: SelectionSetNode,
                 grouped: dict[str, list[FieldNode]], visited: set[str]) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is not None and condition.name.value != parent.name:
                    raise Unsupported("a fragment on another type")
                self._collect(parent, selection.selection_set, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in visited:
                    continue
                visited.add(name)
                fragment = self.fragments.get(name)
                if fragment is None or fragment.type_condition.name.value != parent.name:
                    raise Unsupported("a fragment on another type")
                self._collect(parent, fragment.selection_set, grouped, visited)

    def _field(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> _Field:
        name = nodes[0].name.value
        if name == "__typename":  # read ``__class__`` (always there), answer the type's name
            typename = parent.name
            return _Field(key, name, nodes, None, parent, None, "__class__", None,  # type: ignore[arg-type]
                          lambda run, path, value: typename, sync=True)
        if name.startswith("__"):
            raise Unsupported("introspection")
        definition = parent.fields.get(name)
        if definition is None or definition.resolve is None:
            raise Unsupported("a field without a Strawberry resolver")
        strawberry_field = (definition.extensions or {}).get("strawberry-definition")
        basic = (getattr(definition.resolve, "_is_default", False) and strawberry_field is not None
                 and _reads_attribute(strawberry_field))
        static: dict[str, Any] | None = None
        if not basic:
            self.resolved.add((parent.name, name))
        if not basic and not _uses_variables(nodes[0]):
            static = get_argument_values(definition, nodes[0], None)
        f = _Field(key, name, nodes, definition, parent, definition.type,
                   strawberry_field.python_name if basic else None, static,
                   _unset)
        if not basic and strawberry_field is not None:
            f.direct = _direct(self.schema, definition, strawberry_field)
        f.complete, sync, fast = self._completer(definition.type, f)
        f.sync = basic and sync
        if f.sync:
            f.fast = fast
        return f

    def _completer(self, type_: GraphQLOutputType, f: _Field) -> tuple[Complete, bool, Fast | None]:
        """How to complete a value of this type, whether that never awaits, and (when it
        never awaits) the fast form of it."""
        if is_non_null_type(type_):
            inner = type_.of_type  # type: ignore[attr-defined]
            if is_leaf_type(inner):
                return _leaf(inner, f), True, _fast_leaf(inner, non_null=True)
            complete, sync, fast = self._completer(inner, f)
            return _non_null(complete, f), sync, _fast_non_null(fast)
        if is_list_type(type_):
            item_type = type_.of_type  # type: ignore[attr-defined]
            complete, sync, fast = self._completer(item_type, f)
            return (_list_sync if sync else _list)(complete, item_type, f), sync, _fast_list(fast)
        if is_leaf_type(type_):
            return _leaf(type_, None), True, _fast_leaf(type_, non_null=False)
        if is_object_type(type_):
            assert isinstance(type_, GraphQLObjectType)
            fields = self.fields(type_, [n.selection_set for n in f.nodes
                                         if n.selection_set is not None])
            sync = all(sub.sync for sub in fields)
            at_once = _fast_fields(fields) if type_.is_type_of is None else None
            fast = _fast_object(at_once) if sync and at_once is not None else None
            return _object(type_, fields, f, sync, at_once), sync, fast
        raise Unsupported("interfaces and unions")


def _direct(schema: GraphQLSchema, definition: GraphQLField, field: Any) -> Resolve | None:
    """The field's Strawberry resolver called as Strawberry's wrapper calls it, without
    the wrapper: arguments renamed to their Python names (scalars and enums, which
    Strawberry passes on unconverted), ``CheckedArguments`` run on them, the ``Info``
    built, the function called (for an async one, all of it inside the coroutine, as
    Strawberry does). None when the field needs anything else: the wrapper then runs."""
    strawberry_schema = getattr(schema, "_strawberry_schema", None)
    resolver = field.base_resolver
    if (strawberry_schema is None or resolver is None
            or strawberry_schema.schema_converter._exception_handler_specs
            or getattr(field, "permission_classes", None)
            or resolver.parent_parameter or resolver.root_parameter
            or any(type(e) is not CheckedArguments for e in field.extensions)):
        return None
    names: list[tuple[str, str]] = []
    for argument in field.arguments:
        graphql_name = strawberry_schema.config.name_converter.from_argument(argument)
        python_type = argument.type
        if isinstance(python_type, StrawberryOptional) and not isinstance(python_type, StrawberryMaybe):
            python_type = python_type.of_type
        graphql_type = definition.args[graphql_name].type
        if is_non_null_type(graphql_type):
            graphql_type = graphql_type.of_type  # type: ignore[attr-defined]
        if (isinstance(python_type, StrawberryOptional) or python_type is GlobalID
                or not is_leaf_type(graphql_type)):
            return None
        names.append((graphql_name, argument.python_name))
    checks = [e.check for e in field.extensions]
    func = resolver.wrapped_func
    info_class = strawberry_schema.config.info_class
    info_name = resolver.info_parameter.name if resolver.info_parameter else None
    takes_self = resolver.self_parameter is not None

    def call(source: Any, info: GraphQLResolveInfo, args: dict[str, Any]) -> Any:
        kwargs = {python: args[name] for name, python in names if name in args}
        for check in checks:
            check(kwargs)
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=info, _field=field)
        return func(source, **kwargs) if takes_self else func(**kwargs)

    if not resolver.is_async:
        return call

    async def call_async(source: Any, info: GraphQLResolveInfo, args: dict[str, Any]) -> Any:
        return await call(source, info, args)

    return call_async


def _unset(run: _Run, path: Path, value: Any) -> Any:  # pragma: no cover
    raise AssertionError("completer not compiled")


def _reads_attribute(field: Any) -> bool:
    """A Strawberry field read with ``getattr``: no resolver, extension or permission."""
    return (field.base_resolver is None and not field.extensions
            and not getattr(field, "permission_classes", None)
            and field.default_resolver is getattr)


def _has_directives(document: DocumentNode) -> bool:
    found = []

    class Find(Visitor):
        def enter_directive(self, node: Any, *_: Any) -> Any:
            found.append(node)
            return Visitor.BREAK

    visit(document, Find())
    return bool(found)


def _uses_variables(node: FieldNode) -> bool:
    found = []

    class Find(Visitor):
        def enter_variable(self, node: VariableNode, *_: Any) -> Any:
            found.append(node)
            return Visitor.BREAK

    for argument in node.arguments or ():
        visit(argument, Find())
    return bool(found)


# -- value completion, as graphql-core's ``complete_value`` ----------------------------------


def _non_null(inner: Complete, f: _Field) -> Complete:
    message = f"Cannot return null for non-nullable field {f.parent_type}.{f.name}."

    def complete(run: _Run, path: Path, value: Any) -> Any:
        if isinstance(value, Exception):
            raise value
        completed = inner(run, path, value)
        if completed is None:
            raise TypeError(message)
        return completed

    return complete


_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def _already(name: str) -> Callable[[Any], bool]:
    """Values a built-in scalar passes through unchanged (the common case, checked cheaply)."""
    if name in ("String", "ID"):
        return lambda v: type(v) is str
    if name == "Int":
        return lambda v: type(v) is int and _INT_MIN <= v <= _INT_MAX
    if name == "Float":
        return lambda v: type(v) is float and isfinite(v)
    if name == "Boolean":
        return lambda v: type(v) is bool
    return lambda v: False


def _leaf(type_: Any, f: _Field | None) -> Complete:
    """A scalar or enum, nullable (``f`` None) or not (``f`` names the field)."""
    coerce = type_.coerce_output_value
    name = type_.name
    already = _already(name) if name in _BUILT_IN else None
    null = None if f is None else f"Cannot return null for non-nullable field {f.parent_type}.{f.name}."

    def complete(run: _Run, path: Path, value: Any) -> Any:
        if already is not None and already(value):
            return value
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            if null is not None:
                raise TypeError(null)
            return None
        coerced = coerce(value)
        if coerced is Undefined or coerced is None:
            raise TypeError(
                f"Expected `{inspect(type_)}.coerce_output_value({inspect(value)})` to return"
                f" non-nullable value, returned: {inspect(coerced)}")
        return coerced

    return complete


# The built-in scalars, and the Python type each passes through unchanged.
_PLAIN: dict[str, type] = {"String": str, "ID": str, "Int": int, "Float": float, "Boolean": bool}
_BUILT_IN = frozenset(_PLAIN)


def _list_sync(item: Complete, item_type: GraphQLOutputType, f: _Field) -> Complete:
    """A list whose items complete without awaiting."""
    message = f"Expected Iterable, but did not find one for field '{f.parent_type}.{f.name}'."

    def complete(run: _Run, path: Path, value: Any) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            return None
        if type(value) not in (list, tuple):
            if hasattr(value, "__aiter__"):
                raise _Abandon
            if not is_iterable(value):
                raise GraphQLError(message)
        out: list[Any] = []
        for index, element in enumerate(value):
            at = Path(path, index, None)
            if is_awaitable(element):
                raise _Abandon
            try:
                out.append(item(run, at, element))
            except Exception as raw:
                run.handle(raw, item_type, f.nodes, at)
                out.append(None)
        return out

    return complete


def _list(item: Complete, item_type: GraphQLOutputType, f: _Field) -> Complete:
    message = f"Expected Iterable, but did not find one for field '{f.parent_type}.{f.name}'."

    def complete(run: _Run, path: Path, value: Any) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            return None
        if hasattr(value, "__aiter__"):
            raise _Abandon
        if not is_iterable(value):
            raise GraphQLError(message)
        out: list[Any] = []
        waiting: list[int] = []
        try:
            for index, element in enumerate(value):
                at = Path(path, index, None)
                if is_awaitable(element):
                    out.append(_await_item(run, item, item_type, f, at, element))
                    waiting.append(index)
                    continue
                try:
                    completed = item(run, at, element)
                    if is_awaitable(completed):
                        out.append(_await_item(run, item, item_type, f, at, completed, done=True))
                        waiting.append(index)
                    else:
                        out.append(completed)
                except Exception as raw:
                    run.handle(raw, item_type, f.nodes, at)
                    out.append(None)
        except Exception:
            run.settle([out[i] for i in waiting])
            raise
        if not waiting:
            return out
        return _await_items(out, waiting)

    return complete


async def _await_item(run: _Run, item: Complete, item_type: GraphQLOutputType, f: _Field,
                      at: Path, value: Any, *, done: bool = False) -> Any:
    try:
        if done:
            return await value
        completed = item(run, at, await value)
        if is_awaitable(completed):
            completed = await completed
    except Exception as raw:
        run.handle(raw, item_type, f.nodes, at)
        return None
    return completed


async def _await_items(out: list[Any], waiting: list[int]) -> list[Any]:
    if len(waiting) == 1:
        out[waiting[0]] = await out[waiting[0]]
    else:
        done = await gather_with_cancel(*(out[i] for i in waiting))
        for i, value in zip(waiting, done, strict=True):
            out[i] = value
    return out


def _object(type_: GraphQLObjectType, fields: tuple[_Field, ...], f: _Field,
            sync: bool, at_once: Fast | None) -> Complete:
    is_type_of = type_.is_type_of
    if sync and is_type_of is None:
        def complete_sync(run: _Run, path: Path, value: Any) -> Any:
            if value is None or value is Undefined:
                return None
            if isinstance(value, Exception):
                raise value
            if at_once is not None:
                try:
                    return at_once(value)
                except Exception:  # noqa: S110 - field by field below says what and where
                    pass
            return {sub.key: sub.execute(run, value, Path(path, sub.key, type_.name))
                    for sub in fields}

        return complete_sync

    resolved = tuple(sub for sub in fields if not sub.sync)

    def complete(run: _Run, path: Path, value: Any) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            return None
        if at_once is not None:
            try:
                results = at_once(value)
            except Exception:  # noqa: S110 - field by field below says what and where
                pass
            else:
                return execute_fields(run, resolved, value, path, results)
        if is_type_of is not None:
            matches = is_type_of(value, run.info(f, path))
            if is_awaitable(matches) or not matches:
                if is_awaitable(matches):
                    matches.close()  # type: ignore[attr-defined]
                raise GraphQLError(
                    f"Expected value of type '{type_.name}' but got: {inspect(value)}.",
                    f.nodes)
        return execute_fields(run, fields, value, path)

    return complete


# -- the fast form of plain fields ---------------------------------------------------------
#
# Fields read as plain attributes complete without awaiting anything, so a whole object of
# them can be completed by one generated function: no path, no awaitable check, no call per
# field. It answers only when nothing is unusual; at the first thing that is (a null where
# none may be, a value a scalar refuses, anything raised) it raises and the object is
# completed again field by field, which reports the error as graphql-core would. Reading a
# plain attribute has no effects, so doing it twice changes nothing.


class _Slow(Exception):
    """The fast form met something the field-by-field completion must report."""


def _fast_leaf(type_: Any, *, non_null: bool) -> Fast:
    coerce = type_.coerce_output_value
    plain = _PLAIN.get(type_.name)
    already = _already(type_.name) if plain is not None else None

    def fast(value: Any) -> Any:
        if already is not None and already(value):
            return value
        if value is None or value is Undefined:
            if non_null:
                raise _Slow
            return None
        if isinstance(value, Exception):
            raise _Slow
        coerced = coerce(value)
        if coerced is Undefined or coerced is None:
            raise _Slow
        return coerced

    fast.plain = plain  # type: ignore[attr-defined]  # read by ``_fast_fields``
    return fast


def _fast_non_null(inner: Fast | None) -> Fast | None:
    if inner is None:
        return None

    def fast(value: Any) -> Any:
        completed = inner(value)
        if completed is None:
            raise _Slow
        return completed

    return fast


def _fast_list(item: Fast | None) -> Fast | None:
    if item is None:
        return None

    def fast(value: Any) -> Any:
        if value is None or value is Undefined:
            return None
        if type(value) not in (list, tuple):
            raise _Slow
        return [item(element) for element in value]

    return fast


def _fast_object(at_once: Fast) -> Fast:
    def fast(value: Any) -> Any:
        if value is None or value is Undefined:
            return None
        if isinstance(value, Exception):
            raise _Slow
        return at_once(value)

    return fast


def _read_leaf(fast: Fast, read: str, call: str) -> str:
    """The expression completing one plain field: a text, flag or 32-bit number is taken
    as it is, inline; anything else goes through the field's fast form."""
    plain = getattr(fast, "plain", None)
    if plain is str or plain is bool:
        return f"(x if type(x := {read}) is {plain.__name__} else {call}(x))"
    if plain is int:
        return f"(x if type(x := {read}) is int and {_INT_MIN} <= x <= {_INT_MAX} else {call}(x))"
    return f"{call}({read})"


def _fast_fields(fields: tuple[_Field, ...]) -> Fast | None:
    """One function reading every plain field of an object at once, in document order,
    with None in the place of each field a resolver answers; None when some plain field
    has no fast form (or no name Python can read directly)."""
    scope: dict[str, Any] = {}
    items: list[str] = []
    for i, sub in enumerate(fields):
        if not sub.sync:
            items.append(f"{sub.key!r}: None")
        elif sub.name == "__typename":
            scope[f"t{i}"] = sub.parent_type.name
            items.append(f"{sub.key!r}: t{i}")
        elif sub.fast is not None and sub.python_name is not None and (
                sub.python_name.isidentifier() and not iskeyword(sub.python_name)):
            scope[f"c{i}"] = sub.fast
            items.append(f"{sub.key!r}: {_read_leaf(sub.fast, f'v.{sub.python_name}', f'c{i}')}")
        else:
            return None
    source = "def at_once(v):\n    return {" + ", ".join(items) + "}\n"
    exec(compile(source, "<compiled plan>", "exec"), scope)  # noqa: S102 - names checked above
    return scope["at_once"]  # type: ignore[no-any-return]


# -- the plans of the documents seen ---------------------------------------------------------


class Plans:
    """Plans by document object and operation name, least recently used out; a document
    the compiler leaves to Strawberry is remembered as such."""

    def __init__(self, schema: GraphQLSchema, size: int = PLAN_CACHE_SIZE) -> None:
        self.schema = schema
        self.size = size
        self.compiled = 0
        self.fallbacks = 0
        self._items: OrderedDict[tuple[int, str | None], tuple[DocumentNode, Plan | None]] = (
            OrderedDict())

    def get(self, document: DocumentNode, operation_name: str | None) -> Plan | None:
        key = (id(document), operation_name)
        hit = self._items.get(key)
        if hit is not None and hit[0] is document:  # held, so its id is not reused
            self._items.move_to_end(key)
            return hit[1]
        try:
            plan: Plan | None = Compiler(self.schema, document, operation_name).plan()
        except (Unsupported, GraphQLError):
            plan = None
        self._items[key] = (document, plan)
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return plan


def compilable(extensions: Sequence[Any], allowed: tuple[type, ...]) -> bool:
    """Only schemas whose extensions all stop at validation: anything that hooks into
    execution (``on_execute``, ``resolve``, results) would be skipped by a plan."""
    return all(type(e) in allowed or e in allowed for e in extensions)


__all__ = ["Compiler", "Plan", "Plans", "Unsupported", "compilable", "execute_fields"]


# -- serving -----------------------------------------------------------------------------------


@dataclass
class Mismatch:
    """A request the two paths answered differently."""

    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    compiled: bytes
    strawberry: bytes


@dataclass
class Shadow:
    """Differential mode (tests): every request a plan answered is answered again by
    Strawberry's normal execution, in a context of its own (same caller, same clock),
    and the two encoded answers are compared byte for byte."""

    checked: int = 0
    mismatches: list[Mismatch] | None = None
    queries: list[tuple[str, dict[str, Any] | None, str | None]] | None = None
    unstable: int = 0  # answers that differ between two runs of Strawberry itself

    def __post_init__(self) -> None:
        self.mismatches = []
        self.queries = []

    async def compare(self, gql: Any, body: bytes, strawberry: Callable[[], Awaitable[bytes]],
                      compiled: Callable[[], Awaitable[bytes]]) -> None:
        """Answer again through Strawberry; when the answers differ, both again (the
        read models may have moved in between): a difference three times is recorded."""
        assert self.mismatches is not None and self.queries is not None
        self.queries.append((gql.query, gql.variables, gql.operation_name))
        self.checked += 1
        other = b""
        for attempt in range(3):
            if attempt:
                await asyncio.sleep(0.05)
                body = await compiled()
            other = await strawberry()
            if other == body:
                return
        if await strawberry() != other:
            # Strawberry disagrees with itself (a field stamped with the time of asking, a
            # fresh signature): nothing to compare, and nothing a plan could match.
            self.unstable += 1
            return
        self.mismatches.append(Mismatch(gql.query, gql.variables, gql.operation_name, body, other))


enabled = os.environ.get("PROGRAM_GRAPHQL_COMPILED", "1").strip().lower() not in {
    "0", "false", "no", "off"}
shadow: Shadow | None = None
