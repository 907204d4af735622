// botgpt's chat page: a client of the public HTTP API, nothing more.
import { renderMarkdown } from "./markdown.js";

const KEY_STORAGE = "botgpt.key";
const $ = (id) => document.getElementById(id);

const state = {
  key: sessionStorage.getItem(KEY_STORAGE),
  current: null, // the open conversation
  cursor: null,
  documents: new Map(),
  collections: new Map(),
  shown: "", // the collection whose documents the panel shows ("" = all documents)
  selected: new Set(),
  streaming: null, // AbortController of the answer being generated
};

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function headers(extra = {}) {
  const all = { ...extra };
  // Without a key the server's default user (BOTGPT_DEFAULT_USER) applies, as for curl,
  // the CLI and the SDK: the page names no user of its own.
  if (state.key) all.Authorization = `Bearer ${state.key}`;
  return all;
}

async function failure(response) {
  let code = "http_error";
  let message = `the server answered ${response.status}`;
  try {
    const body = await response.json();
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    // not JSON: keep the generic words
  }
  if (response.status === 401) askForKey(state.key ? "That key was refused. Try another one." : "");
  return new ApiError(response.status, code, message);
}

async function api(path, { method = "GET", json, form, signal } = {}) {
  const options = { method, signal, headers: headers(json ? { "Content-Type": "application/json" } : {}) };
  if (json) options.body = JSON.stringify(json);
  if (form) options.body = form;
  const response = await fetch(path, options);
  if (!response.ok) throw await failure(response);
  return response.status === 204 ? null : response.json();
}

function say(text, kind = "info") {
  const status = $("status");
  status.textContent = text;
  status.dataset.kind = kind;
}

function sayError(error) {
  say(error instanceof ApiError ? error.message : `Something went wrong: ${error.message}`, "error");
}

// --- keys -------------------------------------------------------------------------------

function askForKey(problem) {
  const dialog = $("key-dialog");
  $("key-error").textContent = problem;
  if (!dialog.open) dialog.showModal();
  $("key-input").focus();
}

$("key-form").addEventListener("submit", () => {
  state.key = $("key-input").value.trim();
  sessionStorage.setItem(KEY_STORAGE, state.key);
  $("key-input").value = "";
  start();
});

// --- conversations ----------------------------------------------------------------------

async function loadConversations(more = false) {
  const query = new URLSearchParams({ limit: "20" });
  if (more && state.cursor) query.set("cursor", state.cursor);
  const page = await api(`/api/v1/conversations?${query}`);
  const list = $("conversations");
  if (!more) list.replaceChildren();
  for (const conversation of page.conversations) list.append(conversationItem(conversation));
  state.cursor = page.next_cursor;
  $("more-conversations").hidden = !page.has_more;
}

// A row is its title across the sidebar's width; Rename and Delete wait in its ⋯ menu.
function conversationItem(conversation) {
  const item = document.createElement("li");
  item.dataset.id = conversation.id;
  const open = button(conversation.title, "title", () => openConversation(conversation.id));
  open.title = conversation.title;
  const toggle = button("⋯", "menu-toggle", (event) => {
    event.stopPropagation();
    toggleRowMenu(item);
  });
  toggle.setAttribute("aria-label", `Actions for “${conversation.title}”`);
  toggle.setAttribute("aria-haspopup", "menu");
  toggle.setAttribute("aria-expanded", "false");
  const menu = document.createElement("div");
  menu.className = "row-menu";
  menu.setAttribute("role", "menu");
  menu.hidden = true;
  const rename = button("Rename", "rename", () => startRename(item, conversation));
  const remove = button("Delete", "delete", () => confirmDelete(remove, conversation));
  for (const entry of [rename, remove]) entry.setAttribute("role", "menuitem");
  menu.append(rename, remove);
  item.append(open, toggle, menu);
  markCurrent(item);
  return item;
}

// The open conversation is marked, and only it: a new chat marks none.
function markCurrent(item) {
  const current = item.dataset.id === state.current?.id;
  item.classList.toggle("active", current);
  const title = item.querySelector(".title");
  if (current) title?.setAttribute("aria-current", "page");
  else title?.removeAttribute("aria-current");
}

function markCurrentConversation() {
  $("conversations").querySelectorAll("li[data-id]").forEach(markCurrent);
  $("chat-title").textContent = state.current?.title ?? "New chat";
}

function closeRowMenus(except = null) {
  $("conversations").querySelectorAll("li.menu-open").forEach((item) => {
    if (item === except) return;
    item.classList.remove("menu-open");
    item.querySelector(".row-menu").hidden = true;
    item.querySelector(".menu-toggle").setAttribute("aria-expanded", "false");
  });
}

// The menu is placed beside its ⋯ with fixed coordinates, so that the list's own scrolling
// cannot clip it at the bottom of the sidebar.
function toggleRowMenu(item) {
  closeRowMenus(item);
  const menu = item.querySelector(".row-menu");
  const toggle = item.querySelector(".menu-toggle");
  const opening = menu.hidden;
  menu.hidden = !opening;
  item.classList.toggle("menu-open", opening);
  toggle.setAttribute("aria-expanded", String(opening));
  if (!opening) return;
  const at = toggle.getBoundingClientRect();
  const below = at.bottom + menu.offsetHeight + 8 < window.innerHeight;
  menu.style.top = `${below ? at.bottom + 2 : at.top - menu.offsetHeight - 2}px`;
  menu.style.left = `${Math.max(8, at.right - menu.offsetWidth)}px`;
  menu.querySelector("button").focus();
}

document.addEventListener("click", (event) => {
  if (!event.target.closest?.(".row-menu")) closeRowMenus();
});
// Escape closes the innermost open thing only: an open dialog (the browser closes it), else a
// row's ⋯ menu (focus goes back to its ⋯), else the phone's drawer. A rename field handles its
// own Escape and marks it handled.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || event.defaultPrevented) return;
  if (document.querySelector("dialog[open]")) return;
  const open = $("conversations").querySelector("li.menu-open");
  if (open) {
    closeRowMenus();
    open.querySelector(".menu-toggle").focus();
    return;
  }
  closeSidebar();
});

// On a phone the sidebar covers the chat: whatever is picked in it closes it.
function closeSidebar() {
  document.body.classList.remove("sidebar-open");
  $("toggle-sidebar").setAttribute("aria-expanded", "false");
}

function toggleSidebar() {
  const open = document.body.classList.toggle("sidebar-open");
  $("toggle-sidebar").setAttribute("aria-expanded", String(open));
}

function button(label, className, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = className;
  element.textContent = label;
  element.addEventListener("click", onClick);
  return element;
}

function startRename(item, conversation) {
  const input = document.createElement("input");
  input.value = conversation.title;
  input.className = "rename-input";
  input.setAttribute("aria-label", "New title");
  item.replaceChildren(input);
  input.focus();
  input.select();
  input.addEventListener("keydown", async (event) => {
    if (event.key === "Escape") {
      event.preventDefault(); // the rename ends; the drawer stays open
      return loadConversations();
    }
    if (event.key !== "Enter") return;
    event.preventDefault();
    try {
      await api(`/api/v1/conversations/${conversation.id}`, { method: "PATCH", json: { title: input.value } });
      say("Renamed.");
    } catch (error) {
      sayError(error);
    }
    await loadConversations();
  });
}

async function confirmDelete(control, conversation) {
  if (control.dataset.armed !== "yes") {
    control.dataset.armed = "yes";
    control.textContent = "Confirm delete";
    return;
  }
  try {
    await api(`/api/v1/conversations/${conversation.id}`, { method: "DELETE" });
    if (state.current?.id === conversation.id) newConversation();
    say("Deleted.");
  } catch (error) {
    sayError(error);
  }
  await loadConversations();
}

async function openConversation(id) {
  closeSidebar();
  try {
    const detail = await api(`/api/v1/conversations/${id}`);
    state.current = detail.conversation;
    $("messages").replaceChildren(...detail.messages.map(storedItem));
    addActions();
    // Branches exist when the tree holds more messages than the active branch shows.
    if (detail.conversation.message_count > detail.messages.length) await showSiblings(detail.messages);
    showMode();
    showUsage();
    markCurrentConversation();
    await loadConversations();
  } catch (error) {
    sayError(error);
  }
}

function newConversation() {
  state.current = null;
  $("messages").replaceChildren();
  markCurrentConversation();
  closeSidebar();
  showMode();
  showUsage();
  $("message").focus();
}

function scopeWords(documentIds, collectionIds) {
  const names = [
    ...collectionIds.map((id) => `the collection “${state.collections.get(id)?.name ?? "deleted"}”`),
    ...documentIds.map((id) => state.documents.get(id)?.filename ?? "a deleted document"),
  ];
  return names.length ? names.join(", ") : "all your documents";
}

function showMode() {
  const banner = $("mode-banner");
  let rag, words;
  if (state.current) {
    rag = state.current.mode === "rag_mode";
    words = scopeWords(state.current.document_ids, state.current.collection_ids ?? []);
  } else {
    const scope = $("scope").value;
    rag = scope !== "";
    if (scope === "picked") words = scopeWords([...state.selected], []);
    else if (scope.startsWith("c:")) words = scopeWords([], [scope.slice(2)]);
    else words = scopeWords([], []);
  }
  banner.hidden = !rag;
  banner.textContent = rag ? `Answers grounded in ${words}` : "";
}

// --- messages ---------------------------------------------------------------------------

function storedItem(message) {
  const item = messageItem(message.role, message.content, message.citations);
  item.dataset.id = message.id;
  item.dataset.parent = message.parent_id ?? "root";
  return item;
}

// Edit on every question, Regenerate on the last answer: both start a new branch there.
function addActions() {
  const items = [...$("messages").children];
  for (const item of items) {
    if (item.classList.contains("user")) actionsOf(item).append(button("Edit", "edit", () => startEdit(item)));
  }
  const last = items.at(-1);
  if (last?.classList.contains("assistant")) actionsOf(last).append(button("Regenerate", "regenerate", regenerate));
}

function actionsOf(item) {
  let actions = item.querySelector(".actions");
  if (!actions) {
    actions = document.createElement("div");
    actions.className = "actions";
    item.append(actions);
  }
  return actions;
}

async function showSiblings(messages) {
  const id = state.current.id;
  const lists = await Promise.all(
    messages.map((m) => api(`/api/v1/conversations/${id}/messages/${m.id}/siblings`).catch(() => null)),
  );
  lists.forEach((siblings, index) => {
    if (!siblings || siblings.messages.length < 2) return;
    const item = $("messages").querySelector(`li[data-id="${messages[index].id}"]`);
    const at = siblings.messages.findIndex((m) => m.id === messages[index].id);
    const nav = document.createElement("span");
    nav.className = "siblings";
    const previous = button("‹", "previous", () => switchTo(siblings.messages[at - 1].id));
    const next = button("›", "next", () => switchTo(siblings.messages[at + 1].id));
    previous.disabled = at === 0;
    next.disabled = at === siblings.messages.length - 1;
    previous.setAttribute("aria-label", "Previous version");
    next.setAttribute("aria-label", "Next version");
    nav.append(previous, ` ${at + 1}/${siblings.messages.length} `, next);
    actionsOf(item).prepend(nav);
  });
}

async function switchTo(messageId) {
  try {
    await api(`/api/v1/conversations/${state.current.id}/active`, { method: "PUT", json: { message_id: messageId } });
    await openConversation(state.current.id);
  } catch (error) {
    sayError(error);
  }
}

function startEdit(item) {
  const body = item.querySelector(".body");
  const editor = document.createElement("textarea");
  editor.className = "edit-input";
  editor.value = body.textContent;
  editor.setAttribute("aria-label", "Edited message");
  const save = button("Send", "primary save-edit", async () => {
    const text = editor.value.trim();
    if (!text) return;
    const kept = [...$("messages").children];
    kept.slice(kept.indexOf(item)).forEach((later) => later.remove());
    const path = `/api/v1/conversations/${state.current.id}/messages`;
    await streamTurn(path, { message: text, parent_id: item.dataset.parent, stream: true }, text);
  });
  const cancel = button("Cancel", "cancel-edit", () => openConversation(state.current.id));
  item.replaceChildren(editor, save, cancel);
  editor.focus();
}

async function regenerate() {
  $("messages").lastElementChild?.remove();
  await streamTurn(`/api/v1/conversations/${state.current.id}/regenerate`, { stream: true }, null);
}

function messageItem(role, content, citations = []) {
  const item = document.createElement("li");
  item.className = `message ${role}`;
  const body = document.createElement("div");
  body.className = "body";
  item.append(body);
  renderBody(item, role, content, citations);
  return item;
}

function renderBody(item, role, content, citations) {
  const body = item.querySelector(".body");
  if (role === "user") body.textContent = content;
  else {
    body.innerHTML = renderMarkdown(content, highestNumber(citations));
    body.querySelectorAll("pre").forEach(addCopyButton);
  }
  item.querySelector(".sources")?.remove();
  if (!citations.length) return;
  body.querySelectorAll("button.cite").forEach((marker) => {
    const citation = citationNumbered(citations, Number(marker.dataset.n));
    if (citation) marker.addEventListener("click", () => showCitation(citation, marker.dataset.n));
    if (citation?.supported === false) marker.classList.add("unsupported");
  });
  const sources = document.createElement("p");
  sources.className = "sources";
  sources.append("Sources: ");
  citations.forEach((citation, index) => {
    const number = citation.number || index + 1;
    const chip = button(`[${number}] ${citation.filename}`, "cite-chip", () => showCitation(citation, number));
    if (citation.supported === false) {
      chip.classList.add("unsupported");
      chip.title = "This passage does not appear to support the sentence that cites it";
    }
    sources.append(chip, " ");
  });
  item.append(sources);
}

function addCopyButton(pre) {
  const block = document.createElement("div");
  block.className = "code-block";
  const head = document.createElement("div");
  head.className = "code-head";
  const language = document.createElement("span");
  language.textContent = pre.dataset.language ?? "code";
  const copy = button("Copy", "copy-code", async () => {
    const copied = await copyText(pre.textContent);
    copy.textContent = copied ? "Copied" : "Copy failed";
    setTimeout(() => (copy.textContent = "Copy"), 1500);
  });
  copy.setAttribute("aria-label", "Copy code");
  head.append(language, copy);
  pre.replaceWith(block);
  block.append(head, pre);
}

// The Clipboard API exists only in secure contexts (https, localhost): a server reached
// over plain http on the LAN gets the older selection-and-execCommand way.
async function copyText(text) {
  if (window.isSecureContext && navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // refused (no permission, page not focused): try the older way
    }
  }
  const focused = document.activeElement;
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.className = "copy-buffer";
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand("copy");
  } catch {
    copied = false;
  }
  area.remove();
  focused?.focus?.();
  return copied;
}

// Citations carry the number they had in the prompt; answers stored before that have 0.
function citationNumbered(citations, n) {
  return citations.find((citation) => citation.number === n) ?? (citations.some((c) => c.number) ? null : citations[n - 1]);
}

function highestNumber(citations) {
  return Math.max(citations.length, ...citations.map((citation) => citation.number || 0));
}

function supportText(citation) {
  if (citation.support == null) return "";
  return ` · support ${citation.support.toFixed(2)} (${citation.supported ? "supported" : "not supported"})`;
}

// The snippet as text nodes, with the sentence that supports the answer in a <mark>.
function renderSnippet(citation) {
  const box = $("citation-snippet");
  const text = citation.snippet;
  const start = citation.highlight_start;
  const end = citation.highlight_end;
  box.replaceChildren();
  if (start == null || end == null || end <= start) {
    box.textContent = text;
    return;
  }
  const mark = document.createElement("mark");
  mark.textContent = text.slice(start, end);
  box.append(text.slice(0, start), mark, text.slice(end));
}

function showCitation(citation, number) {
  $("citation-title").textContent = `[${number}] ${citation.filename}`;
  $("citation-where").textContent =
    `characters ${citation.start}–${citation.end} · relevance ${citation.score.toFixed(2)}${supportText(citation)}`;
  renderSnippet(citation);
  $("citation-dialog").showModal();
}

async function* serverSentEvents(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const name = block.match(/^event: (.*)$/m)?.[1];
      const data = block.match(/^data: (.*)$/m)?.[1];
      if (name && data) yield [name, JSON.parse(data)];
    }
  }
}

function turnRequest(text) {
  if (state.current) return [`/api/v1/conversations/${state.current.id}/messages`, { message: text, stream: true }];
  const body = { message: text, stream: true };
  const scope = $("scope").value;
  if (scope) body.mode = "rag_mode";
  if (scope === "picked") body.document_ids = [...state.selected];
  if (scope.startsWith("c:")) body.collection_ids = [scope.slice(2)];
  return ["/api/v1/conversations", body];
}

async function send(text) {
  const [path, body] = turnRequest(text);
  await streamTurn(path, body, text);
}

// One streamed turn: a new question (or none, to regenerate), then its answer as it comes.
async function streamTurn(path, body, text) {
  const question = text === null ? null : messageItem("user", text);
  const answer = messageItem("assistant", "");
  answer.classList.add("pending");
  $("messages").append(...[question, answer].filter(Boolean));
  $("messages").querySelectorAll(".actions").forEach((actions) => actions.remove());
  const controller = new AbortController();
  setStreaming(controller);
  say("Thinking…");
  let streamed = "";
  const shown = progressiveRender(answer);
  try {
    const response = await fetch(path, {
      method: "POST",
      headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    if (!response.ok) throw await failure(response);
    for await (const [name, data] of serverSentEvents(response)) {
      if (name === "delta") {
        streamed += data.text;
        shown.update(streamed);
        say("Answering…");
      } else if (name === "done") {
        shown.cancel();
        finishTurn(answer, data);
      } else if (name === "error") {
        throw new ApiError(503, data.error.code, data.error.message);
      }
    }
  } catch (error) {
    shown.cancel();
    question?.remove();
    answer.remove();
    if (text !== null && !body.parent_id) $("message").value = text; // nothing was stored: ready to resend
    if (state.current) openConversation(state.current.id); // edits and regenerations: back to what is stored
    if (error.name === "AbortError") say("Stopped. Nothing was stored.");
    else sayError(error);
  } finally {
    setStreaming(null);
  }
}

// While an answer streams, its Markdown is rendered as it grows (an unclosed code fence is a
// code block being written), at most every RENDER_MS: rendering the whole text again at every
// token would cost a long answer more than the reader gains. The final render is the stored
// message's, with its citations, as on reload.
const RENDER_MS = 100;

function progressiveRender(item) {
  let text = "";
  let timer = null;
  let last = 0;
  const render = () => {
    timer = null;
    last = performance.now();
    const list = $("messages");
    const following = list.scrollHeight - list.scrollTop - list.clientHeight < 40; // at the foot: stay there
    renderBody(item, "assistant", text, []);
    if (following) list.scrollTop = list.scrollHeight;
  };
  return {
    update(next) {
      text = next;
      if (timer === null) timer = setTimeout(render, Math.max(0, RENDER_MS - (performance.now() - last)));
    },
    cancel() {
      clearTimeout(timer);
      timer = null;
    },
  };
}

function finishTurn(answer, turn) {
  answer.classList.remove("pending");
  renderBody(answer, "assistant", turn.assistant_message.content, turn.assistant_message.citations);
  state.current = turn.conversation;
  say("");
  // Reload what is stored: ids, Edit and Regenerate, and the versions of a branched point.
  openConversation(turn.conversation.id).catch(sayError);
}

function setStreaming(controller) {
  state.streaming = controller;
  $("send").hidden = Boolean(controller);
  $("stop").hidden = !controller;
}

// --- documents --------------------------------------------------------------------------

async function loadDocuments() {
  const path = state.shown ? `/api/v1/collections/${state.shown}/documents?limit=100` : "/api/v1/documents?limit=100";
  const page = await api(path);
  state.documents = new Map(page.documents.map((d) => [d.document_id, d])); // newest first
  renderDocuments();
}

async function loadCollections() {
  const page = await api("/api/v1/collections?limit=100");
  state.collections = new Map(page.collections.map((c) => [c.id, c]));
  if (state.shown && !state.collections.has(state.shown)) state.shown = "";
  renderCollections();
}

function option(value, text) {
  const item = document.createElement("option");
  item.value = value;
  item.textContent = text;
  return item;
}

function renderCollections() {
  const shown = $("collection");
  shown.replaceChildren(option("", "All documents"));
  const scope = $("scope");
  const chosen = scope.value;
  scope.replaceChildren(option("", "Nothing: open chat"), option("all", "All my documents"));
  for (const collection of state.collections.values()) {
    const counts = collection.document_counts;
    shown.append(option(collection.id, `${collection.name} (${counts.total})`));
    scope.append(option(`c:${collection.id}`, `Collection: ${collection.name}`));
  }
  scope.append(option("picked", "The documents ticked below"));
  scope.querySelector('option[value="picked"]').disabled = state.selected.size === 0;
  shown.value = state.shown;
  scope.value = [...scope.options].some((o) => o.value === chosen && !o.disabled) ? chosen : "";
  const target = state.collections.get(state.shown);
  $("drop-text").textContent = target ? `or drop one here: it goes into “${target.name}”` : "or drop one here";
}

function progressOf(document_) {
  const { chunks_embedded: done, chunks_total: total } = document_.progress;
  const bar = document.createElement("progress");
  bar.max = Math.max(total, 1);
  bar.value = done;
  bar.setAttribute("aria-label", `${document_.filename}: ${done} of ${total} passages prepared`);
  const words = document.createElement("span");
  words.className = "progress-text";
  words.textContent = total ? `${Math.floor((100 * done) / total)}%` : "starting";
  const holder = document.createElement("div");
  holder.className = "progress";
  holder.append(bar, words);
  return holder;
}

function renderDocuments() {
  const list = $("documents");
  list.replaceChildren();
  $("documents-count").textContent = state.documents.size ? String(state.documents.size) : "";
  if (!state.documents.size) {
    const empty = document.createElement("li");
    empty.className = "hint";
    empty.textContent = state.shown ? "No documents in this collection yet." : "No documents yet.";
    list.append(empty);
  }
  for (const document_ of state.documents.values()) {
    const item = document.createElement("li");
    item.dataset.id = document_.document_id;
    item.dataset.status = document_.status;
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.disabled = document_.status !== "ready";
    box.checked = state.selected.has(document_.document_id);
    box.addEventListener("change", () => {
      if (box.checked) state.selected.add(document_.document_id);
      else state.selected.delete(document_.document_id);
      if (state.current) newConversation();
      renderCollections();
      $("scope").value = state.selected.size ? "picked" : "";
      showMode();
      closeSidebar();
    });
    const name = document.createElement("span");
    name.className = "filename";
    name.textContent = document_.filename;
    label.append(box, name);
    item.append(label);
    if (document_.status === "pending" || document_.status === "processing") item.append(progressOf(document_));
    else if (document_.status === "failed") {
      const badge = document.createElement("span");
      badge.className = "badge failed";
      badge.textContent = `failed: ${document_.error}`;
      item.append(badge);
    }
    list.append(item);
  }
  showDocumentsCue();
}

// The Knowledge panel scrolls on its own when the list is long: a cue over its foot says how
// many documents are below the fold (and scrolls to them), so the list does not just look cut.
function showDocumentsCue() {
  const box = $("knowledge");
  const cue = $("documents-cue");
  cue.hidden = !box.open || box.scrollHeight - box.scrollTop - box.clientHeight <= 1;
  if (cue.hidden) return;
  const foot = cue.getBoundingClientRect().top + cue.offsetHeight * 0.4; // where the fade hides them
  const below = [...$("documents").children].filter((item) => item.getBoundingClientRect().bottom > foot).length;
  $("documents-more").textContent = below ? `${below} more ↓` : "More ↓";
  $("documents-more").setAttribute("aria-label", below ? `${below} more documents below: scroll down` : "Scroll down");
}

let cueFrame = 0;
function showDocumentsCueSoon() {
  cancelAnimationFrame(cueFrame);
  cueFrame = requestAnimationFrame(showDocumentsCue);
}
$("knowledge").addEventListener("scroll", showDocumentsCueSoon, { passive: true });
$("knowledge").addEventListener("toggle", showDocumentsCueSoon);
new ResizeObserver(showDocumentsCueSoon).observe($("knowledge")); // a resize, the drawer opened
$("documents-more").addEventListener("click", () => {
  const box = $("knowledge");
  box.scrollBy({ top: box.clientHeight * 0.8, behavior: "smooth" });
});

async function upload(file) {
  const form = new FormData();
  form.append("file", file);
  if (state.shown) form.append("collection_id", state.shown);
  say(`Uploading ${file.name}…`);
  try {
    const uploaded = await api("/api/v1/documents", { method: "POST", form });
    state.documents = new Map([[uploaded.document_id, uploaded], ...state.documents]); // newest first
    renderDocuments();
    say(uploaded.duplicate ? `${file.name} was already uploaded.` : `${file.name} uploaded; preparing it…`);
    await followIngestion(uploaded.document_id);
    await loadCollections();
  } catch (error) {
    say(uploadProblem(file, error), "error");
  }
}

// What went wrong, naming the file: several may be uploading at once. A file over the
// server's limit is refused with 413, whose message names the limit ("… 50 MB").
function uploadProblem(file, error) {
  if (!(error instanceof ApiError)) return `${file.name} was not uploaded: ${error.message}`;
  if (error.status === 413) {
    const limit = error.message.match(/(\d+(?:\.\d+)?)\s*MB/i)?.[1];
    return limit
      ? `${file.name} is larger than the ${limit} MB upload limit.`
      : `${file.name} is larger than the server's upload limit.`;
  }
  return `${file.name}: ${error.message}`;
}

async function followIngestion(id) {
  for (;;) {
    const document_ = await api(`/api/v1/documents/${id}`);
    if (state.documents.has(id)) state.documents.set(id, document_);
    renderDocuments();
    if (document_.status === "ready") return say(`${document_.filename} is ready.`);
    if (document_.status === "failed") return say(`${document_.filename} failed: ${document_.error}`, "error");
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function createCollection() {
  const name = prompt("Name of the new collection");
  if (!name?.trim()) return;
  try {
    const created = await api("/api/v1/collections", { method: "POST", json: { name: name.trim() } });
    state.shown = created.id;
    await loadCollections();
    await loadDocuments();
    say(`Collection “${created.name}” created: files you drop now go into it.`);
  } catch (error) {
    sayError(error);
  }
}

$("new-collection").addEventListener("click", createCollection);
$("collection").addEventListener("change", (event) => {
  state.shown = event.target.value;
  renderCollections();
  loadDocuments().catch(sayError);
});
$("scope").addEventListener("change", () => {
  if (state.current) newConversation();
  showMode();
});

const dropZone = $("drop-zone");
dropZone.addEventListener("dragover", (event) => {
  event.preventDefault();
  dropZone.classList.add("over");
});
dropZone.addEventListener("dragleave", () => dropZone.classList.remove("over"));
dropZone.addEventListener("drop", (event) => {
  event.preventDefault();
  dropZone.classList.remove("over");
  [...event.dataTransfer.files].forEach(upload);
});
$("file-input").addEventListener("change", (event) => {
  [...event.target.files].forEach(upload);
  event.target.value = "";
});

// --- usage ------------------------------------------------------------------------------

// Both figures count the same thing, the tokens the model read and wrote (prompt +
// completion) for the requests that made answers: this conversation's, and all of the user's.
// (A conversation's `total_tokens` is another measure, the stored messages' size.)
let usageAsked = 0;

async function showUsage() {
  const conversation = state.current;
  const asked = ++usageAsked;
  let totals = null;
  try {
    totals = (await api("/api/v1/usage?limit=1")).totals;
  } catch {
    // usage is a nicety: the page works without it
  }
  if (asked !== usageAsked) return; // a later call shows a newer state
  const usage = $("usage");
  const parts = [];
  const explained = ["Tokens the model read (prompt) and wrote (answer)."];
  if (conversation) {
    const spent = conversation.prompt_tokens + conversation.completion_tokens;
    parts.push(usagePart("usage-chat", `This chat: ${count(spent)} tokens`));
    explained.push(
      `This chat: ${count(conversation.prompt_tokens)} read + ${count(conversation.completion_tokens)} written.`,
    );
  }
  if (totals) {
    const you = usagePart("usage-you", `You in total: ${count(totals.total_tokens)} tokens`);
    you.append(usagePart("usage-requests", ` in ${requests(totals.requests)}`));
    parts.push(you);
    const [read, written] = [count(totals.prompt_tokens), count(totals.completion_tokens)];
    const made = requests(totals.requests);
    explained.push(`You in total, every chat and API call: ${read} read + ${written} written in ${made}.`);
  }
  usage.replaceChildren(...parts.flatMap((part, index) => (index ? [" · ", part] : [part])));
  usage.title = parts.length ? explained.join("\n") : "";
}

function usagePart(className, text) {
  const part = document.createElement("span");
  part.className = className;
  part.textContent = text;
  return part;
}

function count(n) {
  return n.toLocaleString("en");
}

function requests(n) {
  return `${count(n)} request${n === 1 ? "" : "s"}`;
}

// --- wiring -----------------------------------------------------------------------------

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("message").value.trim();
  if (!text || state.streaming) return;
  $("message").value = "";
  fitComposer();
  send(text);
});
$("message").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("composer").requestSubmit();
  }
});
// The box grows with what is typed, up to a third of the screen, as chat boxes do.
function fitComposer() {
  const box = $("message");
  box.style.height = "auto";
  box.style.height = `${Math.min(box.scrollHeight + 2, window.innerHeight / 3)}px`;
}
$("message").addEventListener("input", fitComposer);
$("stop").addEventListener("click", () => state.streaming?.abort());
$("new-conversation").addEventListener("click", newConversation);
$("more-conversations").addEventListener("click", () => loadConversations(true).catch(sayError));
$("toggle-sidebar").addEventListener("click", toggleSidebar);
$("backdrop").addEventListener("click", closeSidebar);

async function start() {
  try {
    await loadConversations();
    await loadCollections();
    await loadDocuments();
    $("key-dialog").close();
    showUsage();
    say("");
  } catch (error) {
    if (error.status !== 401) sayError(error);
  }
}

start();
