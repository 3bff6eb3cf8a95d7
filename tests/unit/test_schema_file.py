"""The committed ``schema.graphql`` is the schema the code serves, so a schema change shows
in review. Regenerate it with:

    python -c "from program.api.graphql.schema import schema; print(schema.as_str())" > schema.graphql
"""

from __future__ import annotations

from pathlib import Path

from program.api.graphql.errors import _camel
from program.api.graphql.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_schema_file_when_compared_to_the_served_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8").strip() == schema.as_str().strip(), (
        "schema.graphql is out of date: regenerate it (see this module's docstring)")


def test_error_details_when_sent_use_camel_case_keys() -> None:
    assert _camel("participant_id") == "participantId"
    assert _camel("starts_on") == "startsOn"
    assert _camel("field") == "field"
