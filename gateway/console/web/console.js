// Sluice web console: a read-only view of one gateway, drawn from the admin
// API (/v1/status, /v1/sources, /v1/series, /v1/partitions). No framework:
// the DOM is built with textContent only (series names and error texts come
// from the plant network and are never parsed as HTML), and the strict
// Content-Security-Policy the admin endpoint sends allows nothing inline.
//
// The token (admin.token_file) lives in this tab's sessionStorage and goes
// with every API call as "Authorization: Bearer". A 401 anywhere shows the
// login page. The console never sends anything but GET.
//
// `?freeze` in the URL loads each page once and stops updating, so that a
// test can compare what is shown with the very answer it was drawn from;
// window.sluiceConsole holds those answers and the data given to the chart.
'use strict';
(() => {
  const TOKEN_KEY = 'sluice.admin.token';
  const REFRESH_MS = 2000;
  const RAW_POINTS = 5000;  // a chart asks for raw records up to this many,
  const BUCKETS = 1000;     // else for this many min/max/last buckets
  const RATE_HISTORY = 300; // overview's rate chart: the last 300 updates

  const frozen = new URLSearchParams(location.search).has('freeze');
  const exposed = (window.sluiceConsole = {
    frozen, page: null, status: null, sources: null, partitions: null, seriesList: null,
    series: null, latest: null, chart: null, format: null,
  });
  const st = { token: sessionStorage.getItem(TOKEN_KEY) || '', timer: null, gen: 0, rates: [] };

  class AuthError extends Error {}

  // ---- formatting -------------------------------------------------------
  const nf = new Intl.NumberFormat('en-US');
  const fmt = {
    int: (v) => (v == null ? '—' : nf.format(v)),
    num: (v) => (v == null ? '—' : nf.format(Math.round(v * 100) / 100)),
    rate: (v) => (v == null ? '—' : nf.format(Math.round(v * 10) / 10) + ' /s'),
    ms: (v) => (v == null ? '—' : (v < 1 ? v.toFixed(3) : v.toFixed(1)) + ' ms'),
    pct: (v) => (v == null ? '—' : v.toFixed(1) + ' %'),
    bytes: (v) => {
      if (v == null) return '—';
      const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
      let x = Number(v), i = 0;
      while (x >= 1024 && i < units.length - 1) { x /= 1024; ++i; }
      return (i === 0 ? String(x) : x.toFixed(1)) + ' ' + units[i];
    },
    secs: (v) => {
      if (v == null) return '—';
      let s = Math.round(Number(v));
      const neg = s < 0; s = Math.abs(s);
      const parts = [];
      for (const [n, u] of [[86400, 'd'], [3600, 'h'], [60, 'min']]) {
        if (s >= n) { parts.push(Math.floor(s / n) + ' ' + u); s %= n; }
      }
      if (s || !parts.length) parts.push(s + ' s');
      return (neg ? '-' : '') + parts.slice(0, 2).join(' ');
    },
    time: (ns) => (ns == null || Number(ns) === 0 ? 'never'
      : new Date(Number(ns) / 1e6).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC')),
    bool: (v) => (v == null ? '—' : v ? 'yes' : 'no'),
    text: (v) => (v == null || v === '' ? '—' : String(v)),
    list: (v) => (Array.isArray(v) && v.length ? v.map(String).join('; ') : 'none'),
  };
  exposed.format = fmt;
  // Leaves of unknown fields: the best guess from the name, else as is.
  function guessFormat(key, v) {
    if (typeof v === 'boolean') return 'bool';
    if (typeof v !== 'number') return 'text';
    if (/_bytes$/.test(key)) return 'bytes';
    if (/_ns$/.test(key) && v > 1e17) return 'time';
    if (/(_s|_seconds)$/.test(key)) return 'secs';
    if (/_ms$/.test(key)) return 'ms';
    if (/_per_s$/.test(key)) return 'rate';
    return Number.isInteger(v) ? 'int' : 'num';
  }

  // ---- DOM helpers ------------------------------------------------------
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid == null || kid === false) continue;
      el.append(kid instanceof Node ? kid : String(kid));
    }
    return el;
  }
  const get = (obj, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
  // One figure: the value at `path` of `doc`, formatted. data-field and
  // data-format let a test recompute what the cell must say.
  function fig(doc, path, format, cls) {
    const v = get(doc, path);
    return h('span', { class: cls, 'data-field': path, 'data-format': format }, fmt[format](v));
  }
  function kv(rows) {
    return h('dl', { class: 'kv' }, rows.filter(Boolean).map(([label, node]) => [h('dt', {}, label), h('dd', {}, node)]));
  }
  function card(title, ...body) { return h('section', { class: 'card' }, h('h2', {}, title), body); }
  // Every leaf of `obj` not in `shown`, so that the console hides nothing
  // the gateway reports, even fields newer than this page.
  function rest(doc, prefix, shown) {
    const rows = [];
    const walk = (o, p) => {
      for (const [k, v] of Object.entries(o || {})) {
        const path = p ? p + '.' + k : k;
        if (shown.has(path)) continue;
        if (v && typeof v === 'object' && !Array.isArray(v)) walk(v, path);
        else if (Array.isArray(v)) rows.push([path, fig(doc, path, 'list')]);
        else rows.push([path, fig(doc, path, guessFormat(k, v))]);
      }
    };
    walk(prefix ? get(doc, prefix) : doc, prefix);
    if (!rows.length) return null;
    return h('details', {}, h('summary', { class: 'muted' }, 'all fields (' + rows.length + ')'), kv(rows.map(([p, n]) => [p.slice(prefix ? prefix.length + 1 : 0), n])));
  }
  function table(head, rows, opts = {}) {
    return h('table', { class: opts.class },
      h('thead', {}, h('tr', {}, head.map(([t, num]) => h('th', { class: num ? 'num' : null }, t)))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: head.length, class: 'muted' }, opts.empty || 'none'))));
  }
  const td = (node, num) => h('td', { class: num ? 'num' : null }, node);
  const okBad = (ok, yes, no) => h('span', { class: ok ? 'state-ok' : 'state-bad' }, ok ? yes : no);

  // ---- API --------------------------------------------------------------
  async function api(path) {
    const headers = {};
    if (st.token) headers.Authorization = 'Bearer ' + st.token;
    const res = await fetch(path, { headers, cache: 'no-store', credentials: 'omit' });
    if (res.status === 401) throw new AuthError(st.token ? 'That token was not accepted.' : 'This gateway needs its admin token.');
    const text = await res.text();
    let body;
    try { body = JSON.parse(text); } catch (e) { throw new Error(path + ': the answer is not JSON'); }
    if (!res.ok) throw new Error(body.error || path + ': HTTP ' + res.status);
    return body;
  }
  // Nanoseconds since the epoch as an exact decimal, from milliseconds.
  const nsOf = (ms) => (BigInt(Math.round(ms)) * 1000000n).toString();

  // ---- pages ------------------------------------------------------------
  const view = () => document.getElementById('view');
  function setState(s) { document.body.dataset.state = s; }
  function show(page, node) {
    const v = view();
    v.replaceChildren(node);
    v.dataset.page = page;
    setState('ready');
  }
  function showError(err) {
    view().replaceChildren(h('section', { class: 'card' }, h('h2', {}, 'Cannot load this page'), h('p', { class: 'error' }, String(err.message || err))));
    setState('error');
  }
  function liveNote(text) { document.getElementById('live').textContent = text; }

  function overview(s) {
    const hl = s.health || {};
    const shown = new Set();
    const F = (path, format, cls) => { shown.add(path); return fig(s, path, format, cls); };
    const st_ = s.store || {};
    const used = Number(st_.disk_used_bytes || 0), budget = Number(st_.disk_budget_bytes || 0);
    const fill = h('div', { class: 'bar', title: 'disk used against the budget; the mark is the high watermark' }, h('div', { class: 'fill' }), h('div', { class: 'mark' }));
    if (budget > 0) {
      fill.firstChild.style.width = Math.min(100, (100 * used) / budget) + '%';
      fill.lastChild.style.left = Math.min(100, (100 * Number(st_.high_watermark_bytes || 0)) / budget) + '%';
    }
    const byReason = (path) => {
      const o = get(s, path);
      if (!o || typeof o !== 'object') return null;
      const keys = Object.keys(o).filter((k) => o[k]);
      shown.add(path);
      for (const k of Object.keys(o)) shown.add(path + '.' + k);
      return keys.length ? h('span', {}, keys.map((k, i) => [i ? ', ' : '', k + ' ', F(path + '.' + k, 'int')])) : h('span', { class: 'muted' }, 'none');
    };
    const errors = Array.isArray(s.last_errors) ? s.last_errors : [];
    shown.add('last_errors');
    const known = new Set(['gateway', 'site', 'version', 'now_ns', 'uptime_s', 'started_ns', 'board', 'health',
      'records_stored', 'messages_in', 'series', 'write_buffer', 'io_engine', 'segment_bytes', 'ingest',
      'ack_latency', 'store', 'clock', 'sync', 'partitions', 'mqtt', 'endpoint', 'last_errors', 'stream']);
    const sm = s.stream;
    const streamCard = sm && typeof sm === 'object' ? card('Stream to Kafka',
      kv([
        ['running', F('stream.running', 'bool')],
        ['topic', [F('stream.topic', 'text'), ' as ', F('stream.format', 'text')]],
        ['delivered', F('stream.records_delivered', 'int')],
        ['backlog', [F('stream.backlog_records', 'int'), ' records, ', F('stream.backlog_bytes', 'bytes')]],
        ['oldest undelivered', F('stream.oldest_age_s', 'secs')],
        ['brokers down', F('stream.brokers_down', 'bool', sm.brokers_down ? 'state-bad' : null)],
        ['delivery errors', F('stream.delivery_errors_total', 'int', sm.delivery_errors_total ? 'state-warn' : null)],
        ['lost', F('stream.lost_records', 'int', sm.lost_records ? 'state-bad' : null)],
        ['ack to delivery p50', [F('stream.latency_p50_us', 'int'), ' us']],
        ['ack to delivery p99', [F('stream.latency_p99_us', 'int'), ' us']],
        ['last error', F('stream.last_error', 'text')],
      ]),
      rest(s, 'stream', shown)) : null;
    const others = Object.keys(s).filter((k) => !known.has(k) && s[k] && typeof s[k] === 'object');
    const rateChart = h('div', { id: 'rate-chart' });
    const cards = [
      card('Health',
        kv([
          ['live', h('span', { id: 'live-state', class: hl.healthy ? 'state-ok' : 'state-bad' }, hl.healthy ? 'healthy' : ['unhealthy: ', F('health.unhealthy_reason', 'text')])],
          ['ready', h('span', { id: 'ready-state', class: hl.ready ? 'state-ok' : 'state-bad' }, hl.ready ? 'ready' : ['not ready: ', F('health.unready_reason', 'text')])],
          ['warnings', F('health.warnings', 'list', (hl.warnings || []).length ? 'state-warn' : 'muted')],
          ['board', [F('board.profile', 'text'), ' ', h('span', { class: 'muted' }, F('board.reason', 'text'))]],
          ['gateway', [F('gateway', 'text'), ' at site ', F('site', 'text')]],
          ['version', F('version', 'text')],
          ['up for', F('uptime_s', 'secs')],
        ]),
        rest(s, 'health', new Set(['health.healthy', 'health.ready', 'health.unhealthy_reason', 'health.unready_reason', 'health.warnings'])),
        rest(s, 'board', new Set(['board.profile', 'board.reason']))),
      card('Ingest',
        h('div', { class: 'big' }, F('ingest.rate_records_per_s', 'rate')),
        h('div', { class: 'muted' }, 'records stored per second (last 10 s); messages ', F('ingest.rate_messages_per_s', 'rate')),
        rateChart,
        kv([
          ['records stored', F('ingest.records_stored', 'int')],
          ['messages in', F('ingest.messages_in', 'int')],
          ['series', F('series', 'int')],
          ['pressure', F('ingest.pressure', 'text', s.ingest && s.ingest.pressure !== 'open' ? 'state-warn' : null)],
          ['durable ack p50', F('ack_latency.p50_ms', 'ms')],
          ['durable ack p99', F('ack_latency.p99_ms', 'ms')],
          ['acks in window', [F('ack_latency.count', 'int'), ' in the last ', F('ack_latency.window_s', 'secs')]],
        ]),
        rest(s, 'ack_latency', shown)),
      card('Sheds and drops',
        kv([
          ['shed', F('ingest.shed', 'int')],
          ['shed by reason', byReason('ingest.shed_by_reason')],
          ['malformed', F('ingest.malformed', 'int')],
          ['malformed by reason', byReason('ingest.malformed_by_reason')],
          ['unmatched (no rule)', F('ingest.unmatched', 'int')],
          ['records dropped', F('ingest.records_dropped', 'int')],
          s.ingest && s.ingest.dropped_by_reason ? ['dropped by reason', byReason('ingest.dropped_by_reason')] : null,
          ['refused: store full', F('store.rejected_full', 'int')],
          ['refused: no space', F('store.rejected_no_space', 'int')],
        ]),
        rest(s, 'ingest', shown)),
      card('Store',
        h('div', {}, F('store.disk_used_bytes', 'bytes', 'big'),
          budget > 0 ? [' of ', F('store.disk_budget_bytes', 'bytes'), ' budget']
            : [' used (disk budget ', h('span', { 'data-field': 'store.disk_budget_bytes', 'data-format': 'int' }, fmt.int(st_.disk_budget_bytes)), ': none set; the file system bounds it)']),
        fill,
        kv([
          ['high watermark', F('store.high_watermark_bytes', 'bytes')],
          ['file system free', [F('store.fs_free_bytes', 'bytes'), ' of ', F('store.fs_total_bytes', 'bytes')]],
          ['full', st_.full ? h('span', { class: 'state-bad' }, 'yes: ', F('store.full_reason', 'text')) : [F('store.full', 'bool')]],
          ['low space', F('store.low_space', 'bool', st_.low_space ? 'state-warn' : null)],
          ['write buffer', [F('write_buffer', 'text'), ', ', F('store.write_buffer_bytes', 'bytes')]],
          ['io engine', F('io_engine', 'text')],
          ['records', F('store.records', 'int')],
          ['segments', F('store.segment_bytes', 'bytes')],
          ['quarantined blocks', F('store.quarantined_blocks', 'int', st_.quarantined_blocks ? 'state-bad' : null)],
          ['evicted records', F('store.evicted_records', 'int', st_.evicted_records ? 'state-bad' : null)],
        ]),
        rest(s, 'store', shown)),
      card('Sync upstream',
        kv([
          ['running', F('sync.running', 'bool')],
          ['backlog', [F('sync.backlog_partitions', 'int'), ' partitions, ', F('sync.backlog_bytes', 'bytes')]],
          ['oldest unsynced', F('sync.oldest_unsynced_age_s', 'secs')],
          ['uploaded', [F('sync.uploaded_objects', 'int'), ' objects, ', F('sync.uploaded_bytes', 'bytes')]],
          ['last success', F('sync.last_success_ns', 'time')],
          ['failures in a row', F('sync.consecutive_failures', 'int', s.sync && s.sync.consecutive_failures ? 'state-warn' : null)],
          ['parked', F('sync.parked_partitions', 'int', s.sync && s.sync.parked_partitions ? 'state-bad' : null)],
          ['complete up to', F('sync.watermark_ns', 'time')],
          ['watermark lag', F('sync.watermark_lag_s', 'secs')],
          ['late records', F('sync.watermark_late_records', 'int')],
        ]),
        rest(s, 'sync', shown)),
      streamCard,
      card('Partitions',
        kv(Object.keys(s.partitions || {}).map((k) => [k, F('partitions.' + k, 'int')])),
        h('p', {}, h('a', { href: '#/partitions' }, 'all partitions'))),
      card('Connections',
        kv([
          ['brokers up', [F('mqtt.connected', 'int'), ' of ', F('mqtt.configured', 'int')]],
          ['broker connections lost', F('mqtt.connections_lost', 'int')],
          ['endpoint', F('endpoint.enabled', 'bool')],
          ['endpoint connections', F('endpoint.connections', 'int')],
          ['clock steps', [F('clock.jumps_forward', 'int'), ' forward, ', F('clock.jumps_backward', 'int'), ' back']],
        ]),
        rest(s, 'mqtt', shown), rest(s, 'endpoint', shown), rest(s, 'clock', shown),
        h('p', {}, h('a', { href: '#/sources' }, 'sources'))),
      h('section', { class: 'card wide' }, h('h2', {}, 'Last errors'),
        errors.length
          ? h('ul', { class: 'errors' }, errors.map((e, i) => h('li', {},
            h('span', { class: 'muted', 'data-field': 'last_errors.' + i + '.at_ns', 'data-format': 'time' }, fmt.time(e.at_ns)), ' ',
            h('b', { 'data-field': 'last_errors.' + i + '.where', 'data-format': 'text' }, fmt.text(e.where)), ': ',
            h('span', { 'data-field': 'last_errors.' + i + '.message', 'data-format': 'text' }, fmt.text(e.message)))))
          : h('p', { class: 'muted' }, 'none')),
      // Sections this page does not know yet (a newer gateway's): every leaf.
      others.map((k) => card(k, rest(s, k, new Set()))),
    ];
    const node = h('div', { class: 'grid' }, cards);
    return { node, after: () => drawRates(rateChart) };
  }

  // Axis labels that fit: 11600 -> "11.6k".
  const compact = (v) => (Math.abs(v) >= 1e6 ? (v / 1e6).toFixed(1) + 'M' : Math.abs(v) >= 1e3 ? (v / 1e3).toFixed(1) + 'k' : String(v));
  let rateplot = null;
  function drawRates(el) {
    if (rateplot) { rateplot.destroy(); rateplot = null; }
    if (st.rates.length < 2 || typeof uPlot === 'undefined') return;
    const data = [st.rates.map((r) => r[0]), st.rates.map((r) => r[1])];
    rateplot = new uPlot({
      width: Math.max(200, el.clientWidth), height: 90, legend: { show: false }, cursor: { show: false },
      axes: [{ show: false }, { size: 60, values: (u, splits) => splits.map(compact) }], scales: { x: { time: true } },
      series: [{}, { stroke: '#1d4e89', width: 1.5, fill: 'rgba(29,78,137,.08)' }],
    }, data, el);
  }

  function sources(d) {
    const ep = d.endpoint || {};
    const brokers = (d.brokers || []).map((b) => h('tr', {},
      td(b.index), td(b.uri), td(b.client_id), td(okBad(b.connected, 'up', 'down')),
      td(fmt.int(b.messages), true), td(fmt.int(b.connects), true), td(fmt.int(b.connect_failures), true),
      td(fmt.int(b.connections_lost), true), td((b.subscriptions || []).join(', ')), td(fmt.text(b.last_error))));
    const conns = (ep.connections || []).map((c) => h('tr', {},
      td(c.client_id), td(c.peer), td(c.protocol), td(fmt.bool(c.tls)), td(fmt.time(c.connected_ns)), td(fmt.int(c.publishes), true)));
    const rules = (d.rules || []).map((r) => h('tr', {},
      td(r.index), td(r.topic), td(r.format), td(r.priority), td(fmt.int(r.matched), true),
      td(fmt.int(r.malformed), true), td(fmt.int(r.samples), true)));
    return {
      node: h('div', {},
        h('section', { class: 'card wide' }, h('h2', {}, 'Broker connections'),
          table([['#'], ['broker'], ['client id'], ['state'], ['messages', 1], ['connects', 1], ['failed', 1], ['lost', 1], ['subscriptions'], ['last error']], brokers, { empty: 'no broker configured', class: 'brokers' })),
        h('section', { class: 'card wide' }, h('h2', {}, 'Native endpoint'),
          kv([
            ['enabled', fmt.bool(ep.enabled)],
            ['listening on', ep.enabled ? (ep.address + ':' + ep.port) : '—'],
            ['TLS', fmt.bool(ep.tls)],
            ['clients authenticated by', fmt.text(ep.auth)],
            ['connections', fmt.int(ep.connections_total != null ? ep.connections_total : (ep.connections || []).length)],
          ]),
          table([['client id'], ['peer'], ['MQTT'], ['TLS'], ['connected since'], ['publishes', 1]], conns, { empty: 'no client connected', class: 'connections' })),
        h('section', { class: 'card wide' }, h('h2', {}, 'Rules'),
          table([['#'], ['topic filter'], ['format'], ['priority'], ['matched', 1], ['malformed', 1], ['samples', 1]], rules, { class: 'rules' }),
          h('p', {}, 'messages no rule matched: ', h('b', { 'data-field': 'unmatched' }, fmt.int(d.unmatched))))),
    };
  }

  const STATES = ['all', 'open', 'sealed', 'synced', 'reclaimed'];
  function partitions(d, q) {
    const chosen = q.get('state') || 'all';
    const rows = (d.partitions || []).map((p) => h('tr', {},
      td(p.id), td(fmt.time(p.window_start_ns)), td(fmt.secs(p.window_ns / 1e9)), td(p.state),
      td(fmt.int(p.records), true), td(fmt.int(p.blocks), true), td(fmt.bytes(p.bytes), true),
      td(p.records ? fmt.time(p.t_min_ns) + ' .. ' + fmt.time(p.t_max_ns) : '—'),
      td(p.upload ? [p.upload.state, p.upload.attempts ? ' (' + p.upload.attempts + ' attempts)' : '', p.upload.last_error ? ': ' + p.upload.last_error : ''] : '—')));
    const counts = d.counts || {};
    return {
      node: h('div', {},
        h('div', { class: 'toolbar' }, STATES.map((s) => h('button', {
          type: 'button', class: s === chosen ? 'on' : null,
          onclick: () => { location.hash = '#/partitions' + (s === 'all' ? '' : '?state=' + s); },
        }, s + (s === 'all' ? ' (' + fmt.int(d.total) + ')' : ' (' + fmt.int(counts[s] || 0) + ')')))),
        table([['partition'], ['window start'], ['window'], ['state'], ['records', 1], ['blocks', 1], ['size', 1], ['record times'], ['upload']], rows, { empty: 'no partitions', class: 'partitions' }),
        d.next_after != null ? h('p', { class: 'muted' }, 'showing the newest ' + rows.length + ' of ' + fmt.int(chosen === 'all' ? d.total : counts[chosen]) + '.') : null),
    };
  }

  // ---- series browser ---------------------------------------------------
  const RANGES = [['5 min', 300], ['1 h', 3600], ['6 h', 21600], ['24 h', 86400], ['7 d', 604800], ['31 d', 2678400]];
  let chartplot = null;

  async function seriesPage(q, gen) {
    const search = q.get('q') || '';
    const glob = /[*?[]/.test(search);
    const list = await api('/v1/series?limit=500&' + (glob ? 'glob=' : 'prefix=') + encodeURIComponent(search));
    if (gen !== st.gen) return null;
    exposed.seriesList = list;
    const name = q.get('name');
    const input = h('input', { type: 'search', id: 'series-search', value: search, placeholder: 'prefix, or glob such as plant/*/temp', 'aria-label': 'search series' });
    const go = () => { const p = new URLSearchParams(q); p.set('q', input.value); p.delete('name'); location.hash = '#/series?' + p; };
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') go(); });
    const rows = (list.series || []).map((s) => h('tr', {
      class: 'pick' + (s.name === name ? ' chosen' : ''), 'data-series': s.name,
      onclick: () => { const p = new URLSearchParams(q); p.set('name', s.name); p.delete('from'); p.delete('to'); location.hash = '#/series?' + p; },
    }, td(s.name), td(s.type), td(s.unit || '')));
    const left = h('div', {},
      h('div', { class: 'toolbar' }, input, h('button', { type: 'button', onclick: go }, 'Search')),
      h('p', { class: 'muted' }, fmt.int(list.total) + ' series' + (list.next_after != null ? ', the first ' + rows.length + ' shown' : '')),
      h('div', { class: 'list' }, table([['series'], ['type'], ['unit']], rows, { empty: 'no series match', class: 'series' })));
    const right = h('div', { class: 'card' });
    const node = h('div', { class: 'split' }, left, right);
    if (!name) {
      right.append(h('p', { class: 'muted' }, 'Pick a series to chart it.'));
      return { node };
    }
    await chartInto(right, name, q, gen);
    return { node, after: () => drawChart() };
  }

  let pendingChart = null;
  async function chartInto(el, name, q, gen) {
    const base = '/v1/series/' + encodeURIComponent(name);
    const now = Date.now();
    const range = Number(q.get('range') || 3600);
    const toMs = q.get('to') ? Number(q.get('to')) : now;
    const fromMs = q.get('from') ? Number(q.get('from')) : toMs - range * 1000;
    const latest = await api(base + '/latest');
    const span = 'from=' + nsOf(fromMs) + '&to=' + nsOf(toMs);
    let body = await api(base + '?' + span + '&limit=' + RAW_POINTS);
    let mode = 'raw';
    if (body.next_from != null) {
      body = await api(base + '?' + span + '&max_points=' + BUCKETS);
      mode = 'buckets';
    }
    if (gen !== st.gen) return;
    exposed.latest = latest;
    exposed.series = body;
    const type = body.type, unit = body.unit || '';
    const numeric = type !== 'bytes';
    const val = (v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v);
    let data = null, series = null;
    if (numeric && mode === 'raw') {
      data = [body.points.map((p) => p[0] / 1e9), body.points.map((p) => val(p[1]))];
      series = [{}, { label: name, stroke: '#1d4e89', width: 1.5, points: { show: body.points.length < 200 } }];
    } else if (numeric) {
      const b = body.buckets;
      data = [b.map((x) => x[5] / 1e9), b.map((x) => x[3]), b.map((x) => x[1]), b.map((x) => x[2])];
      series = [{}, { label: 'last', stroke: '#1d4e89', width: 1.5 },
        { label: 'min', stroke: '#8fb3de', width: 1 }, { label: 'max', stroke: '#8fb3de', width: 1 }];
    }
    exposed.chart = { name, mode, data, plot: null };
    const lv = latest.latest;
    const rangeButtons = RANGES.map(([label, secs]) => h('button', {
      type: 'button', class: !q.get('from') && range === secs ? 'on' : null,
      onclick: () => { const p = new URLSearchParams(q); p.set('range', secs); p.delete('from'); p.delete('to'); location.hash = '#/series?' + p; },
    }, label));
    el.append(
      h('h2', { class: 'name' }, name),
      kv([
        ['latest', lv ? h('span', { class: 'big', id: 'latest-value' }, type === 'bytes' ? lv.value : String(lv.value), unit ? ' ' + unit : '') : h('span', { class: 'muted' }, 'no record')],
        ['at', lv ? fmt.time(lv.timestamp_ns) : '—'],
        ['type', type + (unit ? ', unit ' + unit : '')],
        ['range', fmt.time(body.from_ns) + ' .. ' + fmt.time(body.to_ns)],
        ['shown', mode === 'raw' ? fmt.int(body.points.length) + ' records'
          : fmt.int(body.records) + ' records in ' + fmt.int(body.buckets.length) + ' buckets of ' + fmt.secs(body.bucket_ns / 1e9) + ' (min, max, last)'],
      ]),
      h('div', { class: 'toolbar' }, rangeButtons,
        h('span', { class: 'muted' }, 'drag across the chart to zoom in')),
      numeric ? h('div', { id: 'chart' }) : h('p', { class: 'muted' }, 'bytes values are not charted; the latest is shown above (base64).'));
    pendingChart = numeric ? { name, data, series, unit, q } : null;
  }

  function drawChart() {
    if (chartplot) { chartplot.destroy(); chartplot = null; }
    const el = document.getElementById('chart');
    if (!pendingChart || !el || typeof uPlot === 'undefined') return;
    const { data, series, unit, q } = pendingChart;
    chartplot = new uPlot({
      width: Math.max(300, el.clientWidth), height: 360,
      scales: { x: { time: true } },
      axes: [{}, { label: unit, size: 60 }],
      series,
      cursor: { drag: { x: true, y: false, setScale: false } },
      hooks: {
        setSelect: [(u) => {
          if (u.select.width < 2) return;
          const lo = u.posToVal(u.select.left, 'x'), hi = u.posToVal(u.select.left + u.select.width, 'x');
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          const p = new URLSearchParams(q);
          p.set('from', Math.floor(lo * 1000)); p.set('to', Math.ceil(hi * 1000));
          location.hash = '#/series?' + p;
        }],
      },
    }, data, el);
    exposed.chart.plot = chartplot;
  }

  // ---- router -----------------------------------------------------------
  const PAGES = {
    overview: { load: () => api('/v1/status'), key: 'status', render: overview, live: true },
    sources: { load: () => api('/v1/sources'), key: 'sources', render: sources, live: true },
    partitions: {
      load: (q) => api('/v1/partitions?limit=500' + (q.get('state') ? '&state=' + encodeURIComponent(q.get('state')) : '')),
      key: 'partitions', render: partitions, live: true,
    },
    series: { custom: seriesPage, live: false },
  };

  function parseHash() {
    const m = location.hash.match(/^#\/([a-z]+)(?:\?(.*))?$/);
    const page = m && PAGES[m[1]] ? m[1] : 'overview';
    return { page, q: new URLSearchParams((m && m[2]) || '') };
  }

  async function render() {
    clearTimeout(st.timer);
    const gen = ++st.gen;
    const { page, q } = parseHash();
    exposed.page = page;
    for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === page);
    const p = PAGES[page];
    if (view().dataset.page !== page) setState('loading');
    try {
      let out;
      if (p.custom) {
        out = await p.custom(q, gen);
      } else {
        const d = await p.load(q);
        if (gen !== st.gen) return;
        exposed[p.key] = d;
        if (page === 'overview') noteRate(d);
        out = p.render(d, q);
      }
      if (!out || gen !== st.gen) return;
      show(page, out.node);
      if (out.after) out.after();
      liveNote(frozen ? 'frozen (?freeze)' : p.live ? 'live · ' + new Date().toLocaleTimeString() : '');
      if (exposed.status) document.getElementById('whoami').textContent = exposed.status.gateway + ' @ ' + exposed.status.site;
    } catch (e) {
      if (gen !== st.gen) return;
      if (e instanceof AuthError) { showLogin(e.message); return; }
      showError(e);
      liveNote('update failed · retrying');
    }
    if (!frozen && p.live && gen === st.gen) st.timer = setTimeout(render, REFRESH_MS);
  }

  function noteRate(s) {
    const r = s.ingest && s.ingest.rate_records_per_s;
    if (typeof r !== 'number' || typeof s.now_ns !== 'number') return;
    const t = s.now_ns / 1e9;
    if (st.rates.length && st.rates[st.rates.length - 1][0] >= t) return;
    st.rates.push([t, r]);
    if (st.rates.length > RATE_HISTORY) st.rates.shift();
  }

  // ---- login ------------------------------------------------------------
  function showLogin(message) {
    clearTimeout(st.timer);
    ++st.gen;
    if (st.token) { st.token = ''; sessionStorage.removeItem(TOKEN_KEY); }
    document.getElementById('nav').hidden = true;
    document.getElementById('signout').hidden = true;
    view().replaceChildren();
    delete view().dataset.page;
    document.getElementById('login').hidden = false;
    document.getElementById('login-error').textContent = message || '';
    document.getElementById('token').focus();
    setState('login');
  }

  function enter() {
    document.getElementById('login').hidden = true;
    document.getElementById('nav').hidden = false;
    document.getElementById('signout').hidden = !st.token;
    render();
  }

  async function signIn(e) {
    e.preventDefault();
    const input = document.getElementById('token');
    st.token = input.value.trim();
    input.value = '';
    setState('loading');
    try {
      await api('/v1/status');
    } catch (err) {
      if (err instanceof AuthError) { showLogin(err.message); return; }
      document.getElementById('login-error').textContent = String(err.message || err);
      setState('login');
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, st.token);
    enter();
  }

  function start() {
    document.getElementById('login-form').addEventListener('submit', signIn);
    document.getElementById('signout').addEventListener('click', () => showLogin('Signed out.'));
    window.addEventListener('hashchange', () => { if (document.body.dataset.state !== 'login') render(); });
    window.addEventListener('resize', () => {
      const c = document.getElementById('chart');
      if (chartplot && c) chartplot.setSize({ width: Math.max(300, c.clientWidth), height: 360 });
    });
    enter();
  }

  start();
})();
