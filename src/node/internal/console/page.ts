/**
 * The console's page: plain HTML and CSS, served as is (no build step). The
 * script lives in `script.ts`. The token is placed in a meta tag so that the
 * script can send it in a header with every state-changing request: the
 * session cookie alone never authorises a decision.
 */

const escapeAttribute = (value: string) =>
  value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

export const page = (options: { readonly token: string; readonly title: string }) =>
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="toolgate-token" content="${escapeAttribute(options.token)}">
<title>${escapeAttribute(options.title)}</title>
<style>
  :root { --bg: #f6f7f9; --card: #fff; --ink: #1d2330; --muted: #677085; --line: #dde1e8;
          --allow: #1f7a44; --deny: #b42318; --warn: #9a6700; --accent: #2f5bd3; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--ink); }
  header { display: flex; align-items: baseline; gap: 16px; padding: 14px 24px; background: #111827; color: #fff; }
  header h1 { margin: 0; font-size: 17px; font-weight: 600; }
  header .status { color: #9ca3af; font-size: 13px; }
  header .status.live::before { content: "●"; color: #34d399; margin-right: 6px; }
  header .status.gone { color: #fca5a5; }
  main { display: grid; grid-template-columns: minmax(0, 1fr) 340px; gap: 20px; padding: 20px 24px; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 0 0 10px; }
  .empty { color: var(--muted); padding: 18px; border: 1px dashed var(--line); border-radius: 8px; text-align: center; }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; margin-bottom: 12px;
          box-shadow: 0 1px 2px rgba(16, 24, 40, .05); }
  .card .top { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
  .card .tool { font-weight: 600; font-size: 15px; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
  .badge { font-size: 11px; padding: 2px 8px; border-radius: 999px; background: #eef2ff; color: var(--accent); }
  .badge.Mutating { background: #fff4e5; color: var(--warn); }
  .badge.origin { background: #f2f4f7; color: var(--muted); }
  .why { color: var(--muted); margin: 6px 0 8px; }
  .why b { color: var(--ink); font-weight: 500; }
  .warning { color: var(--deny); font-weight: 600; margin: 6px 0; }
  textarea { width: 100%; min-height: 64px; font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; border: 1px solid var(--line);
             border-radius: 6px; padding: 8px; background: #fbfcfd; resize: vertical; }
  .row { display: flex; gap: 8px; align-items: center; margin-top: 8px; flex-wrap: wrap; }
  .row input[type=text] { flex: 1; min-width: 160px; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; }
  button { border: 1px solid var(--line); background: #fff; border-radius: 6px; padding: 6px 12px; cursor: pointer; font: inherit; }
  button.allow { background: var(--allow); border-color: var(--allow); color: #fff; }
  button.deny { color: var(--deny); border-color: #f3c1bc; }
  button.stop { background: var(--deny); border-color: var(--deny); color: #fff; }
  label { color: var(--muted); display: inline-flex; gap: 4px; align-items: center; }
  .error { color: var(--deny); margin-top: 6px; white-space: pre-wrap; font-size: 12.5px; }
  .recent { list-style: none; padding: 0; margin: 0; }
  .recent li { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px; margin-bottom: 6px; }
  .recent .verdict { font-weight: 600; margin-right: 6px; }
  .recent .allowed .verdict { color: var(--allow); }
  .recent .denied .verdict { color: var(--deny); }
  .recent .withdrawn .verdict { color: var(--muted); }
  .recent .detail { color: var(--muted); font-size: 12.5px; }
  .recent .outcome { font-size: 12.5px; }
  .recent .outcome.error { color: var(--deny); }
  .count { font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
<header><h1>toolgate · approvals</h1><span class="status" id="status">connecting…</span></header>
<main>
  <section>
    <h2>Waiting for you · <span class="count" id="pending-count">0</span></h2>
    <div id="pending"><div class="empty" id="empty">No call is waiting for approval.</div></div>
  </section>
  <aside>
    <h2>Recent decisions</h2>
    <ul class="recent" id="recent"></ul>
  </aside>
</main>
<script src="/app.js"></script>
</body>
</html>`
