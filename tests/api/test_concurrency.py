"""A reader querying while an upload re-indexes sees no error and no half-written index."""

from __future__ import annotations

import threading

import httpx


def test_readers_keep_working_during_upload(server_url):
    stop = threading.Event()
    errors: list[str] = []
    counts = {"search": 0}

    def reader() -> None:
        with httpx.Client(base_url=server_url, timeout=120) as c:
            while not stop.is_set():
                r = c.get("/v1/search", params={"q": "Arc'teryx Museum store Nanjing West Road", "k": 5})
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.text[:200]}")
                    continue
                hits = r.json()["hits"]
                if not hits or "Arc'teryx" not in hits[0]["passage"]["text"]:
                    errors.append(f"unexpected hits {hits[:1]}")
                for h in hits:  # every passage resolves to its article in the same consistent index
                    p = h["passage"]
                    d = c.get(f"/v1/documents/{p['doc_id']}")
                    if d.status_code == 200 and d.json()["text"][p["start"] : p["end"]] != p["text"]:
                        errors.append("passage does not match its article")
                counts["search"] += 1

    t = threading.Thread(target=reader)
    t.start()
    try:
        with httpx.Client(base_url=server_url, timeout=300) as c:
            body = "\n\n".join(f"Paragraph {i}: the Minhang tram depot logged {1000 + i} inspections." for i in range(60))
            up = c.post("/v1/documents", json={"title": "Depot log", "text": body})
            assert up.status_code == 201, up.text
            hits = c.get("/v1/search", params={"q": "Minhang tram depot inspections", "k": 1}).json()["hits"]
            assert "Minhang tram depot" in hits[0]["passage"]["text"], "the new generation is served after commit"
            for d in up.json()["documents"]:
                assert c.delete(f"/v1/documents/{d['doc_id']}").status_code == 200
    finally:
        stop.set()
        t.join(timeout=120)
    assert counts["search"] >= 1
    assert not errors, errors[:3]
