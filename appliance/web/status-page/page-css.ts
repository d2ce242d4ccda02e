/** The status page's stylesheet: system fonts only, light and dark from `prefers-color-scheme`, one column at 360 px. */
export const PAGE_CSS = `:root {
  color-scheme: light dark;
  --bg: #f4f5f7; --card: #fff; --fg: #1b1f23; --muted: #59636e; --border: #d5dbe1;
  --accent: #0b6e3e; --ok: #0b7a3e; --ok-bg: #dff3e7; --warn: #8a5a00; --warn-bg: #fdf0d5;
  --bad: #b3261e; --bad-bg: #fbe3e1; --info: #1f5fae; --info-bg: #e1ecfa; --idle: #59636e; --idle-bg: #eceff2;
  --radius: 10px;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #101316; --card: #1a1f24; --fg: #e6e9ec; --muted: #9ba6b1; --border: #2f363d;
    --accent: #4fd08f; --ok: #6bdc9f; --ok-bg: #143324; --warn: #f2c25c; --warn-bg: #3a2d0f;
    --bad: #ff8a80; --bad-bg: #3d1a18; --info: #8ab8ff; --info-bg: #172a45; --idle: #a7b1bb; --idle-bg: #262c32;
  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
}
a { color: var(--info); }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: .92em; }
h1, h2, h3 { line-height: 1.2; margin: 0; }
h1 { font-size: 1.25rem; }
h2 { font-size: 1.05rem; margin-bottom: .6rem; }
h3 { font-size: 1rem; overflow-wrap: anywhere; }
.top { background: var(--card); border-bottom: 1px solid var(--border); position: sticky; top: 0; z-index: 1; }
.top-inner { max-width: 72rem; margin: 0 auto; padding: .7rem 1rem; display: flex; flex-wrap: wrap; gap: .4rem 1rem; align-items: center; justify-content: space-between; }
.subtitle { color: var(--muted); font-weight: 400; }
.connection { margin: 0; font-size: .9rem; display: flex; align-items: center; gap: .4rem; }
.connection::before { content: ""; width: .6rem; height: .6rem; border-radius: 50%; background: var(--idle); }
.connection[data-state="live"]::before { background: var(--ok); }
.connection[data-state="lost"] { color: var(--warn); font-weight: 600; }
.connection[data-state="lost"]::before { background: var(--warn); }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; display: grid; gap: 1rem; }
body.stale main { opacity: .55; }
.panel { background: var(--card); border: 1px solid var(--border); border-radius: var(--radius); padding: 1rem; }
.section-heading { margin: .2rem 0 .6rem; }
.count { color: var(--muted); font-weight: 400; }
.totals { display: grid; grid-template-columns: repeat(auto-fill, minmax(8.5rem, 1fr)); gap: .5rem; margin: 0 0 1rem; }
.totals div { background: var(--bg); border-radius: 8px; padding: .5rem .7rem; }
.totals dt { color: var(--muted); font-size: .8rem; }
.totals dd { margin: 0; font-size: 1.15rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 15rem), 1fr)); gap: .6rem 1rem; margin: 0; }
.facts dt { color: var(--muted); font-size: .8rem; }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.facts ul { list-style: none; margin: 0; padding: 0; }
ul.leds, ul.libraries, ul.items { list-style: none; margin: 0; padding: 0; }
.leds li { display: flex; gap: .7rem; align-items: flex-start; padding: .3rem 0; }
.led-dot { flex: none; width: 1.1rem; height: 1.1rem; margin-top: .1rem; border-radius: 50%; border: 2px solid var(--border); background: var(--led-dark, #333); }
.led-dot.lit { background: var(--led, #888); box-shadow: 0 0 .6rem var(--led, transparent); }
.led-text small { display: block; color: var(--muted); }
.libraries li { padding: .6rem 0; border-top: 1px solid var(--border); display: grid; gap: .3rem; }
.libraries li:first-child { border-top: 0; padding-top: 0; }
.library-head { display: flex; flex-wrap: wrap; gap: .3rem .6rem; align-items: center; }
.library-head .kind { color: var(--muted); font-size: .85rem; }
.library-head button { margin-left: auto; }
meter { width: 100%; height: .7rem; }
.space { color: var(--muted); font-size: .88rem; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.items { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 22rem), 1fr)); gap: .8rem; }
.item { min-width: 0; background: var(--card); border: 1px solid var(--border); border-radius: var(--radius); padding: .85rem 1rem; display: grid; gap: .5rem; align-content: start; }
.item[data-state="offline"], .item[data-state="error"] { border-color: var(--bad); }
.item-head { display: flex; gap: .6rem; align-items: flex-start; justify-content: space-between; }
.item-sub { margin: 0; color: var(--muted); font-size: .88rem; overflow-wrap: anywhere; }
.badge { flex: none; font-size: .78rem; font-weight: 600; padding: .12rem .5rem; border-radius: 999px; background: var(--idle-bg); color: var(--idle); white-space: nowrap; }
.badge[data-state="seeding"], .badge[data-state="present"], .badge[data-state="ejected"] { background: var(--ok-bg); color: var(--ok); }
.badge[data-state="hashing"], .badge[data-state="queued"], .badge[data-state="waiting"] { background: var(--info-bg); color: var(--info); }
.badge[data-state="paused"], .badge[data-state="missing"] { background: var(--warn-bg); color: var(--warn); }
.badge[data-state="offline"], .badge[data-state="error"], .badge[data-state="removed"] { background: var(--bad-bg); color: var(--bad); }
.progress { display: grid; gap: .2rem; font-size: .88rem; color: var(--muted); font-variant-numeric: tabular-nums; }
progress { width: 100%; height: .6rem; accent-color: var(--info); }
.error { margin: 0; color: var(--bad); font-size: .9rem; overflow-wrap: anywhere; }
.stats { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: .35rem .6rem; margin: 0; }
.stats dt { color: var(--muted); font-size: .75rem; }
.stats dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
.links { display: flex; flex-wrap: wrap; gap: .4rem .8rem; align-items: center; }
button, .button {
  font: inherit; font-size: .9rem; border-radius: 8px; border: 1px solid var(--border); background: var(--bg); color: var(--fg);
  padding: .4rem .75rem; cursor: pointer; min-height: 2.25rem;
}
button.primary { background: var(--accent); border-color: var(--accent); color: var(--card); font-weight: 600; }
button:hover { border-color: var(--muted); }
button:focus-visible, a:focus-visible, input:focus-visible, summary:focus-visible { outline: 3px solid var(--info); outline-offset: 2px; }
details.more summary { cursor: pointer; color: var(--info); font-size: .9rem; }
.more-body { display: grid; gap: .5rem; padding-top: .5rem; }
.qr { width: 100%; max-width: 15rem; height: auto; aspect-ratio: 1; background: #fff; border-radius: 6px; image-rendering: pixelated; }
.more-body label { font-size: .8rem; color: var(--muted); }
.more-body textarea, .more-body input { width: 100%; font: .8rem/1.35 ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; color: var(--fg); background: var(--bg); border: 1px solid var(--border); border-radius: 6px; padding: .35rem; resize: vertical; }
.item-actions { display: flex; flex-wrap: wrap; gap: .4rem; }
.item-actions:empty { display: none; }
.empty { color: var(--muted); }
.notice { border-radius: 8px; padding: .5rem .75rem; margin: 0 0 .6rem; }
.notice.ok { background: var(--ok-bg); color: var(--ok); font-weight: 600; }
.actions { display: grid; gap: .5rem; max-width: 30rem; }
.actions input { font: inherit; padding: .45rem .6rem; border-radius: 8px; border: 1px solid var(--border); background: var(--bg); color: var(--fg); }
.buttons { display: flex; flex-wrap: wrap; gap: .5rem; }
.action-result { margin: 0; min-height: 1.4em; font-size: .9rem; }
.action-result[data-ok="false"] { color: var(--bad); }
footer { max-width: 72rem; margin: 0 auto; padding: 0 1rem 2rem; color: var(--muted); font-size: .85rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (prefers-reduced-motion: reduce) { * { scroll-behavior: auto !important; } }
`
