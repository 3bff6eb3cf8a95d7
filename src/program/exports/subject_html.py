"""The subject-access export as a page a person can read (every value HTML-escaped)."""

from __future__ import annotations

import json
from html import escape
from typing import Any

_SECTIONS = [
    ("person", "About you", "What we hold about you: your personal data as it stands today."),
    ("programmes", "Programmes", "The programmes you were registered into or took part in."),
    ("enrolments", "Enrolments and waiting lists", "Every change of your place in a group."),
    ("attendance", "Attendance", "Every attendance mark recorded for you."),
    ("outcomes", "Outcome scores", "Every questionnaire score recorded for you."),
    ("consents", "Your consents", "Every consent change, each with its signed receipt."),
    ("disclosures", "Disclosures to partners", "Everything shared about you with a partner."),
    ("purposes", "Why we hold it", "The purposes and their lawful basis."),
    ("recipients", "Who may receive it", "Partners your consents name."),
    ("dataCategories", "Kinds of data", ""),
    ("sources", "Where it came from", ""),
    ("accessLog", "Earlier copies of this export", "Who made one, and when."),
]

_STYLE = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
line-height:1.5;color:#1a1a1a}table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f2f2f2}pre{white-space:pre-wrap;word-break:break-all;font-size:.8rem}
.note{color:#555}"""


def render(document: dict[str, Any]) -> str:
    controller = document.get("controller") or {}
    parts = [
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<title>Your data</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Everything we hold about you</h1>",
        f"<p class=\"note\">Made on {_e(document.get('generatedAt'))} by "
        f"{_e(controller.get('name'))} ({_e(controller.get('contact'))}). Your pseudonymous "
        f"id is <code>{_e((document.get('person') or {}).get('id'))}</code>.</p>",
    ]
    for key, title, note in _SECTIONS:
        parts.append(f"<h2>{_e(title)}</h2>")
        if note:
            parts.append(f"<p class=\"note\">{_e(note)}</p>")
        parts.append(_value(document.get(key), key))
        if key == "disclosures" and not document.get(key):
            parts.append(f"<p>{_e(document.get('disclosuresNote'))}</p>")
    parts += [
        "<h2>How long we keep it</h2>", f"<p>{_e(document.get('retention'))}</p>",
        "<h2>How to withdraw a consent</h2>", f"<p>{_e(document.get('withdrawal'))}</p>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _value(value: Any, key: str = "") -> str:
    if value is None or value == [] or value == {}:
        return "<p>None.</p>"
    if isinstance(value, dict):
        rows = "".join(f"<tr><th>{_e(k)}</th><td>{_value(v, k)}</td></tr>"
                       for k, v in value.items())
        return f"<table>{rows}</table>"
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        columns = list(dict.fromkeys(k for v in value for k in v))
        head = "".join(f"<th>{_e(c)}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{_cell(v.get(c), c)}</td>" for c in columns)
                       + "</tr>" for v in value)
        return f"<table><tr>{head}</tr>{body}</table>"
    if isinstance(value, list):
        return "<ul>" + "".join(f"<li>{_e(v)}</li>" for v in value) + "</ul>"
    return _e(value)


def _cell(value: Any, column: str) -> str:
    if column == "receipt" and isinstance(value, dict):
        receipt_id = (value.get("receipt") or {}).get("consentReceiptID")
        return (f"<details><summary>receipt {_e(receipt_id)}</summary><pre>"
                f"{_e(json.dumps(value, indent=2, ensure_ascii=False))}</pre></details>")
    if isinstance(value, (dict, list)):
        return _value(value, column)
    return _e(value)
