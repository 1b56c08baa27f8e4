// Documents panel: the collection's name and size, the indexed files newest first (GET /v1/files) with
// their articles under them, a filter box, a preview (the first lines of the file's first article, or of
// the article picked), multi-file upload with progress and a result per file, deleting a whole file with
// confirmation, and the answer-mode picker when the server has an LLM. Uses el(), headers(),
// errorMessage(), openCitation() and docCache from app.js.
"use strict";

const docs = {
  info: $("collection-info"), toggle: $("docs-toggle"), panel: $("docs-panel"), close: $("docs-close"),
  drop: $("dropzone"), input: $("file-input"), progress: $("upload-progress"), uploadStatus: $("upload-status"),
  results: $("upload-results"), status: $("docs-status"), list: $("doc-list"), modeLabel: $("mode-label"),
  types: $("accepted-types"), filter: $("doc-filter"),
};

async function refreshInfo() {
  try {
    const resp = await fetch(withCollection("/readyz"));
    const body = await resp.json();
    const count = body.documents ?? 0;
    if (!resp.ok && !body.collection) throw new Error((body.error && body.error.message) || resp.statusText);
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

// ------------------------------------------------------------------ files (GET /v1/files), newest first
let files = [];   // as the server listed them
let totalFiles = 0;
const selected = new Map(); // file_id -> the doc_id whose preview shows (the first article by default)

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

function addedAt(iso) {
  if (!iso) return null;
  const when = new Date(iso);
  return Number.isNaN(when.getTime()) ? null : `added ${when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}`;
}

function describeFile(f) {
  const folder = f.source.includes("/") ? f.source.slice(0, f.source.lastIndexOf("/") + 1) : "";
  return [folder ? `in ${folder}` : null, plural(f.articles.length, "article"), plural(f.chunks, "chunk"), addedAt(f.indexed_at)]
    .filter(Boolean).join(" · ");
}

function describeArticle(a) {
  return [a.date ? a.date.slice(0, 10) : "undated", plural(a.chunks, "chunk")].join(" · ");
}

// Every word of the filter in the file's name or the article's title (any case): the server's /v1/files?q= rule.
function filterWords() { return docs.filter.value.toLowerCase().split(/\s+/).filter(Boolean); }
function matching(f, words) {
  if (!words.length) return f.articles;
  return f.articles.filter((a) => words.every((w) => f.source.toLowerCase().includes(w) || (a.title || "").toLowerCase().includes(w)));
}

function showPreview(item, f, article) {
  selected.set(f.file_id, article.doc_id);
  const box = item.querySelector(".file-preview");
  const which = f.articles.length > 1 ? `Article ${f.articles.indexOf(article) + 1} of ${f.articles.length}: ` : "";
  box.replaceChildren(
    el("p", { class: "preview-title", text: `${which}${article.title || "(untitled)"}` }),
    el("p", { class: "preview-text", text: article.preview || "(no text)" }),
    el("button", { type: "button", class: "ghost small read", onclick: () => readArticle(f, article) }, "Read the article"));
  for (const b of item.querySelectorAll("button.article")) b.setAttribute("aria-pressed", String(b.dataset.docId === article.doc_id));
}

function readArticle(f, a) { // the citation viewer, from the article's start
  openCitation({ doc_id: a.doc_id, title: a.title, date: a.date, source: f.source, start: 0, end: 0 }, null);
}

function fileItem(f, shown) {
  const label = f.name;
  const item = el("li", { class: "doc file", "data-file-id": f.file_id });
  const articles = el("ul", { class: "articles", id: `arts-${f.file_id}`, "aria-label": `Articles in ${label}` },
    ...shown.map((a) => el("li", {},
      el("button", { type: "button", class: "article", "data-doc-id": a.doc_id, "aria-pressed": "false",
        "aria-controls": `prev-${f.file_id}`, onclick: () => showPreview(item, f, a) },
        el("span", { class: "doc-title", text: a.title || "(untitled)" }),
        el("span", { class: "doc-meta", text: describeArticle(a) })))));
  const filtered = shown.length < f.articles.length;
  const toggle = el("button", { type: "button", class: "ghost small toggle", "aria-controls": articles.id,
    "aria-expanded": String(filtered), onclick: () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      articles.hidden = !open;
    } }, filtered ? `${shown.length} of ${plural(f.articles.length, "article")}` : plural(f.articles.length, "article"));
  articles.hidden = !filtered;
  item.append(
    el("div", { class: "doc-body" }, el("span", { class: "doc-title", text: label }), el("span", { class: "doc-meta", text: describeFile(f) })),
    el("div", { class: "file-actions" }, toggle,
      el("button", { type: "button", class: "ghost small del", "aria-label": `Delete ${label}`, onclick: () => confirmDelete(item, f) }, "Delete")),
    el("div", { class: "file-preview", id: `prev-${f.file_id}` }),
    articles);
  const keep = shown.find((a) => a.doc_id === selected.get(f.file_id));
  showPreview(item, f, keep || shown[0]);
  return item;
}

function renderFiles() {
  const words = filterWords();
  const shown = files.map((f) => [f, matching(f, words)]).filter(([, arts]) => arts.length);
  docs.list.replaceChildren(...shown.map(([f, arts]) => fileItem(f, arts)));
  const articles = files.reduce((n, f) => n + f.articles.length, 0);
  const more = totalFiles > files.length ? ` (the newest ${files.length} shown)` : "";
  docs.status.textContent = !totalFiles ? "No documents yet: add some above."
    : words.length ? `${shown.length} of ${plural(totalFiles, "file")} match “${docs.filter.value.trim()}”.`
    : `${plural(totalFiles, "file")}, ${plural(articles, "article")}${more}, newest first.`;
}

function confirmDelete(item, f) {
  const what = f.articles.length > 1 ? ` and its ${f.articles.length} articles` : "";
  const question = el("span", { class: "confirm-text", text: `Delete “${f.name}”${what} from the index?` });
  const yes = el("button", { type: "button", class: "danger small", onclick: () => removeFile(f) }, "Delete");
  const no = el("button", { type: "button", class: "ghost small", onclick: () => { box.remove(); item.querySelector(".del").focus(); } }, "Cancel");
  const box = el("div", { class: "confirm", role: "group", "aria-label": "Confirm delete" }, question, yes, no);
  item.querySelector(".confirm")?.remove();
  item.append(box);
  no.focus();
}

async function loadDocuments() {
  docs.status.textContent = "Loading documents…";
  try {
    const resp = await fetch(withCollection("/v1/files?limit=1000"), { headers: headers(false) });
    if (!resp.ok) throw new Error(await errorMessage(resp));
    const body = await resp.json();
    files = body.files;
    totalFiles = body.total;
    renderFiles();
  } catch (err) {
    docs.status.textContent = `Cannot list documents: ${err.message}`;
  }
}

async function removeFile(f) {
  docs.status.textContent = `Deleting “${f.name}”…`;
  try {
    const resp = await fetch(withCollection(`/v1/files/${encodeURIComponent(f.file_id)}`), { method: "DELETE", headers: headers(false) });
    if (!resp.ok) throw new Error(await errorMessage(resp));
    const body = await resp.json();
    for (const id of body.deleted) docCache.delete(`${currentCollection() || ""}/${id}`);
    selected.delete(f.file_id);
    await loadDocuments();
    docs.status.textContent = `Deleted “${f.name}” (${plural(body.deleted.length, "article")}).`;
    await refreshInfo();
    docs.filter.focus();
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
  xhr.open("POST", withCollection("/v1/documents"));
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
docs.filter.addEventListener("input", renderFiles);
for (const type of ["dragenter", "dragover"]) {
  docs.drop.addEventListener(type, (ev) => { ev.preventDefault(); docs.drop.classList.add("over"); });
}
for (const type of ["dragleave", "drop"]) {
  docs.drop.addEventListener(type, () => docs.drop.classList.remove("over"));
}
docs.drop.addEventListener("drop", (ev) => { ev.preventDefault(); upload([...ev.dataTransfer.files]); });
// ------------------------------------------------------------------ the collection picker (several served)
async function loadCollections() {
  try {
    const resp = await fetch("/v1/collections", { headers: headers(false) });
    if (!resp.ok) return; // an older server, or a key still to enter: the default collection it is
    const body = await resp.json();
    const names = body.collections.map((c) => c.name);
    els.collection.replaceChildren(...body.collections.map((c) =>
      el("option", { value: c.name, text: `${c.name} (${plural(c.documents, "document")})` })));
    if (!names.includes(currentCollection())) setCollection(null); // gone since: back to the default
    els.collection.value = currentCollection() || body.default;
    els.collectionPick.hidden = names.length < 2;
    renderChatList();
  } catch (_) { /* unreachable: refreshInfo says so */ }
}

function collectionShown() {
  refreshInfo();
  if (!docs.panel.hidden) loadDocuments();
}

// Another collection picked: a new chat there (the conversation so far was about the other one's documents).
els.collection.addEventListener("change", () => {
  setCollection(els.collection.value);
  showChat(null);
  collectionShown();
});
document.addEventListener("collectionchange", collectionShown); // a past chat of another collection opened
loadCollections().then(refreshInfo);
