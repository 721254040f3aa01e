/**
 * The console's script, served as `/app.js` exactly as written here (plain
 * browser JavaScript, no build step). It follows `/api/events` (SSE) and
 * renders every card with `textContent` only: params come from a model and
 * may contain markup, which must never become markup.
 */
// Long because it is the whole page script as one string, served as is.
export const script = String.raw`"use strict";
(() => {
  const token = document.querySelector('meta[name="toolgate-token"]').content;
  const pendingEl = document.getElementById("pending");
  const emptyEl = document.getElementById("empty");
  const countEl = document.getElementById("pending-count");
  const recentEl = document.getElementById("recent");
  const statusEl = document.getElementById("status");
  const cards = new Map();

  const el = (tag, props, ...children) => {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children) if (child != null) node.append(child);
    return node;
  };
  const refresh = () => {
    countEl.textContent = String(cards.size);
    emptyEl.hidden = cards.size > 0;
  };
  const originText = (origin) =>
    origin.depth === 0 ? "top-level agent" : "sub-agent, depth " + origin.depth + " (via " + origin.parents.join(" › ") + ")";

  const send = async (id, body, errorEl) => {
    errorEl.textContent = "";
    const response = await fetch("/api/decide/" + encodeURIComponent(id), {
      method: "POST",
      headers: { "content-type": "application/json", "x-toolgate-token": token },
      body: JSON.stringify(body)
    });
    if (response.ok) return;
    const text = await response.text();
    errorEl.textContent = response.status === 404 ? "This call was already decided elsewhere." : text;
  };

  // Invisible and direction-changing characters (controls, bidi overrides
  // and isolates, zero-width characters, line separators) are shown as
  // markers, as the terminal shows them: a right-to-left override must not
  // make a write read as a read. In the params they become JSON escapes
  // (\u202e), which parse back to the same value, so an edit starts from
  // exactly what the model sent.
  const invisible = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
  const hex = (unit) => unit.toString(16).toUpperCase().padStart(4, "0");
  const marked = (text, keepNewlines) => text == null ? text : String(text).replace(invisible,
    (c) => keepNewlines && (c === "\n" || c === "\t") ? c : "\u27e8U+" + hex(c.codePointAt(0)) + "\u27e9");
  const jsonMarked = (json) => json.replace(/[\p{Cf}\p{Zl}\p{Zp}\u007f-\u009f]/gu,
    (c) => Array.from({ length: c.length }, (_, i) => "\\u" + hex(c.charCodeAt(i)).toLowerCase()).join(""));
  const hasInvisible = (text) => text != null && /[\p{Cf}\p{Zl}\p{Zp}]|[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/u.test(String(text));

  const addCard = (card) => {
    if (cards.has(card.id)) return;
    const raw = JSON.stringify(card.params, null, 2);
    const original = jsonMarked(raw);
    const params = el("textarea", { value: original, spellcheck: false, className: "params" });
    // long params are readable in full: as many rows as they have lines (the box scrolls past 40)
    params.rows = Math.min(40, original.split("\n").length);
    const suspicious = [card.tool, card.reason, card.rule, card.description].some(hasInvisible) ||
      raw !== original || /\\u00[01][0-9a-f]/i.test(raw);
    const warning = suspicious
      ? el("div", { className: "warning", textContent: "\u26a0 This call contains invisible or direction-changing characters; they are shown as \u27e8U+XXXX\u27e9 markers and \\uXXXX escapes. Read it carefully." })
      : null;
    const reason = el("input", { type: "text", placeholder: "reason shown to the model", className: "reason" });
    const remember = el("input", { type: "checkbox", className: "remember" });
    const error = el("div", { className: "error" });
    const allow = () => {
      let body = { action: "allow" };
      if (remember.checked) body.remember = true;
      if (params.value.trim() !== original.trim()) {
        try { body.params = JSON.parse(params.value); }
        catch (e) { error.textContent = "The params are not valid JSON: " + e.message; return; }
      }
      send(card.id, body, error);
    };
    const deny = (stop) => send(card.id, { action: "deny", reason: reason.value.trim() || "denied in the web console", stop }, error);
    const why = el("div", { className: "why" });
    if (card.rule) why.append("rule ", el("b", { textContent: marked(card.rule) }));
    // the reason often restates the rule; show it when it adds something
    if (card.reason && !(card.rule && card.reason.includes(card.rule.replace(/^\w+: /, ""))))
      why.append(card.rule ? " · " : "", el("b", { textContent: marked(card.reason, true) }));
    if (!card.reason && !card.rule) why.append("the policy asks about this call");
    const node = el("article", { className: "card", id: "card-" + card.id },
      el("div", { className: "top" },
        el("span", { className: "tool", textContent: marked(card.tool) }),
        el("span", { className: "badge " + card.toolClass, textContent: card.toolClass === "ReadOnly" ? "read-only" : "mutating" }),
        el("span", { className: "badge origin", textContent: originText(card.origin) })),
      warning,
      card.description ? el("div", { className: "why", textContent: marked(card.description, true) }) : null,
      why,
      params,
      el("div", { className: "row" },
        el("button", { className: "allow", textContent: "Allow", onclick: allow }),
        el("label", {}, remember, "remember for the session")),
      el("div", { className: "row" },
        reason,
        el("button", { className: "deny", textContent: "Deny", onclick: () => deny(false) }),
        el("button", { className: "stop", textContent: "Deny and stop", onclick: () => deny(true) })),
      error);
    node.dataset.callId = card.callId;
    cards.set(card.id, node);
    pendingEl.append(node);
    refresh();
  };

  const removeCard = (id) => {
    const node = cards.get(id);
    if (node) node.remove();
    cards.delete(id);
    refresh();
  };

  // How an answered call really ended, from the executor's record: an
  // allowed edit the policy then refused reads as a denial, not as allowed.
  const outcomeOf = (o) => {
    const what = o.outcome === "Succeeded" ? "ran" : o.outcome === "PolicyDenied" ? "then denied by policy" : o.outcome;
    return el("div", { className: "outcome" + (o.isError ? " error" : ""),
      textContent: what + (o.reason ? ": " + marked(o.reason, true) : "") +
        (o.executedParams !== undefined ? " · ran with " + jsonMarked(JSON.stringify(o.executedParams)) : "") });
  };
  const recentItem = (entry) => {
    const li = el("li", { className: entry.verdict + (entry.outcome && entry.outcome.isError ? " failed" : "") },
      el("span", { className: "verdict", textContent: entry.verdict }),
      el("span", { className: "tool", textContent: marked(entry.tool) }),
      entry.detail ? el("div", { className: "detail", textContent: marked(entry.detail, true) }) : null,
      entry.outcome ? outcomeOf(entry.outcome) : null);
    li.dataset.id = entry.id;
    return li;
  };
  const addRecent = (entry) => {
    recentEl.prepend(recentItem(entry));
    while (recentEl.children.length > 50) recentEl.lastElementChild.remove();
  };
  const updateRecent = (entry) => {
    for (const li of recentEl.children) if (li.dataset.id === entry.id) li.replaceWith(recentItem(entry));
  };

  const events = new EventSource("/api/events");
  // The stream drops when the toolgate process behind the page ends (or
  // restarts). The browser retries; while no retry gets through, the page
  // says the process is gone and its cards cannot be answered here.
  let failures = 0;
  events.addEventListener("open", () => {
    failures = 0;
    statusEl.textContent = "live"; statusEl.className = "status live";
    document.body.classList.remove("gone");
  });
  events.addEventListener("error", () => {
    failures++;
    const gone = failures > 1 || events.readyState === EventSource.CLOSED;
    statusEl.textContent = gone
      ? "the toolgate process behind this page has gone: its calls can no longer be answered here"
      : "reconnecting\u2026";
    statusEl.className = gone ? "status gone" : "status";
    document.body.classList.toggle("gone", gone);
    for (const button of document.querySelectorAll("article.card button")) button.disabled = gone;
  });
  events.addEventListener("snapshot", (e) => {
    const state = JSON.parse(e.data);
    for (const id of [...cards.keys()]) removeCard(id);
    recentEl.replaceChildren();
    for (const entry of state.recent.slice().reverse()) addRecent(entry);
    for (const card of state.pending) addCard(card);
  });
  events.addEventListener("pending", (e) => addCard(JSON.parse(e.data).card));
  events.addEventListener("decided", (e) => { const m = JSON.parse(e.data); removeCard(m.id); addRecent(m.recent); });
  events.addEventListener("withdrawn", (e) => { const m = JSON.parse(e.data); removeCard(m.id); addRecent(m.recent); });
  events.addEventListener("outcome", (e) => updateRecent(JSON.parse(e.data).recent));
  refresh();
})();
`
