// Documents panel: the collection's name and size, the document list, multi-file upload with
// progress and a result per file, delete with confirmation, and the answer-mode picker when the
// server has an LLM. Uses el(), headers(), errorMessage() and docCache from app.js.
"use strict";

const docs = {
  info: $("collection-info"), toggle: $("docs-toggle"), panel: $("docs-panel"), close: $("docs-close"),
  drop: $("dropzone"), input: $("file-input"), progress: $("upload-progress"), uploadStatus: $("upload-status"),
  results: $("upload-results"), status: $("docs-status"), list: $("doc-list"), modeLabel: $("mode-label"),
  types: $("accepted-types"),
};

async function refreshInfo() {
  try {
    const resp = await fetch("/readyz");
    const body = await resp.json();
    const count = body.documents ?? 0;
    docs.info.textContent = `Collection: ${body.collection} · ${count} document${count === 1 ? "" : "s"}`;
    docs.modeLabel.hidden = !body.llm_configured;
    if (body.accepted_types) { // the server's one list of accepted file types
      docs.types.textContent = `(${body.accepted_types.join(" ")}; several at once, or drop them here)`;
      docs.input.setAttribute("accept", body.accepted_types.join(","));
    }
  } catch (_) {
    docs.info.textContent = "Collection: server unreachable";
  }
}

function describe(d) {
  return [d.date ? d.date.slice(0, 10) : "undated", d.source.split("/").pop(), `${d.chunks} chunk${d.chunks === 1 ? "" : "s"}`]
    .join(" · ");
}

function confirmDelete(item, d) {
  const question = el("span", { class: "confirm-text", text: `Delete “${d.title || "(untitled)"}” from the index?` });
  const yes = el("button", { type: "button", class: "danger small", onclick: () => removeDocument(d) }, "Delete");
  const no = el("button", { type: "button", class: "ghost small", onclick: () => { box.remove(); item.querySelector(".del").focus(); } }, "Cancel");
  const box = el("div", { class: "confirm", role: "group", "aria-label": "Confirm delete" }, question, yes, no);
  item.querySelector(".confirm")?.remove();
  item.append(box);
  no.focus();
}

async function loadDocuments() {
  docs.status.textContent = "Loading documents…";
  try {
    const resp = await fetch("/v1/documents?limit=1000", { headers: headers(false) });
    if (!resp.ok) throw new Error(await errorMessage(resp));
    const body = await resp.json();
    docs.list.replaceChildren(...body.documents.map((d) => {
      const item = el("li", { class: "doc", "data-doc-id": d.doc_id },
        el("div", { class: "doc-body" },
          el("span", { class: "doc-title", text: d.title || "(untitled)" }),
          el("span", { class: "doc-meta", text: describe(d) })));
      item.append(el("button", { type: "button", class: "ghost small del", "aria-label": `Delete ${d.title || "(untitled)"}`,
        onclick: () => confirmDelete(item, d) }, "Delete"));
      return item;
    }));
    docs.status.textContent = body.total ? `${body.total} document${body.total === 1 ? "" : "s"}.` : "No documents yet: add some above.";
  } catch (err) {
    docs.status.textContent = `Cannot list documents: ${err.message}`;
  }
}

async function removeDocument(d) {
  docs.status.textContent = `Deleting “${d.title}”…`;
  try {
    const resp = await fetch(`/v1/documents/${encodeURIComponent(d.doc_id)}`, { method: "DELETE", headers: headers(false) });
    if (!resp.ok) throw new Error(await errorMessage(resp));
    docCache.delete(d.doc_id);
    await loadDocuments();
    docs.status.textContent = `Deleted “${d.title}”.`;
    await refreshInfo();
    docs.input.focus();
  } catch (err) {
    docs.status.textContent = `Delete failed: ${err.message}`;
  }
}

function showResults(results) {
  docs.results.replaceChildren(...results.map((r) => {
    const ok = r.status !== "skipped";
    const what = r.status === "indexed" ? `indexed (${r.documents.length} document${r.documents.length === 1 ? "" : "s"})`
      : r.status === "unchanged" ? "already indexed, unchanged" : `skipped: ${r.reason}`;
    return el("li", { class: ok ? "ok" : "skipped" }, el("strong", { text: r.name }), ` — ${what}`);
  }));
}

function upload(files) {
  if (!files.length) return;
  const form = new FormData();
  for (const f of files) form.append("files", f, f.name);
  const xhr = new XMLHttpRequest(); // fetch() reports no upload progress
  xhr.open("POST", "/v1/documents");
  const key = localStorage.getItem(KEY_STORAGE);
  if (key) xhr.setRequestHeader("Authorization", `Bearer ${key}`);
  docs.progress.hidden = false;
  docs.progress.value = 0;
  docs.results.replaceChildren();
  docs.uploadStatus.textContent = `Uploading ${files.length} file${files.length === 1 ? "" : "s"}…`;
  xhr.upload.onprogress = (ev) => { if (ev.lengthComputable) docs.progress.value = Math.round((ev.loaded / ev.total) * 100); };
  xhr.upload.onload = () => { docs.progress.value = 100; docs.uploadStatus.textContent = "Indexing…"; };
  xhr.onerror = () => { docs.progress.hidden = true; docs.uploadStatus.textContent = "Upload failed: cannot reach the server."; };
  xhr.onload = async () => {
    docs.progress.hidden = true;
    let body = null;
    try { body = JSON.parse(xhr.responseText); } catch (_) { /* not JSON */ }
    if (xhr.status === 201 && body) {
      showResults(body.results);
      const kept = body.results.filter((r) => r.status !== "skipped").length;
      docs.uploadStatus.textContent = `Done: ${kept} of ${body.results.length} file${body.results.length === 1 ? "" : "s"} indexed.`;
    } else {
      const error = body && body.error;
      if (error && error.results) showResults(error.results);
      docs.uploadStatus.textContent = `Nothing indexed: ${error ? error.message : `the server answered ${xhr.status}`}`;
    }
    docs.input.value = "";
    await loadDocuments();
    await refreshInfo();
  };
  xhr.send(form);
}

function togglePanel(open) {
  docs.panel.hidden = !open;
  docs.toggle.setAttribute("aria-expanded", String(open));
  if (open) { loadDocuments(); docs.input.focus(); } else docs.toggle.focus();
}

docs.toggle.addEventListener("click", () => togglePanel(docs.panel.hidden));
docs.close.addEventListener("click", () => togglePanel(false));
docs.input.addEventListener("change", () => upload([...docs.input.files]));
for (const type of ["dragenter", "dragover"]) {
  docs.drop.addEventListener(type, (ev) => { ev.preventDefault(); docs.drop.classList.add("over"); });
}
for (const type of ["dragleave", "drop"]) {
  docs.drop.addEventListener(type, () => docs.drop.classList.remove("over"));
}
docs.drop.addEventListener("drop", (ev) => { ev.preventDefault(); upload([...ev.dataTransfer.files]); });
refreshInfo();
