/**
 * The monitor page: one HTML document with its style and script inline, and the headers it is
 * served with. Invariants:
 * - it loads nothing from elsewhere: no CDN, no font, no image but an empty inline icon; charts are
 *   inline SVG drawn by the script;
 * - the Content-Security-Policy allows exactly this style and this script (by their sha-256) and
 *   connections to the same origin, nothing else;
 * - the script writes data into the page as text (`textContent`), never as HTML;
 * - a `?token=` in the page's address is sent with each request it makes;
 * - it reconnects by itself when the stream ends or fails, and says so in its status.
 *
 * The elements the tests read carry ids: `status`, `count-<counter>` (running, queued, delayed,
 * started, succeeded, failed, interrupted, timedOut, dropped), `running`, `queued`, `pools`,
 * `failures`; `document.body.dataset.updates` counts the events received. Tables show at most 20 rows,
 * then "+N more".
 */
import { createHash } from "node:crypto"

const style = `
:root{color-scheme:light dark;--bg:#f7f7f5;--fg:#1d1d1f;--muted:#6e6e73;--card:#fff;--line:#e3e3e0;
--run:#2f7de1;--queue:#e0a21b;--ok:#2c9a5a;--bad:#d64545;--int:#8e6fd8}
@media (prefers-color-scheme:dark){:root{--bg:#161617;--fg:#ececec;--muted:#9a9aa0;--card:#202022;--line:#333336}}
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;align-items:baseline;gap:12px;padding:14px 20px;border-bottom:1px solid var(--line);background:var(--card)}
h1{font-size:18px;margin:0}
h2{font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);margin:0 0 8px}
#status{font-size:12px;padding:2px 8px;border-radius:10px;background:var(--line)}
#status.live{background:var(--ok);color:#fff}#status.down{background:var(--bad);color:#fff}
#status.closed{background:var(--muted);color:#fff}
#at{color:var(--muted);font-size:12px;margin-left:auto}
main{display:grid;grid-template-columns:1fr 1fr;gap:14px;padding:14px 20px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px;min-width:0}
section.wide{grid-column:1/-1}
@media (max-width:800px){main{grid-template-columns:1fr}}
.counts{display:grid;grid-template-columns:repeat(auto-fill,minmax(92px,1fr));gap:8px}
.count{border-radius:6px;padding:6px 8px;background:var(--bg)}
.count b{display:block;font-size:22px;font-variant-numeric:tabular-nums}
.count span{font-size:11px;color:var(--muted)}
.count.running b{color:var(--run)}.count.queued b{color:var(--queue)}.count.succeeded b{color:var(--ok)}
.count.failed b,.count.timedOut b{color:var(--bad)}.count.interrupted b{color:var(--int)}
svg{display:block;width:100%;height:70px}
svg.spark{height:18px;width:90px}
.legend{font-size:11px;color:var(--muted);display:flex;gap:10px;margin-top:4px}
.legend span:last-child{margin-left:auto}
.legend i{display:inline-block;width:10px;height:3px;vertical-align:middle;margin-right:4px}
table{width:100%;border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{text-align:left;padding:3px 6px;border-bottom:1px solid var(--line);white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:320px}
th{font-size:11px;color:var(--muted);font-weight:600}
td.key{padding-left:20px;color:var(--muted)}
.held{font-size:11px;padding:1px 6px;border-radius:8px;background:var(--queue);color:#000}
.more,.empty{color:var(--muted);font-size:12px;padding:4px 6px}
.kv{display:grid;grid-template-columns:repeat(4,1fr);gap:8px;margin-top:8px;font-size:12px;color:var(--muted)}
.kv b{display:block;font-size:14px;color:var(--fg);font-variant-numeric:tabular-nums}
details{border-bottom:1px solid var(--line);padding:4px 0}
summary{cursor:pointer;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
summary .tag{font-size:11px;padding:1px 6px;border-radius:8px;background:var(--bad);color:#fff;margin-right:6px}
summary .msg{color:var(--bad)}
pre{white-space:pre-wrap;word-break:break-word;font-size:12px;background:var(--bg);padding:6px 8px;border-radius:6px;margin:6px 0}
`

const script = `
'use strict';
(function () {
  var token = new URLSearchParams(location.search).get('token');
  var query = token ? '?token=' + encodeURIComponent(token) : '';
  var WINDOW = 5 * 60 * 1000;
  var ROWS = 20;
  var history = [];
  var updates = 0;
  var source = null;
  var retry = null;
  var openFailures = {};
  var failureIds = '';
  var COUNTERS = ['running', 'queued', 'delayed', 'started', 'succeeded', 'failed', 'interrupted', 'timedOut', 'dropped'];

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function limit(n) { return n === null || n === undefined ? '\\u221e' : String(n); }
  function age(ms) {
    if (ms < 1000) return Math.round(ms) + ' ms';
    var s = ms / 1000;
    if (s < 60) return s.toFixed(1) + ' s';
    var m = Math.floor(s / 60);
    if (m < 60) return m + ' m ' + String(Math.floor(s % 60)).padStart(2, '0') + ' s';
    return Math.floor(m / 60) + ' h ' + String(m % 60).padStart(2, '0') + ' m';
  }
  function rate(r) { return (r >= 10 ? r.toFixed(0) : r.toFixed(1)) + '/s'; }
  function setStatus(text, cls) { var s = $('status'); s.textContent = text; s.className = cls; }
  function row(cells, cls) {
    var tr = el('tr');
    cells.forEach(function (c, i) {
      var td = el('td', i === 0 && cls ? cls : '');
      if (c instanceof Node) td.appendChild(c); else td.textContent = c === undefined ? '' : String(c);
      tr.appendChild(td);
    });
    return tr;
  }
  function held(by) { return by ? el('span', 'held', by) : ''; }
  function fill(tbody, rows, total, empty) {
    rows = rows.slice(0, ROWS);
    tbody.replaceChildren.apply(tbody, rows);
    var note = tbody.parentNode.nextElementSibling;
    note.textContent = rows.length === 0 ? empty : total > rows.length ? '+' + (total - rows.length) + ' more' : '';
  }

  var SVGNS = 'http://www.w3.org/2000/svg';
  function chart(svg, series, to, scale) {
    var w = 300, h = 70, top = 0;
    series.forEach(function (s) { s.points.forEach(function (p) { if (p[1] > top) top = p[1]; }); });
    top = top === 0 ? 1 : top;
    // the x axis spans the history so far, at most the last five minutes
    var from = Math.max(to - WINDOW, history.length > 0 ? history[0].at : to);
    var span = Math.max(to - from, 1);
    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
    svg.setAttribute('preserveAspectRatio', 'none');
    var kids = [];
    series.forEach(function (s) {
      if (s.points.length === 0) return;
      var d = s.points.map(function (p, i) {
        var x = ((p[0] - from) / span) * w, y = h - 2 - (p[1] / top) * (h - 14);
        return (i === 0 ? 'M' : 'L') + x.toFixed(1) + ',' + y.toFixed(1);
      }).join(' ');
      var path = document.createElementNS(SVGNS, 'path');
      path.setAttribute('d', d); path.setAttribute('fill', 'none');
      path.style.stroke = s.color; path.setAttribute('stroke-width', '1.5');
      path.setAttribute('vector-effect', 'non-scaling-stroke');
      kids.push(path);
    });
    if (scale) scale.textContent = 'max ' + (top >= 10 ? top.toFixed(0) : top.toFixed(1)) + ' \\u00b7 ' + age(span) + ' shown';
    svg.replaceChildren.apply(svg, kids);
  }
  function series(key) { return history.map(function (p) { return [p.at, p[key]]; }); }

  function render(p) {
    updates++;
    document.body.dataset.updates = String(updates);
    $('name').textContent = p.supervisor;
    document.title = p.supervisor + ' \\u00b7 monitor';
    $('at').textContent = 'at ' + new Date(p.at).toLocaleTimeString();
    if (p.closed) setStatus('shut down', 'closed');
    else if (p.paused) setStatus('paused', 'closed');
    else setStatus('live', 'live');
    var c = p.counters;
    var values = { running: p.totals.running, queued: p.totals.queued, delayed: p.totals.delayed,
      started: c.started, succeeded: c.succeeded, failed: c.failed, interrupted: c.interrupted,
      timedOut: c.timedOut, dropped: c.dropped };
    COUNTERS.forEach(function (k) { $('count-' + k).textContent = String(values[k]); });

    var pools = {};
    p.pools.forEach(function (pool) { pools[pool.name] = pool.running + pool.queued; });
    // interruptions per second, from the counters (the rates have ended and failed only)
    var last = history.length > 0 ? history[history.length - 1] : null;
    var seconds = last === null ? 0 : (p.at - last.at) / 1000;
    var interrupted = seconds > 0 ? Math.max(0, c.interrupted - last.interruptedCount) / seconds : 0;
    history.push({ at: p.at, running: p.totals.running, queued: p.totals.queued,
      ended: p.rates.ended, failed: p.rates.failed, interrupted: interrupted,
      interruptedCount: c.interrupted, pools: pools });
    while (history.length > 0 && history[0].at < p.at - WINDOW) history.shift();
    chart($('chart-activity'), [{ points: series('running'), color: 'var(--run)' },
      { points: series('queued'), color: 'var(--queue)' }], p.at, $('scale-activity'));
    chart($('chart-throughput'), [{ points: series('ended'), color: 'var(--ok)' },
      { points: series('failed'), color: 'var(--bad)' },
      { points: series('interrupted'), color: 'var(--int)' }], p.at, $('scale-throughput'));

    $('rate-started').textContent = rate(p.rates.started);
    $('rate-ended').textContent = rate(p.rates.ended);
    $('rate-failed').textContent = rate(p.rates.failed);
    ['p50', 'p90', 'p99', 'max'].forEach(function (k) {
      $('d-' + k).textContent = p.durations.count === 0 ? '\\u2013' : age(p.durations[k]);
    });

    var poolRows = [];
    p.pools.forEach(function (pool) {
      var spark = document.createElementNS(SVGNS, 'svg');
      spark.setAttribute('class', 'spark');
      chart(spark, [{ points: history.map(function (h) { return [h.at, h.pools[pool.name] || 0]; }), color: 'var(--run)' }], p.at);
      var o = pool.counters;
      poolRows.push(row([pool.name + (pool.paused ? ' (paused)' : ''), pool.running + ' / ' + limit(pool.concurrency),
        pool.queued, held(pool.heldBy), pool.rate ? pool.rate.tokens.toFixed(0) + ' of ' + pool.rate.limit + ' per ' + age(pool.rate.intervalMillis) : '',
        o.succeeded + ' ok \\u00b7 ' + (o.failed + o.timedOut) + ' failed \\u00b7 ' + o.interrupted + ' interrupted', spark]));
      pool.keys.forEach(function (k) {
        poolRows.push(row(['key ' + k.key, k.running + ' / ' + limit(pool.perKey), k.queued, held(k.heldBy), '', '', ''], 'key'));
      });
    });
    $('pools').replaceChildren.apply($('pools'), poolRows);

    fill($('running'), p.running.map(function (j) {
      return row([j.name, j.pool, j.key, age(j.ageMillis), j.progress === undefined ? '' : JSON.stringify(j.progress)]);
    }), p.totals.running, 'nothing running');

    var heldOf = {};
    p.pools.forEach(function (pool) {
      heldOf[pool.name] = pool.heldBy;
      pool.keys.forEach(function (k) { heldOf[pool.name + '\\u0000' + k.key] = k.heldBy; });
    });
    fill($('queued'), p.queued.map(function (j) {
      var by = j.key === undefined ? heldOf[j.pool] : heldOf[j.pool + '\\u0000' + j.key] || heldOf[j.pool];
      return row([j.name, j.pool, j.key, held(by), age(j.ageMillis)]);
    }), p.totals.queued, 'nothing queued');

    renderFailures(p.recentFailures);
  }

  function renderFailures(failures) {
    var ids = failures.map(function (f) { return f.id + ':' + f.attempt; }).join(',');
    if (ids === failureIds) return;
    failureIds = ids;
    var box = $('failures');
    var items = failures.map(function (f) {
      var d = el('details');
      d.open = openFailures[f.id] === true;
      d.addEventListener('toggle', function () { openFailures[f.id] = d.open; });
      var s = el('summary');
      s.appendChild(el('span', 'tag', f._tag));
      s.appendChild(el('b', '', f.name));
      s.appendChild(document.createTextNode(' (' + f.pool + (f.key === undefined ? '' : ', ' + f.key) + ', attempt ' + f.attempt + ', ' + age(f.durationMillis) + ', ' + new Date(f.endedAt).toLocaleTimeString() + ') '));
      s.appendChild(el('span', 'msg', f.message));
      d.appendChild(s);
      if (f.annotations !== undefined) d.appendChild(el('pre', '', 'annotations ' + JSON.stringify(f.annotations, null, 2)));
      if (f.payload !== undefined) d.appendChild(el('pre', '', 'payload ' + JSON.stringify(f.payload, null, 2)));
      if (f.stack) d.appendChild(el('pre', '', f.stack));
      return d;
    });
    if (items.length === 0) items.push(el('div', 'empty', 'no failures'));
    box.replaceChildren.apply(box, items);
  }

  function connect() {
    retry = null;
    setStatus('connecting\\u2026', 'down');
    source = new EventSource('/events' + query);
    source.onmessage = function (e) { render(JSON.parse(e.data)); };
    source.onerror = function () {
      setStatus('reconnecting\\u2026', 'down');
      if (source.readyState === EventSource.CLOSED && retry === null) {
        source.close();
        retry = setTimeout(connect, 2000);
      }
    };
  }
  connect();
})();
`

const body = `<header><h1 id="name">supervisor</h1><span id="status">connecting…</span><span id="at"></span></header>
<main>
<section class="wide"><h2>Jobs</h2><div class="counts">${[
  "running",
  "queued",
  "delayed",
  "started",
  "succeeded",
  "failed",
  "interrupted",
  "timedOut",
  "dropped"
]
  .map((k) => `<div class="count ${k}"><b id="count-${k}">–</b><span>${k}</span></div>`)
  .join("")}</div></section>
<section><h2>Running and queued</h2><svg id="chart-activity"></svg>
<div class="legend"><span><i style-run></i>running</span><span><i style-queue></i>queued</span><span id="scale-activity"></span></div></section>
<section><h2>Throughput</h2><svg id="chart-throughput"></svg>
<div class="legend"><span><i style-ok></i>ended/s</span><span><i style-bad></i>failed/s</span><span><i style-int></i>interrupted/s</span><span id="scale-throughput"></span></div>
<div class="kv"><div>started <b id="rate-started">–</b></div><div>ended <b id="rate-ended">–</b></div><div>failed <b id="rate-failed">–</b></div><div></div>
<div>p50 <b id="d-p50">–</b></div><div>p90 <b id="d-p90">–</b></div><div>p99 <b id="d-p99">–</b></div><div>max <b id="d-max">–</b></div></div></section>
<section class="wide"><h2>Pools</h2><table><thead><tr><th>pool</th><th>running / limit</th><th>queued</th><th>held by</th><th>rate tokens</th><th>outcomes</th><th>running + queued</th></tr></thead><tbody id="pools"></tbody></table></section>
<section><h2>Running, oldest first</h2><table><thead><tr><th>job</th><th>pool</th><th>key</th><th>age</th><th>progress</th></tr></thead><tbody id="running"></tbody></table><div class="more"></div></section>
<section><h2>Queued</h2><table><thead><tr><th>job</th><th>pool</th><th>key</th><th>held by</th><th>waiting</th></tr></thead><tbody id="queued"></tbody></table><div class="more"></div></section>
<section class="wide"><h2>Recent failures</h2><div id="failures"><div class="empty">no failures</div></div></section>
</main>`
  // legend swatches: classes, since the policy allows no style attribute
  .replace(/<i style-(\w+)><\/i>/g, '<i class="swatch-$1"></i>')

const swatches = ["run", "queue", "ok", "bad", "int"].map((c) => `.swatch-${c}{background:var(--${c})}`).join("")

const fullStyle = style + swatches

/** The page, byte for byte as served. */
export const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>monitor</title><link rel="icon" href="data:,"><style>${fullStyle}</style></head>
<body data-updates="0">${body}<script>${script}</script></body></html>`

const sha = (text: string): string => `'sha256-${createHash("sha256").update(text).digest("base64")}'`

/** The page's response headers: its type, no caching, and a policy that allows only itself. */
export const pageHeaders: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "content-security-policy": [
    "default-src 'none'",
    `script-src ${sha(script)}`,
    `style-src ${sha(fullStyle)}`,
    "connect-src 'self'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'"
  ].join("; ")
}
