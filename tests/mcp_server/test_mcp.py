"""`rag mcp` with the SDK's own client, over stdio (a real `python -m rag mcp` child) and streamable HTTP
(a real uvicorn server on 127.0.0.1), against a real index: client -> ask -> cited answer."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from api.testing import live_server
from rag.mcp_server.http import MCP_PATH, http_app
from rag.mcp_server.tools import build_server
from rag.net import free_port
from rag.service import RagService
from tests.mcp_server.client_thread import run_async

REPO = Path(__file__).resolve().parents[2]
QUESTION = "How many books does the Zhujiajiao Lantern Library hold?"
NOTE = ("Qingpu District opened the Zhujiajiao Lantern Library on 3 March 2024. "
        "The library holds 48,000 books about water towns and is open every day until 21:00.")
KEY = "test-key-123"
READ_TOOLS = {"search", "ask", "list_documents", "get_document", "list_collections"}


@pytest.fixture()
def mcp_settings(sample_settings, tmp_path):
    """A private copy of the sample index (the write tools change it)."""
    shutil.copytree(sample_settings.collection_dir, tmp_path / sample_settings.collection)
    return sample_settings.model_copy(update={"index_dir": tmp_path, "rate_limit_per_minute": 0})


def check_citations(client_result, documents: dict[str, str]) -> None:
    for c in client_result["citations"]:
        assert documents[c["document"]][c["start"]:c["end"]] == c["quote"]


def assert_no_server_paths(results: list, forbidden: list[str]) -> None:
    """No reply names a server path: every source is relative (sample/..., uploads/...)."""
    def sources(value: object) -> list[str]:
        if isinstance(value, dict):
            return [v for k, v in value.items() if k == "source" and isinstance(v, str)] + \
                [s for v in value.values() for s in sources(v)]
        return [s for v in value for s in sources(v)] if isinstance(value, list) else []

    checked = 0
    for result in results:
        text = " ".join(getattr(c, "text", "") for c in result.content) + repr(result.structured_content)
        assert not any(path in text for path in forbidden), text[:500]
        for source in sources(result.structured_content or {}):
            assert not source.startswith("/") and source.split("/")[0] in ("sample", "uploads"), source
            checked += 1
    assert checked >= 5, "the replies named documents"


async def _round_trip(client: Client, allow_writes: bool, forbidden: list[str]) -> None:
    replies = []
    real_call = client.call_tool

    async def call_tool(name: str, arguments: dict) -> object:
        result = await real_call(name, arguments)
        replies.append(result)
        return result

    client.call_tool = call_tool  # type: ignore[method-assign] - every reply is checked for server paths below
    tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == READ_TOOLS | ({"add_documents", "delete_document"} if allow_writes else set())
    ask_schema = tools["ask"].input_schema
    assert ask_schema["required"] == ["question"]
    assert all(p.get("description") for p in ask_schema["properties"].values()), "every input is described"

    if allow_writes:
        added = await client.call_tool("add_documents", {"documents": [
            {"name": "lantern.md", "text": NOTE, "title": "Lantern Library opens", "date": "2024-03-03"},
            {"name": "logo.png", "content_base64": "iVBORw0KGgo="}]})
        assert not added.is_error, added.content
        results = {r["name"]: r for r in added.structured_content["results"]}
        assert results["lantern.md"]["status"] == "indexed" and results["logo.png"]["status"] == "skipped"
        doc_id = added.structured_content["documents"][0]["doc_id"]

    answer = await client.call_tool("ask", {"question": QUESTION if allow_writes else
                                            "Where is the Arc'teryx Museum store located?"})
    assert not answer.is_error, answer.content
    out = answer.structured_content
    assert not out["refused"] and out["citations"], out
    docs = {}
    for c in out["citations"]:
        doc = await client.call_tool("get_document", {"document": c["document"]})
        docs[c["document"]] = doc.structured_content["text"]
    check_citations(out, docs)
    if allow_writes:
        assert any(c["document"] == doc_id for c in out["citations"]), "the answer cites the added document"
        gone = await client.call_tool("delete_document", {"document": doc_id})
        assert not gone.is_error
        again = await client.call_tool("ask", {"question": QUESTION})
        assert again.structured_content["refused"], again.structured_content["answer"]

    hits = await client.call_tool("search", {"query": "Pudong", "k": 2})
    assert len(hits.structured_content["passages"]) == 2
    listing = await client.call_tool("list_documents", {"limit": 3})
    assert listing.structured_content["total"] >= 15 and len(listing.structured_content["documents"]) == 3
    bad = await client.call_tool("search", {"query": "Pudong", "since": "March 2024"})
    assert bad.is_error and "YYYY-MM-DD" in bad.content[0].text
    missing = await client.call_tool("get_document", {"document": "0" * 64})
    assert missing.is_error and "document_not_found" in missing.content[0].text
    assert_no_server_paths(replies, forbidden)


def test_mcp_over_streamable_http(mcp_settings, embedder, tmp_path_factory):
    settings = mcp_settings.model_copy(update={"api_keys": KEY})
    port = free_port()
    with RagService(settings, embedder=embedder) as service:
        service.load()
        app = http_app(build_server(service, allow_writes=True), settings, port)
        with live_server(app, port=port) as base:
            url = base + MCP_PATH

            async def main() -> None:
                http = create_mcp_http_client(headers={"Authorization": f"Bearer {KEY}"})
                async with http, Client(streamable_http_client(url, http_client=http)) as client:
                    await _round_trip(client, allow_writes=True, forbidden=[str(tmp_path_factory.getbasetemp()),
                                                                            str(REPO)])

            run_async(main)
            # Same guard as the REST API: no key, a wrong key, a cross-site page, a foreign Origin.
            init = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
            accept = {"Accept": "application/json, text/event-stream"}
            assert httpx.post(url, json=init, headers=accept).status_code == 401
            assert httpx.post(url, json=init, headers={**accept, "Authorization": "Bearer nope"}).status_code == 401
            auth = {**accept, "Authorization": f"Bearer {KEY}"}
            assert httpx.post(url, json=init, headers={**auth, "Sec-Fetch-Site": "cross-site"}).status_code == 403
            assert httpx.post(url, json=init, headers={**auth, "Origin": "http://evil.example"}).status_code in (400, 403)


def test_mcp_over_stdio(mcp_settings, tmp_path_factory):
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "RAG_INDEX_DIR": str(mcp_settings.index_dir),
           "RAG_COLLECTION": mcp_settings.collection}
    params = StdioServerParameters(command=sys.executable, args=["-m", "rag", "mcp"], env=env, cwd=str(REPO))

    async def main() -> None:
        async with Client(params, read_timeout_seconds=300) as client:
            await _round_trip(client, allow_writes=False, forbidden=[str(tmp_path_factory.getbasetemp()), str(REPO)])

    run_async(main)
