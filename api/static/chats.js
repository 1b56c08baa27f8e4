// Chats kept in this browser, the list of past chats, and each answer's copy / retry / "not helpful".
// Uses el(), $(), headers(), errorMessage(), renderFinal(), showError(), ask() and els from app.js.
//
// Why the browser (localStorage) and not the server: the server keeps no state per user (it has no
// accounts, and API keys are optional and may be shared by a whole team), so history on the server
// would mean inventing users; in the browser it works the same with or without keys, and what a person
// asked stays on their machine (only a "not helpful" mark is sent, and the server keeps its question's
// text only if the operator turned that on). localStorage is per origin: another host name or port
// starts with an empty list, and clearing the site's data clears the chats. Which chat a tab shows is
// kept per tab (sessionStorage), so two tabs can hold different chats and a reload keeps its own.
"use strict";

const CHATS_STORAGE = "rag.chats.v1";
const CURRENT_STORAGE = "rag.currentChat";
const MAX_CHATS = 50;
const MAX_TURNS = 100;
const FEEDBACK_REASONS = {
  answered: [["wrong", "Wrong"], ["incomplete", "Incomplete"], ["bad_citation", "Source does not say that"], ["other", "Other"]],
  refused: [["should_have_answered", "The documents do answer it"], ["other", "Other"]],
};
const MODE_WORDS = { extractive: "the extractive answerer", llm: "the language model", hybrid: "the language model, checked",
  fallback: "the extractive answerer (the model was unavailable)", read: "the local reader" };
const chatUi = { toggle: $("chats-toggle"), panel: $("chats-panel"), close: $("chats-close"), list: $("chat-list"),
  status: $("chats-status") };

// ------------------------------------------------------------------ storage
function newId() { return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`; }

function readChats() {
  try {
    const stored = JSON.parse(localStorage.getItem(CHATS_STORAGE) || "[]");
    return Array.isArray(stored) ? stored.filter((c) => c && c.id && Array.isArray(c.turns)) : [];
  } catch (_) { return []; } // unreadable (edited by hand, another version): start over rather than fail
}

// Writes the chats; when the browser's quota is full the oldest chats (never `keep`) go first.
function writeChats(list, keep) {
  const sorted = [...list].sort((a, b) => b.updated - a.updated).slice(0, MAX_CHATS);
  for (;;) {
    try { localStorage.setItem(CHATS_STORAGE, JSON.stringify(sorted)); return true; } catch (_) {
      const oldest = sorted.findLastIndex((c) => c.id !== keep);
      if (oldest < 0) { chatUi.status.textContent = "This chat is too large to keep in the browser."; return false; }
      sorted.splice(oldest, 1);
    }
  }
}

// Read, change, write: another tab may have saved in between, so nothing is kept in memory across calls.
function updateChats(change) {
  const list = readChats();
  const result = change(list);
  writeChats(list, currentChatId());
  renderChatList();
  return result;
}

function currentChatId() { return sessionStorage.getItem(CURRENT_STORAGE); }
function setCurrentChat(id) { if (id) sessionStorage.setItem(CURRENT_STORAGE, id); else sessionStorage.removeItem(CURRENT_STORAGE); }
function findChat(list, id) { return list.find((c) => c.id === id) || null; }

// What is kept of an answer: what the page shows (not the explain trace's passages or the diagnostics).
function slimAnswer(a) {
  const kept = {};
  for (const [k, v] of Object.entries(a)) if (v === null || typeof v !== "object") kept[k] = v; // mode, refused, …
  const pick = (o, keys) => Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
  return { ...kept,
    citations: (a.citations || []).map((c) => pick(c, ["n", "doc_id", "title", "date", "source", "start", "end", "quote",
      "location", "page", "verified"])),
    closest: (a.closest || []).map((h) => ({ passage: pick(h.passage, ["doc_id", "title", "date", "source", "start", "end", "text"]) })),
    notes: a.notes || [], timings_ms: a.timings_ms && a.timings_ms.total != null ? { total: a.timings_ms.total } : {},
    explain: a.explain && a.explain.refusal ? { refusal: a.explain.refusal } : null };
}

// A new turn in the current chat (a new chat on the first question); returns where it lives.
function startTurn(question) {
  const turnId = newId();
  let chatId = currentChatId();
  updateChats((list) => {
    let chat = findChat(list, chatId);
    if (!chat) {
      chatId = newId();
      chat = { id: chatId, title: question.slice(0, 80), created: Date.now(), turns: [], collection: currentCollection() };
      list.push(chat);
    }
    chat.turns.push({ id: turnId, question, answer: null, error: null, feedback: null });
    chat.turns = chat.turns.slice(-MAX_TURNS);
    chat.updated = Date.now();
  });
  setCurrentChat(chatId);
  return { chatId, turnId };
}

// Records the outcome of a turn ({answer} or {error}); returns the turn as rendered.
function finishTurn(chatId, turnId, outcome) {
  const turn = { id: turnId, question: outcome.answer ? outcome.answer.question : "", feedback: null,
    answer: outcome.answer ? slimAnswer(outcome.answer) : null, error: outcome.error || null };
  updateChats((list) => {
    const stored = (findChat(list, chatId) || { turns: [] }).turns.find((t) => t.id === turnId);
    if (!stored) return;
    Object.assign(stored, { answer: turn.answer, error: turn.error, feedback: null });
    turn.question = stored.question;
    findChat(list, chatId).updated = Date.now();
  });
  return turn;
}

// Earlier turns of the chat as the API's history (answered turns only).
function historyBefore(chatId, turnId) {
  const chat = findChat(readChats(), chatId);
  const history = [];
  for (const t of chat ? chat.turns : []) {
    if (t.id === turnId) break;
    if (t.answer) history.push({ role: "user", content: t.question }, { role: "assistant", content: t.answer.answer });
  }
  return history;
}

// ------------------------------------------------------------------ one turn: answer, actions
// "answered by … in …": which path answered (answer.mode) and how long the server took (timings_ms.total).
function answeredBy(a) {
  const ms = a.timings_ms && a.timings_ms.total;
  const took = ms == null ? "" : ms < 1000 ? ` in ${Math.round(ms)} ms` : ` in ${(ms / 1000).toFixed(1)} s`;
  return `${a.refused ? "Refused" : "Answered"} by ${MODE_WORDS[a.mode] || a.mode}${took}`;
}

function plainText(a) {
  const sources = (a.citations || []).map((c) => `[${c.n}] ${c.title || "(untitled)"}${c.date ? ` (${c.date})` : ""} — ${c.source}`);
  return sources.length ? `${a.answer}\n\nSources:\n${sources.join("\n")}` : a.answer;
}

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
  const area = el("textarea", { class: "offscreen", "aria-hidden": "true" }); // plain http on another host
  area.value = text;
  document.body.append(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  if (!ok) throw new Error("the browser refused");
}

function renderTurn(node, chatId, turn) {
  if (turn.answer) renderFinal(node, turn.answer);
  else showError(node, turn.error || "This answer was interrupted (the page was closed or reloaded). Retry to ask again.");
  const said = el("span", { class: "action-status", role: "status", tabindex: "-1" });
  const retry = el("button", { type: "button", class: "ghost small retry", onclick: () => { if (!busy) ask(turn.question, turn.id); } }, "Retry");
  retry.disabled = busy;
  const actions = el("div", { class: "actions", role: "group", "aria-label": "Answer actions" });
  if (turn.answer) {
    node.append(el("div", { class: "answered-by", text: answeredBy(turn.answer) }));
    actions.append(el("button", { type: "button", class: "ghost small", onclick: async () => {
      try { await copyText(plainText(turn.answer)); said.textContent = "Copied."; } catch (err) { said.textContent = `Cannot copy: ${err.message}`; }
    } }, "Copy"));
  }
  actions.append(retry);
  const [button, reasons] = turn.answer ? feedbackControls(chatId, turn, said) : [null, null];
  actions.append(...[button, said].filter(Boolean));
  node.append(...[actions, reasons].filter(Boolean));
}

// "Not helpful", then why (a few plain reasons); returns the button and the (hidden) reasons.
function feedbackControls(chatId, turn, said) {
  const button = el("button", { type: "button", class: "ghost small", "aria-expanded": "false" }, "Not helpful");
  if (turn.feedback) {
    button.disabled = true;
    button.removeAttribute("aria-expanded");
    button.textContent = "Marked not helpful";
    return [button, null];
  }
  const reasons = el("div", { class: "reasons", role: "group", "aria-label": "Why was it not helpful?", hidden: "" },
    ...FEEDBACK_REASONS[turn.answer.refused ? "refused" : "answered"].map(([reason, words]) =>
      el("button", { type: "button", class: "ghost small", onclick: () => sendFeedback(chatId, turn, reason, button, reasons, said) }, words)));
  button.addEventListener("click", () => {
    reasons.hidden = !reasons.hidden;
    button.setAttribute("aria-expanded", String(!reasons.hidden));
    if (!reasons.hidden) reasons.querySelector("button").focus();
  });
  return [button, reasons];
}

async function sendFeedback(chatId, turn, reason, button, reasons, said) {
  said.textContent = "Sending…";
  try {
    const body = { reason, refused: Boolean(turn.answer.refused), question: turn.question };
    const collection = turn.answer.collection || currentCollection();
    if (collection) body.collection = collection;
    const resp = await fetch("/v1/feedback", { method: "POST", headers: headers(), body: JSON.stringify(body) });
    if (!resp.ok) throw new Error(await errorMessage(resp));
    updateChats((list) => {
      const stored = (findChat(list, chatId) || { turns: [] }).turns.find((t) => t.id === turn.id);
      if (stored) stored.feedback = reason;
    });
    turn.feedback = reason;
    reasons.remove();
    button.removeAttribute("aria-expanded");
    button.disabled = true;
    button.textContent = "Marked not helpful";
    said.textContent = "Thanks: the operator sees it counted with the refusals.";
    said.focus();
  } catch (err) {
    said.textContent = `Not sent: ${err instanceof TypeError ? "cannot reach the server" : err.message}`;
  }
}

// ------------------------------------------------------------------ the conversation and the list
function showChat(id) {
  const chat = findChat(readChats(), id);
  setCurrentChat(chat ? chat.id : null);
  if (chat && chat.collection && chat.collection !== currentCollection()) { // the collection it was asked in
    setCollection(chat.collection);
    document.dispatchEvent(new Event("collectionchange")); // docs.js: the collection's info and documents
  }
  els.messages.replaceChildren(els.empty);
  els.empty.hidden = Boolean(chat && chat.turns.length);
  for (const turn of chat ? chat.turns : []) {
    els.messages.append(el("div", { class: "msg user", text: turn.question }));
    const node = el("div", { class: "msg assistant", "data-turn": turn.id });
    els.messages.append(node);
    renderTurn(node, chat.id, turn);
  }
  closeViewer();
  renderChatList();
  scrollToBottom();
}

function renderChatList() {
  const list = readChats().sort((a, b) => b.updated - a.updated);
  const current = currentChatId();
  chatUi.list.replaceChildren(...list.map((c) => {
    const when = new Date(c.updated).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    const open = el("button", { type: "button", class: "chat-open", onclick: () => { showChat(c.id); togglePanelChats(false, true); } },
      el("span", { class: "doc-title", text: c.title || "(untitled)" }),
      el("span", { class: "doc-meta", text: [`${c.turns.length} question${c.turns.length === 1 ? "" : "s"}`,
        c.collection && !els.collectionPick.hidden ? `in ${c.collection}` : null, when].filter(Boolean).join(" · ") }));
    if (c.id === current) open.setAttribute("aria-current", "true");
    const del = el("button", { type: "button", class: "ghost small", "aria-label": `Delete chat ${c.title || "(untitled)"}`,
      onclick: () => deleteChat(c) }, "Delete");
    return el("li", { class: "doc chat", "data-chat-id": c.id }, open, del);
  }));
  chatUi.status.textContent = list.length
    ? `${list.length} chat${list.length === 1 ? "" : "s"}, kept in this browser only.` : "No past chats yet: they are kept in this browser.";
}

function deleteChat(chat) {
  updateChats((list) => { const i = list.findIndex((c) => c.id === chat.id); if (i >= 0) list.splice(i, 1); });
  if (chat.id === currentChatId()) showChat(null);
  chatUi.status.textContent = `Deleted “${chat.title || "(untitled)"}”. ${chatUi.status.textContent}`;
  (chatUi.list.querySelector("button.chat-open") || chatUi.close).focus();
}

function togglePanelChats(open, focusQuestion = false) {
  chatUi.panel.hidden = !open;
  chatUi.toggle.setAttribute("aria-expanded", String(open));
  if (open) { renderChatList(); (chatUi.list.querySelector("[aria-current]") || chatUi.list.querySelector("button") || chatUi.close).focus(); }
  else if (focusQuestion) els.question.focus();
  else chatUi.toggle.focus();
}

chatUi.toggle.addEventListener("click", () => togglePanelChats(chatUi.panel.hidden));
chatUi.close.addEventListener("click", () => togglePanelChats(false));
els.newChat.addEventListener("click", () => { showChat(null); els.question.focus(); });
window.addEventListener("storage", (ev) => { if (ev.key === CHATS_STORAGE) renderChatList(); });

// A reload keeps the tab's chat; a new tab continues the most recent one.
const latest = readChats().sort((a, b) => b.updated - a.updated)[0];
showChat(currentChatId() || (latest && latest.id));
