"""GraphQL over HTTP: what a request must look like, and how every answer is shaped."""

from __future__ import annotations

import httpx
import pytest

from program.api.app import create_app
from program.bootstrap import Services
from test_graphql_support import TokenFactory


@pytest.fixture(scope="module")
def auth(token: TokenFactory) -> dict[str, str]:
    return {"authorization": f"Bearer {token('ADMIN', subject='admin-http')}"}


async def head(services: Services) -> int:
    return await services.store.max_position()


# -- answers --------------------------------------------------------------------------------


async def test_a_query_answers_only_data_as_json(http: httpx.AsyncClient, auth: dict[str, str]) -> None:
    response = await http.post("/graphql", json={"query": "{ me { subject role } }"}, headers=auth)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"data": {"me": {"subject": "admin-http", "role": "ADMIN"}}}


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "Application/JSON"])
async def test_json_bodies_are_accepted_whatever_the_parameters(
    http: httpx.AsyncClient, auth: dict[str, str], content_type: str
) -> None:
    response = await http.post("/graphql", content=b'{"query": "{ me { subject } }"}',
                               headers={**auth, "content-type": content_type})
    assert response.json() == {"data": {"me": {"subject": "admin-http"}}}


async def test_the_operation_name_picks_the_operation(
    http: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    body = {"query": "query A { me { subject } } query B { me { role } }", "operationName": "B",
            "variables": None, "extensions": {}}
    response = await http.post("/graphql", json=body, headers=auth)
    assert response.json() == {"data": {"me": {"role": "ADMIN"}}}


async def test_errors_keep_their_locations_path_and_code(
    http: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    query = "query C($id: UUID!) { cohort(id: $id) { id } }"
    missing = "00000000-0000-0000-0000-000000000000"
    response = await http.post("/graphql", json={"query": query, "variables": {"id": missing}},
                               headers=auth)
    assert response.status_code == 200
    assert response.json() == {"data": None, "errors": [{
        "message": f"no cohort with id {missing}", "locations": [{"line": 1, "column": 23}],
        "path": ["cohort"], "extensions": {"code": "NOT_FOUND"}}]}


async def test_queries_also_work_over_get(http: httpx.AsyncClient, auth: dict[str, str]) -> None:
    response = await http.get("/graphql", params={"query": "{ me { subject } }"}, headers=auth)
    assert response.status_code == 200
    assert response.json() == {"data": {"me": {"subject": "admin-http"}}}


async def test_mutations_are_refused_over_get_and_change_nothing(
    http: httpx.AsyncClient, auth: dict[str, str], services: Services
) -> None:
    before = await head(services)
    response = await http.get(
        "/graphql", params={"query": 'mutation { createProgramme(input: {name: "G"}) { position } }'},
        headers=auth)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await head(services) == before


# -- unusable requests -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b"{not json", "application/json", "Unable to parse request body as JSON"),
        (b"", "application/json", "Unable to parse request body as JSON"),
        (b'{"query": "\xff"}', "application/json", "Unable to parse request body as JSON"),
        (b'"{ me { subject } }"', "application/json", "must be a JSON object"),
        (b'[{"query": "{ me { subject } }"}]', "application/json", "Batching is not enabled"),
        (b'{"variables": {}}', "application/json", "No GraphQL query found"),
        (b'{"query": ""}', "application/json", "No GraphQL query found"),
        (b'{"query": 12}', "application/json", "`query` must be a string"),
        (b'{"query": "{ me { subject } }", "variables": [1]}', "application/json",
         "`variables` must be an object"),
        (b'{"query": "{ me { subject } }", "extensions": 1}', "application/json",
         "`extensions` must be an object"),
        (b'{"query": "{ me { subject } }", "operationName": 3}', "application/json",
         "`operationName` must be a string"),
        (b'{"query": "query A { me { subject } }", "operationName": "Z"}', "application/json",
         'Unknown operation named "Z"'),
        (b'{"query": "{ me { subject } }"}', "text/plain", "Unsupported content type"),
        (b"{ me { subject } }", "application/graphql", "Unsupported content type"),
    ],
    ids=["malformed", "empty", "not-utf8", "not-an-object", "batch", "no-query", "empty-query",
         "query-not-text", "variables-not-object", "extensions-not-object",
         "operation-name-not-text", "unknown-operation", "text", "graphql-media-type"],
)
async def test_an_unusable_request_is_bad_user_input_with_status_400(
    http: httpx.AsyncClient, auth: dict[str, str], content: bytes, content_type: str, message: str
) -> None:
    response = await http.post("/graphql", content=content,
                               headers={**auth, "content-type": content_type})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert message in error["message"]


async def test_a_mutation_in_an_unusable_request_changes_nothing(
    http: httpx.AsyncClient, auth: dict[str, str], services: Services
) -> None:
    before = await head(services)
    body = b'{"query": "mutation { createProgramme(input: {name: \\"X\\"}) { position } }", "variables": 1}'
    response = await http.post("/graphql", content=body,
                               headers={**auth, "content-type": "application/json"})
    assert response.status_code == 400
    assert await head(services) == before


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_graphql_answers_503_until_the_services_are_open(
    services: Services, auth: dict[str, str], method: str
) -> None:
    app = create_app(services.settings)  # its lifespan never runs here: no services yet
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.request(method, "/graphql", headers=auth,
                                   **({"json": {"query": "{ me { subject } }"}} if method == "POST"
                                      else {"params": {"query": "{ me { subject } }"}}))
    assert response.status_code == 503
    assert "retry" in response.json()["detail"]
    assert int(response.headers["retry-after"]) > 0


# -- limits, however often a document comes -------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ me { subject } nothingHere }", "Cannot query field 'nothingHere'"),
        ("{ " + " ".join(f"a{i}: me {{ subject }}" for i in range(16)) + " }", "aliases"),
        ("{ me { " + " ".join(["subject"] * 3000) + " } }", "token"),
        ("{ me { subject }", "Syntax Error"),
    ],
    ids=["invalid", "aliases", "tokens", "syntax"],
)
async def test_a_refused_document_is_refused_every_time(
    http: httpx.AsyncClient, auth: dict[str, str], query: str, message: str
) -> None:
    answers = [(await http.post("/graphql", json={"query": query}, headers=auth)).json()
               for _ in range(3)]
    assert answers[0] == answers[1] == answers[2]
    (error,) = answers[0]["errors"]
    assert answers[0]["data"] is None
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert message.lower() in error["message"].lower()
