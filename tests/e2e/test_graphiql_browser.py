"""The console works offline (issue 7): GraphiQL at /graphql loads only from the program
itself, renders its editor in headless Chromium, and answers a query once a bearer token is
pasted into its headers editor. Driven over the Chrome DevTools Protocol (no extra package).

Skipped, saying so, when Debian's ``chromium`` is not installed (``.ci/run`` installs it)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
import websockets

from test_graphql_support import TokenFactory

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="SKIPPED: the GraphiQL browser test needs Debian's chromium "
    "(apt-get install -y chromium; .ci/run installs it)",
)


class Page:
    """One tab, spoken to over the DevTools protocol."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.next_id = 0
        self.requested: list[str] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        await self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(await self.ws.recv())
            if message.get("method") == "Network.requestWillBeSent":
                self.requested.append(message["params"]["request"]["url"])
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise AssertionError(message["error"])
                return message["result"]  # type: ignore[no-any-return]

    async def js(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, awaitPromise=True,
                                 returnByValue=True)
        return result["result"].get("value")

    async def until(self, expression: str, timeout: float = 30) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = await self.js(expression)
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {expression}")
            await asyncio.sleep(0.2)


@pytest_asyncio.fixture
async def page(tmp_path: Any) -> AsyncIterator[Page]:
    proc = subprocess.Popen(
        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-extensions", "--disable-background-networking", "--remote-debugging-port=0",
         f"--user-data-dir={tmp_path}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        line = ""
        while "DevTools listening on" not in line:
            line = await asyncio.to_thread(proc.stderr.readline)
            assert line, "chromium exited before it listened"
        port = re.search(r"ws://[^:]+:(\d+)/", line).group(1)  # type: ignore[union-attr]
        async with httpx.AsyncClient() as http:
            tabs = (await http.get(f"http://127.0.0.1:{port}/json/list")).json()
        target = next(t for t in tabs if t["type"] == "page")
        async with websockets.connect(target["webSocketDebuggerUrl"], max_size=None) as ws:
            p = Page(ws)
            await p.call("Network.enable")
            await p.call("Page.enable")
            yield p
    finally:
        proc.terminate()
        proc.wait(10)


async def test_graphiql_renders_offline_and_answers_a_query_with_a_pasted_token(
    page: Page, base_url: str, token: TokenFactory
) -> None:
    await page.call("Page.navigate", url=f"{base_url}/graphql")
    await page.until("!!document.querySelector('.graphiql-query-editor .CodeMirror')")
    await page.until("!!document.querySelector('.graphiql-editor-tool .CodeMirror')")

    bearer = token("ADMIN", subject="browser-admin")
    await page.js(
        "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror"
        ".setValue('{ me { subject role } }')")
    headers = json.dumps(json.dumps({"Authorization": f"Bearer {bearer}"}))
    await page.js(
        "(() => { const eds = document.querySelectorAll('.graphiql-editor-tool .CodeMirror');"
        f" eds[eds.length - 1].CodeMirror.setValue({headers}); }})()")
    await page.js("document.querySelector('.graphiql-execute-button').click()")
    answer = await page.until(
        "(() => { const r = document.querySelector('.result-window .CodeMirror');"
        " const v = r && r.CodeMirror.getValue(); return v && v.includes('subject') ? v : null; })()")

    assert json.loads(answer) == {"data": {"me": {"subject": "browser-admin", "role": "ADMIN"}}}
    others = [u for u in page.requested
              if not u.startswith((base_url, "data:", "about:", "blob:"))]
    assert others == [], "the console asked another host"
