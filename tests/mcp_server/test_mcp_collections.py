"""MCP tools take `collection` (the server's default when left out): one `rag mcp` serves every collection of the
index folder; an unknown name is a tool error that lists the collections."""

from __future__ import annotations

from mcp import Client

from rag.mcp_server.tools import build_server
from rag.service import RagService
from rag.service.collections import Collections
from tests.api.fixtures import two_collections  # noqa: F401
from tests.mcp_server.client_thread import run_async
from tests.mcp_server.test_mcp import check_citations

QUESTION = "How many glass cabins does the Pearl Ring ferris wheel carry?"


def test_tools_answer_from_the_collection_named(two_collections, embedder):  # noqa: F811
    collections = Collections(two_collections, embedder=embedder, role="query")

    async def main() -> None:
        async with Client(build_server(collections, allow_writes=True)) as client:
            listed = (await client.call_tool("list_collections", {})).structured_content
            assert listed == {"default": "sample", "collections": ["sample", "notes"]}
            tools = {t.name: t for t in (await client.list_tools()).tools}
            for name in ("search", "ask", "list_documents", "get_document", "add_documents", "delete_document"):
                assert tools[name].input_schema["properties"]["collection"]["description"], name

            out = (await client.call_tool("ask", {"question": QUESTION, "collection": "notes"})).structured_content
            assert not out["refused"] and "48 glass cabins" in out["answer"], out
            assert {c["source"] for c in out["citations"]} == {"notes/pearl-ring.txt"}
            doc = await client.call_tool("get_document", {"document": out["citations"][0]["document"],
                                                          "collection": "notes"})
            check_citations(out, {out["citations"][0]["document"]: doc.structured_content["text"]})
            assert (await client.call_tool("ask", {"question": QUESTION})).structured_content["refused"]
            hits = await client.call_tool("search", {"query": "ferris wheel", "k": 1, "collection": "notes"})
            assert hits.structured_content["passages"][0]["source"] == "notes/pearl-ring.txt"
            listing = await client.call_tool("list_documents", {"collection": "notes"})
            assert listing.structured_content["total"] == 1

            bad = await client.call_tool("search", {"query": "ferris wheel", "collection": "press"})
            assert bad.is_error and "collection_not_found" in bad.content[0].text
            assert "Collections: sample, notes." in bad.content[0].text

    try:
        run_async(main)
    finally:
        collections.close()


def test_a_server_of_one_service_names_it(two_collections, embedder):  # noqa: F811
    with RagService(two_collections, embedder=embedder) as service:

        async def main() -> None:
            async with Client(build_server(service)) as client:
                listed = (await client.call_tool("list_collections", {})).structured_content
                assert listed == {"default": "sample", "collections": ["sample"]}
                bad = await client.call_tool("ask", {"question": QUESTION, "collection": "notes"})
                assert bad.is_error and "serves 'sample' only" in bad.content[0].text

        run_async(main)
