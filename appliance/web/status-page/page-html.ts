/**
 * The status page's HTML: a static shell that `client.ts` fills from `/api/events`. It holds no data,
 * so it is the same for everyone and cached like the other assets.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>evertorrent</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/status-page.css">
<link rel="alternate" type="application/rss+xml" title="Published torrents (RSS)" href="/feed.xml">
<link rel="alternate" type="application/feed+json" title="Published torrents (JSON Feed)" href="/feed.json">
<script type="module" src="/assets/status-page.js"></script>
</head>
<body>
<header class="top">
  <div class="top-inner">
    <h1><span id="box-name">evertorrent</span> <span class="subtitle">status</span></h1>
    <p id="connection" class="connection" data-state="connecting" role="status" aria-live="polite">Connecting…</p>
  </div>
</header>
<main>
  <section aria-labelledby="box-heading" class="panel">
    <h2 id="box-heading">This box</h2>
    <dl id="totals" class="totals"></dl>
    <dl id="box" class="facts"></dl>
  </section>
  <section aria-labelledby="reach-heading" class="panel">
    <h2 id="reach-heading">Reach</h2>
    <dl id="reach" class="facts"></dl>
  </section>
  <section aria-labelledby="leds-heading" class="panel" id="leds-section" hidden>
    <h2 id="leds-heading">Lights</h2>
    <ul id="leds" class="leds"></ul>
  </section>
  <section aria-labelledby="libraries-heading" class="panel">
    <h2 id="libraries-heading">Drives and folders</h2>
    <p id="safe-to-remove" class="notice ok" hidden>Drives ejected: safe to unplug them.</p>
    <ul id="libraries" class="libraries"></ul>
  </section>
  <section aria-labelledby="items-heading">
    <h2 id="items-heading" class="section-heading">Published items <span id="items-count" class="count"></span></h2>
    <p id="items-empty" class="empty" hidden>Nothing to publish yet: put files or folders into a library folder, or plug in a drive.</p>
    <ul id="items" class="items"></ul>
  </section>
  <section aria-labelledby="mirrors-heading" class="panel" id="mirrors-section" hidden>
    <h2 id="mirrors-heading">Mirrors</h2>
    <ul id="mirrors" class="libraries"></ul>
  </section>
  <section aria-labelledby="actions-heading" class="panel">
    <h2 id="actions-heading">Actions</h2>
    <p id="actions-off" hidden>Actions are turned off. To turn them on, set <code>web.admin_token</code> in the box's config file and restart the service.</p>
    <form id="actions-form" class="actions" hidden>
      <label for="admin-token">Admin token</label>
      <input id="admin-token" name="token" type="password" autocomplete="off" spellcheck="false" placeholder="web.admin_token">
      <div class="buttons">
        <button type="button" data-action="rescan">Rescan now</button>
        <button type="button" data-action="eject" hidden>Eject drives</button>
      </div>
      <p id="action-result" class="action-result" role="status" aria-live="polite"></p>
    </form>
  </section>
</main>
<footer>
  <noscript><p>This page needs JavaScript to show the live status; the same data is at <a href="/api/status">/api/status</a>.</p></noscript>
  <p>evertorrent <span id="version"></span> · Feed of published torrents: <a href="/feed.xml" type="application/rss+xml">RSS</a>, <a href="/feed.json" type="application/feed+json">JSON Feed</a> · <a href="/api/status">JSON</a> · <a href="/metrics">Prometheus metrics</a></p>
</footer>
</body>
</html>
`
