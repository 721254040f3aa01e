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

  const addCard = (card) => {
    if (cards.has(card.id)) return;
    const original = JSON.stringify(card.params, null, 2);
    const params = el("textarea", { value: original, spellcheck: false, className: "params" });
    params.rows = Math.min(12, original.split("\n").length);
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
    if (card.rule) why.append("rule ", el("b", { textContent: card.rule }));
    // the reason often restates the rule; show it when it adds something
    if (card.reason && !(card.rule && card.reason.includes(card.rule.replace(/^\w+: /, ""))))
      why.append(card.rule ? " · " : "", el("b", { textContent: card.reason }));
    if (!card.reason && !card.rule) why.append("the policy asks about this call");
    const node = el("article", { className: "card", id: "card-" + card.id },
      el("div", { className: "top" },
        el("span", { className: "tool", textContent: card.tool }),
        el("span", { className: "badge " + card.toolClass, textContent: card.toolClass === "ReadOnly" ? "read-only" : "mutating" }),
        el("span", { className: "badge origin", textContent: originText(card.origin) })),
      card.description ? el("div", { className: "why", textContent: card.description }) : null,
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
      textContent: what + (o.reason ? ": " + o.reason : "") +
        (o.executedParams !== undefined ? " · ran with " + JSON.stringify(o.executedParams) : "") });
  };
  const recentItem = (entry) => {
    const li = el("li", { className: entry.verdict + (entry.outcome && entry.outcome.isError ? " failed" : "") },
      el("span", { className: "verdict", textContent: entry.verdict }),
      el("span", { className: "tool", textContent: entry.tool }),
      entry.detail ? el("div", { className: "detail", textContent: entry.detail }) : null,
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
  events.addEventListener("open", () => { statusEl.textContent = "live"; statusEl.className = "status live"; });
  events.addEventListener("error", () => { statusEl.textContent = "reconnecting…"; statusEl.className = "status"; });
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
