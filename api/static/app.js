// Chat page: streams answers from POST /v1/ask (SSE over fetch), shows [n] citation chips that open
// the cited article with the quoted span highlighted. No build step, no dependencies. The chats
// themselves (kept in this browser) and each answer's copy / retry / feedback are in chats.js.
"use strict";

const $ = (id) => document.getElementById(id);
const els = {
  messages: $("messages"), empty: $("empty"), form: $("composer"), question: $("question"), send: $("send"),
  since: $("since"), until: $("until"), clearDates: $("clear-dates"), newChat: $("new-chat"),
  settingsToggle: $("settings-toggle"), settings: $("settings"), apiKey: $("api-key"), saveKey: $("save-key"),
  keyStatus: $("key-status"), viewer: $("viewer"), viewerTitle: $("viewer-title"), viewerMeta: $("viewer-meta"),
  viewerText: $("viewer-text"), viewerClose: $("viewer-close"), mode: $("mode"), explain: $("explain"),
  filters: $("filters"), filtersToggle: $("filters-toggle"), filtersSummary: $("filters-summary"), hint: $("hint"),
  collection: $("collection"), collectionPick: $("collection-pick"),
};
const KEY_STORAGE = "rag.apiKey";
const COLLECTION_STORAGE = "rag.collection"; // the collection asked (several served: GET /v1/collections)
const EXPLAIN_STORAGE = "rag.explain";
const MAX_HISTORY_TURNS = 20; // the server accepts 50; recent turns are what a follow-up refers to
// A touch screen has no Shift key at hand: there Enter adds a line and the Send button sends.
const touchScreen = window.matchMedia("(pointer: coarse)");
let busy = false;
const docCache = new Map();

// ------------------------------------------------------------------ small helpers
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") { node.textContent = v; setLang(node, v); }
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c != null) node.append(c);
  return node;
}

// ------------------------------------------------------------------ Chinese text
// Documents, answers and quotes may be Chinese inside this English page. An element whose text is mostly
// Han gets lang="zh": screen readers switch voice and the browser picks Chinese glyph forms and line
// breaking. Text without Han characters is left exactly as before (no attribute).
const HAN = /\p{Script=Han}/gu;
const LETTER = /\p{L}/gu;
const HAN_RUN = /(\p{Script=Han}+)/u;

function scriptLang(text) {
  const han = (text || "").match(HAN);
  if (!han) return null;
  return han.length * 2 >= (text.match(LETTER) || []).length ? "zh" : null;
}

function setLang(node, text) {
  const lang = scriptLang(text);
  if (lang) node.setAttribute("lang", lang); else node.removeAttribute("lang");
}

// Nodes for `text` inside an element that is not marked Chinese: Han runs become <span lang="zh">, the
// rest stays plain text (so an English answer quoting a Chinese name is read and drawn right).
function textNodes(text, inChinese) {
  if (inChinese || !HAN_RUN.test(text)) return [document.createTextNode(text)];
  return text.split(HAN_RUN).filter(Boolean)
    .map((part) => (HAN_RUN.test(part) ? el("span", { lang: "zh", text: part }) : document.createTextNode(part)));
}

// The server's offsets count Unicode code points (Python strings); JavaScript strings count UTF-16 units,
// so a character outside the BMP (an emoji, a rare Han character from Extension B) before or inside the
// quote would shift the highlight. [before, quote, after] of `text` by code points.
function splitByCodePoints(text, start, end) {
  if (!/[\uD800-\uDBFF]/.test(text)) return [text.slice(0, start), text.slice(start, end), text.slice(end)];
  const chars = Array.from(text);
  return [chars.slice(0, start).join(""), chars.slice(start, end).join(""), chars.slice(end).join("")];
}

function codePointLength(text) {
  return /[\uD800-\uDBFF]/.test(text) ? Array.from(text).length : text.length;
}

function headers(json = true) {
  const h = json ? { "Content-Type": "application/json" } : {};
  const key = localStorage.getItem(KEY_STORAGE);
  if (key) h["Authorization"] = `Bearer ${key}`;
  return h;
}

async function errorMessage(resp) {
  try {
    const body = await resp.json();
    if (body && body.error) return body.error.message || body.error.code;
  } catch (_) { /* not JSON */ }
  return `The server answered ${resp.status} ${resp.statusText}.`;
}

// The collection this page asks; null = the server's default. Every request names it (a body field, or
// ?collection= on GET, DELETE and uploads); a chat keeps the collection it was asked in (chats.js).
function currentCollection() { return localStorage.getItem(COLLECTION_STORAGE) || null; }
function setCollection(name) {
  if (name) localStorage.setItem(COLLECTION_STORAGE, name); else localStorage.removeItem(COLLECTION_STORAGE);
  if (name && [...els.collection.options].some((o) => o.value === name)) els.collection.value = name;
}
function withCollection(url) {
  const name = currentCollection();
  return name ? `${url}${url.includes("?") ? "&" : "?"}collection=${encodeURIComponent(name)}` : url;
}

function scrollToBottom() { els.messages.scrollTop = els.messages.scrollHeight; }

// ------------------------------------------------------------------ SSE parsing
// Yields {event, data} from a fetch Response body; events are separated by a blank line.
async function* sseEvents(resp) {
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue; // keep-alive comment
        const i = line.indexOf(":");
        const field = i < 0 ? line : line.slice(0, i);
        const val = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
        if (field === "event") event = val;
        else if (field === "data") data.push(val);
      }
      if (data.length) yield { event, data: data.join("\n") };
    }
  }
}

// ------------------------------------------------------------------ rendering
function renderAnswerText(container, text, citations) {
  container.replaceChildren();
  setLang(container, text);
  const inChinese = container.getAttribute("lang") === "zh";
  const byN = new Map(citations.map((c) => [c.n, c]));
  const parts = text.split(/(\[\d+\])/);
  for (const part of parts) {
    const m = part.match(/^\[(\d+)\]$/);
    const cit = m && byN.get(Number(m[1]));
    if (cit) {
      container.append(el("button", {
        type: "button", class: "chip", "data-n": String(cit.n), "aria-label": `Source ${cit.n}: ${cit.title}`,
        title: `${cit.title}${cit.date ? " · " + cit.date : ""}`, onclick: (ev) => openCitation(cit, ev.currentTarget),
      }, String(cit.n)));
    } else if (part) {
      container.append(...textNodes(part, inChinese));
    }
  }
}

function renderSources(citations) {
  const list = el("ol", { class: "sources", "aria-label": "Sources" });
  for (const c of citations) {
    const chip = el("button", { type: "button", class: "chip", "data-n": String(c.n), onclick: (ev) => openCitation(c, ev.currentTarget) }, String(c.n));
    list.append(el("li", {}, chip, el("div", { class: "src-body" },
      el("span", { class: "src-title", text: c.title || "(untitled)" }),
      el("span", { class: "src-meta", text: [c.date, c.source.split("/").pop()].filter(Boolean).join(" · ") }))));
  }
  return list;
}

function renderClosest(hits) {
  const box = el("div", { class: "closest" }, el("h3", { text: "Closest passages" }));
  for (const h of hits) {
    const p = h.passage;
    const target = { doc_id: p.doc_id, title: p.title, date: p.date, source: p.source, start: p.start, end: p.end, quote: p.text };
    box.append(el("button", { type: "button", class: "passage", onclick: () => openCitation(target, null) },
      el("div", { class: "p-title", text: `${p.title || "(untitled)"}${p.date ? " · " + p.date : ""}` }),
      el("div", { class: "p-text", text: p.text })));
  }
  return box;
}

function renderFinal(node, answer) {
  node.classList.remove("streaming", "error");
  node.classList.toggle("refused", Boolean(answer.refused));
  node.replaceChildren();
  if (answer.refused) node.append(el("div", { class: "label", text: "No supported answer in the documents" }));
  const body = el("div", { class: "answer" });
  renderAnswerText(body, answer.answer, answer.citations);
  node.append(body);
  if (answer.citations.length) node.append(renderSources(answer.citations));
  if (answer.refused && answer.closest && answer.closest.length) node.append(renderClosest(answer.closest));
  if (answer.rewritten_question) node.append(el("div", { class: "note", text: `Searched for: ${answer.rewritten_question}` }));
  for (const note of answer.notes || []) node.append(el("div", { class: "note", text: note }));
  const refusal = answer.explain && answer.explain.refusal;
  if (refusal && refusal.best_score != null) { // only when "Show the scores" (explain) is on
    node.append(el("div", { class: "note scores", text: `Scores: best evidence ${refusal.best_score.toFixed(2)}, `
      + `threshold ${refusal.threshold.toFixed(2)} (margin ${refusal.margin >= 0 ? "+" : ""}${refusal.margin.toFixed(2)})` }));
  }
}

function showError(node, message) {
  node.classList.remove("streaming", "refused");
  node.classList.add("error");
  node.replaceChildren(el("div", { text: message }));
}

// A long answer (a refusal with its closest passages, on a phone) is shown from its top: its label stays in view.
function revealAnswer(node) {
  if (node.offsetHeight > els.messages.clientHeight) node.scrollIntoView({ block: "start" });
  else scrollToBottom();
}

// ------------------------------------------------------------------ asking
function currentFilters() {
  const since = els.since.value || null;
  const until = els.until.value || null;
  return since || until ? { since, until } : null;
}

// Asks `question` as a new turn of the current chat, or again for the turn `retryTurn` (its node is reused).
async function ask(question, retryTurn = null) {
  busy = true;
  setBusy(true);
  els.empty.hidden = true;
  const { chatId, turnId } = retryTurn ? { chatId: currentChatId(), turnId: retryTurn } : startTurn(question);
  let node = retryTurn ? els.messages.querySelector(`.msg.assistant[data-turn="${turnId}"]`) : null;
  if (!node) {
    els.messages.append(el("div", { class: "msg user", text: question }));
    node = el("div", { class: "msg assistant", "data-turn": turnId });
    els.messages.append(node);
  }
  node.className = "msg assistant streaming";
  node.replaceChildren(el("div", { class: "status", text: "Searching…" }));
  scrollToBottom();
  const payload = { question, history: historyBefore(chatId, turnId).slice(-MAX_HISTORY_TURNS), stream: true };
  const filters = currentFilters();
  if (filters) payload.filters = filters;
  if (els.mode.value) payload.mode = els.mode.value;
  if (els.explain.checked) payload.explain = true;
  if (currentCollection()) payload.collection = currentCollection();
  try {
    const resp = await fetch("/v1/ask", { method: "POST", headers: headers(), body: JSON.stringify(payload) });
    if (!resp.ok) throw new Error(await errorMessage(resp));
    let text = "";
    let answerBox = null;
    let final = null;
    for await (const { event, data } of sseEvents(resp)) {
      if (event === "delta") {
        if (!answerBox) { answerBox = el("div", { class: "answer" }); node.replaceChildren(answerBox); }
        text += JSON.parse(data).text;
        answerBox.textContent = text;
        setLang(answerBox, text);
        scrollToBottom();
      } else if (event === "progress") {
        // a slow step (the reader reading): said in the status line until the answer arrives
        if (!answerBox) node.replaceChildren(el("div", { class: "status", text: JSON.parse(data).message }));
        scrollToBottom();
      } else if (event === "answer") {
        final = JSON.parse(data);
      } else if (event === "error") {
        throw new Error(JSON.parse(data).error.message);
      }
    }
    if (!final) throw new Error("The answer stream ended early. Try again.");
    final.collection = payload.collection || null; // kept with the turn: its citations open in that collection
    renderTurn(node, chatId, finishTurn(chatId, turnId, { answer: final }));
    revealAnswer(node);
  } catch (err) {
    const msg = err instanceof TypeError ? "Cannot reach the server. Check that it is running and try again." : err.message;
    renderTurn(node, chatId, finishTurn(chatId, turnId, { error: msg }));
    scrollToBottom();
  } finally {
    busy = false;
    setBusy(false);
  }
}

function setBusy(on) {
  els.send.disabled = on;
  els.messages.querySelectorAll("button.retry").forEach((b) => { b.disabled = on; });
}

// ------------------------------------------------------------------ citation viewer
async function loadDocument(docId) {
  const key = `${currentCollection() || ""}/${docId}`;
  if (docCache.has(key)) return docCache.get(key);
  const resp = await fetch(withCollection(`/v1/documents/${encodeURIComponent(docId)}`), { headers: headers(false) });
  if (!resp.ok) throw new Error(await errorMessage(resp));
  const doc = await resp.json();
  docCache.set(key, doc);
  return doc;
}

async function openCitation(cit, chip) {
  document.querySelectorAll(".chip.active").forEach((c) => c.classList.remove("active"));
  if (chip) chip.classList.add("active");
  els.viewer.hidden = false;
  document.body.classList.add("viewer-open");
  els.viewerTitle.textContent = cit.title || "(untitled)";
  setLang(els.viewerTitle, cit.title);
  els.viewerMeta.textContent = [cit.date, cit.source].filter(Boolean).join(" · ");
  els.viewerText.textContent = "Loading…";
  els.viewerText.removeAttribute("lang");
  try {
    const doc = await loadDocument(cit.doc_id);
    els.viewerTitle.textContent = doc.title || "(untitled)";
    setLang(els.viewerTitle, doc.title);
    els.viewerMeta.textContent = [doc.date, doc.source, cit.location].filter(Boolean).join(" · ");
    const length = codePointLength(doc.text);
    const start = Math.max(0, Math.min(cit.start, length));
    const end = Math.max(start, Math.min(cit.end, length));
    const [before, quote, after] = splitByCodePoints(doc.text, start, end);
    const mark = el("mark", { text: quote });
    els.viewerText.replaceChildren(before, mark, after);
    setLang(els.viewerText, doc.text);
    mark.scrollIntoView({ block: "center" });
  } catch (err) {
    els.viewerText.replaceChildren(el("p", { class: "muted", text: `Cannot show this document: ${err.message}` }));
  }
  els.viewerClose.focus({ preventScroll: true });
}

function closeViewer() {
  if (els.viewer.hidden) return;
  els.viewer.hidden = true;
  document.body.classList.remove("viewer-open");
  const active = document.querySelector(".chip.active");
  if (active) { active.classList.remove("active"); active.focus(); } else els.question.focus();
}

// ------------------------------------------------------------------ wiring
function autosize() {
  els.question.style.height = "auto";
  els.question.style.height = `${els.question.scrollHeight}px`;
}

function submit() {
  const q = els.question.value.trim();
  if (!q || busy) return;
  els.question.value = "";
  autosize();
  ask(q);
}

// The hint names keys only where there is a keyboard; on a touch screen Enter adds a line.
function pointerChanged() {
  els.hint.hidden = touchScreen.matches;
  if (touchScreen.matches) els.question.removeAttribute("aria-describedby");
  else els.question.setAttribute("aria-describedby", "hint");
  els.question.setAttribute("enterkeyhint", touchScreen.matches ? "enter" : "send");
}

// On a phone the filters sit behind the Filters button (the row took ~150 px); the button says what is set.
function filtersChanged() {
  const since = els.since.value;
  const until = els.until.value;
  els.filtersSummary.textContent = since || until ? `${since || "…"} to ${until || "…"}` : "";
}

els.form.addEventListener("submit", (ev) => { ev.preventDefault(); submit(); });
els.question.addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && !touchScreen.matches) { ev.preventDefault(); submit(); }
});
touchScreen.addEventListener("change", pointerChanged);
pointerChanged();
els.filtersToggle.addEventListener("click", () => {
  const open = !els.filters.classList.contains("open");
  els.filters.classList.toggle("open", open);
  els.filtersToggle.setAttribute("aria-expanded", String(open));
  if (open) els.since.focus();
});
for (const input of [els.since, els.until]) input.addEventListener("change", filtersChanged);
els.question.addEventListener("input", autosize);
document.addEventListener("keydown", (ev) => { if (ev.key === "Escape" && !els.viewer.hidden) closeViewer(); });
els.viewerClose.addEventListener("click", closeViewer);
els.clearDates.addEventListener("click", () => { els.since.value = ""; els.until.value = ""; filtersChanged(); els.since.focus(); });
filtersChanged();
els.settingsToggle.addEventListener("click", () => {
  els.settings.hidden = !els.settings.hidden;
  els.settingsToggle.setAttribute("aria-expanded", String(!els.settings.hidden));
  if (!els.settings.hidden) els.apiKey.focus();
});
els.saveKey.addEventListener("click", () => {
  const key = els.apiKey.value.trim();
  if (key) localStorage.setItem(KEY_STORAGE, key); else localStorage.removeItem(KEY_STORAGE);
  els.keyStatus.textContent = key ? "Saved in this browser." : "Key removed.";
});
els.apiKey.value = localStorage.getItem(KEY_STORAGE) || "";
els.explain.checked = localStorage.getItem(EXPLAIN_STORAGE) === "1";
els.explain.addEventListener("change", () => {
  if (els.explain.checked) localStorage.setItem(EXPLAIN_STORAGE, "1"); else localStorage.removeItem(EXPLAIN_STORAGE);
});
els.question.focus();
