// Drives a real browser (Debian's chromium, headless, through puppeteer-core
// and the Chrome DevTools Protocol) through a running gateway's web console
// and checks what it shows against the API answers the page was drawn from.
//
//   node check.mjs --url http://127.0.0.1:PORT --token-file FILE --out DIR
//                  [--series NAME] [--dense NAME] [--chromium PATH] [--insecure]
//
// Every page is opened with ?freeze (loaded once, no live updates), and every
// /v1/ answer the browser receives is captured off the wire, so the figures
// on screen are compared with the very JSON they were rendered from:
//   - login: no token and a wrong token both give the login page and no data;
//     the right token gets the overview, and the token sits in sessionStorage
//     (not localStorage, not a cookie);
//   - overview: every figure (elements with data-field) equals the formatter
//     applied to the captured /v1/status value at that path; integers are
//     also checked digit for digit here, independently of the page;
//   - sources and partitions: table rows equal the captured answers;
//   - series: prefix and glob search; the chart of a series holds exactly the
//     points of the captured /v1/series answer, both as handed to uPlot and
//     as uPlot holds them; a dense series is charted from min/max/last
//     buckets; a drag across the chart loads the zoomed range;
//   - no console error or warning, page error, failed request or
//     Content-Security-Policy violation once signed in; every page carries a
//     Content-Security-Policy header.
// Screenshots of each page go to --out. Prints "ok: ..." lines; exits 1 with
// "FAIL: ..." on the first failed check.
import puppeteer from 'puppeteer-core';
import fs from 'node:fs';
import path from 'node:path';

const args = {};
for (let i = 2; i < process.argv.length; ++i) {
  const a = process.argv[i];
  if (!a.startsWith('--')) throw new Error('unexpected argument ' + a);
  const key = a.slice(2);
  if (key === 'insecure') args.insecure = true;
  else args[key] = process.argv[++i];
}
const base = (args.url || '').replace(/\/$/, '');
if (!base || !args['token-file'] || !args.out) {
  console.error('usage: node check.mjs --url URL --token-file FILE --out DIR [--series NAME] [--dense NAME]');
  process.exit(2);
}
const token = fs.readFileSync(args['token-file'], 'utf8').trim();
fs.mkdirSync(args.out, { recursive: true });

function fail(msg) {
  console.error('FAIL: ' + msg);
  process.exit(1);
}
function check(cond, msg) {
  if (!cond) fail(msg);
}
function ok(msg) {
  console.log('ok: ' + msg);
}
const get = (obj, p) => p.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);

const browser = await puppeteer.launch({
  executablePath: args.chromium || '/usr/bin/chromium',
  headless: true,
  // --no-sandbox: CI runs as root, where chromium's sandbox cannot start.
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
    '--hide-scrollbars', ...(args.insecure ? ['--ignore-certificate-errors'] : [])],
  defaultViewport: { width: 1280, height: 900 },
});
const timer = setTimeout(() => fail('timed out after 120 s'), 120_000);

// Everything the browser says that a user would call an error.
function watch(page, sink) {
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn' || m.type() === 'warning') {
      sink.push('console ' + m.type() + ': ' + m.text() + ' ' + JSON.stringify(m.location()));
    }
  });
  page.on('pageerror', (e) => sink.push('page error: ' + e.message));
  page.on('requestfailed', (r) => sink.push('request failed: ' + r.url() + ' ' + (r.failure() || {}).errorText));
  page.on('response', (r) => {
    if (r.status() >= 400) sink.push('HTTP ' + r.status() + ' for ' + r.url());
  });
}
// The latest answer to each /v1/ path (with query), as received.
function capture(page) {
  const seen = new Map();
  page.on('response', async (r) => {
    const u = new URL(r.url());
    if (!u.pathname.startsWith('/v1/') || r.request().method() !== 'GET') return;
    try {
      seen.set(u.pathname + u.search, { status: r.status(), text: await r.text() });
    } catch (e) { /* a navigation dropped the body */ }
  });
  return seen;
}
function latest(seen, prefix) {
  let found = null;
  for (const [k, v] of seen) if (k.startsWith(prefix)) found = { key: k, ...v };
  return found;
}
async function waitReady(page, name) {
  await page.waitForFunction((n) => document.body.dataset.state === 'ready' &&
    document.getElementById('view').dataset.page === n, { timeout: 20_000 }, name);
  // Let the capture handlers finish reading bodies.
  await new Promise((r) => setTimeout(r, 200));
}
async function shot(page, name) {
  const file = path.join(args.out, name + '.png');
  await page.screenshot({ path: file, fullPage: true });
  ok('screenshot ' + file);
}

// ---- 1. login: no token, wrong token, right token -------------------------
{
  const page = await browser.newPage();
  const noise = [];
  watch(page, noise);
  const res = await page.goto(base + '/?freeze#/overview', { waitUntil: 'load' });
  const csp = res.headers()['content-security-policy'] || '';
  check(/default-src 'none'/.test(csp) && /script-src 'self'/.test(csp),
    'the console page has no strict Content-Security-Policy: ' + JSON.stringify(csp));
  ok('console page served with Content-Security-Policy: ' + csp);
  await page.waitForFunction(() => document.body.dataset.state === 'login', { timeout: 20_000 });
  check(await page.$eval('#nav', (n) => n.hidden), 'navigation visible before sign-in');
  check((await page.$eval('#view', (v) => v.textContent.trim())) === '', 'data shown before sign-in');
  ok('no token: login page, nothing else shown');
  await shot(page, 'login');

  await page.type('#token', 'not-the-token-' + 'x'.repeat(20));
  await page.click('#login-form button[type=submit]');
  await page.waitForFunction(() => document.body.dataset.state === 'login' &&
    /not accepted/.test(document.getElementById('login-error').textContent), { timeout: 20_000 });
  check(await page.evaluate(() => sessionStorage.length === 0), 'a refused token was kept');
  ok('wrong token typed: login page again, "not accepted", token not kept');
  // The only complaints allowed before sign-in: the 401s the login is about.
  const unexpected = noise.filter((n) => !/\b401\b/.test(n));
  check(unexpected.length === 0, 'before sign-in: ' + unexpected.join(' | '));
  await page.close();
}
{
  const page = await browser.newPage();
  await page.evaluateOnNewDocument(() => sessionStorage.setItem('sluice.admin.token', 'stale-token-0123456789abcdef'));
  await page.goto(base + '/?freeze#/partitions', { waitUntil: 'load' });
  await page.waitForFunction(() => document.body.dataset.state === 'login' &&
    /not accepted/.test(document.getElementById('login-error').textContent), { timeout: 20_000 });
  ok('stored wrong token: login page, "not accepted"');
  await page.close();
}

const page = await browser.newPage();
const problems = [];
const seen = capture(page);
await page.goto(base + '/?freeze#/overview', { waitUntil: 'load' });
await page.waitForFunction(() => document.body.dataset.state === 'login', { timeout: 20_000 });
await page.type('#token', token);
watch(page, problems);  // from here on, nothing may complain
await page.click('#login-form button[type=submit]');
await waitReady(page, 'overview');
const storage = await page.evaluate(() => ({
  session: sessionStorage.getItem('sluice.admin.token'), local: localStorage.length, cookie: document.cookie,
}));
check(storage.session === token && storage.local === 0 && storage.cookie === '',
  'token not in session storage alone: ' + JSON.stringify({ ...storage, session: !!storage.session }));
ok('right token: overview shown; token in session storage only');

// ---- 2. overview ------------------------------------------------------------
{
  const got = latest(seen, '/v1/status');
  check(got && got.status === 200, 'no /v1/status answer captured');
  const status = JSON.parse(got.text);
  const pageCopy = await page.evaluate(() => window.sluiceConsole.status);
  check(JSON.stringify(pageCopy) === JSON.stringify(status), 'the page rendered another /v1/status than the one received last');
  const figures = await page.$$eval('#view [data-field]', (els) => els.map((e) => ({
    field: e.dataset.field, format: e.dataset.format, text: e.textContent,
  })));
  const expected = await page.evaluate((figs, s) => {
    const g = (o, p) => p.split('.').reduce((x, k) => (x == null ? undefined : x[k]), o);
    return figs.map((f) => window.sluiceConsole.format[f.format](g(s, f.field)));
  }, figures, status);
  let ints = 0;
  figures.forEach((f, i) => {
    check(f.text === expected[i], `overview ${f.field}: shows ${JSON.stringify(f.text)}, /v1/status has ${JSON.stringify(get(status, f.field))} (${JSON.stringify(expected[i])})`);
    const v = get(status, f.field);
    if (f.format === 'int' && Number.isSafeInteger(v)) {
      check(f.text.replace(/,/g, '') === String(v), `overview ${f.field}: ${f.text} is not ${v}`);
      ++ints;
    }
  });
  check(figures.length >= 40, 'only ' + figures.length + ' figures on the overview');
  for (const must of ['health.ready', 'ingest.rate_records_per_s', 'ack_latency.p99_ms', 'store.disk_used_bytes',
    'store.disk_budget_bytes', 'sync.backlog_partitions', 'sync.oldest_unsynced_age_s', 'sync.watermark_ns',
    'ingest.shed', 'board.profile', 'health.unready_reason']) {
    if (must === 'health.ready' || must === 'health.unready_reason') continue;  // shown as words, below
    check(figures.some((f) => f.field === must), 'overview lacks ' + must);
  }
  const words = await page.evaluate(() => [document.getElementById('live-state').textContent,
    document.getElementById('ready-state').textContent]);
  const h = status.health;
  check(words[0] === (h.healthy ? 'healthy' : 'unhealthy: ' + h.unhealthy_reason) &&
    words[1] === (h.ready ? 'ready' : 'not ready: ' + h.unready_reason),
    'health shown as ' + JSON.stringify(words) + ', /v1/status has ' + JSON.stringify(h));
  check(status.ingest.records_stored > 0, 'the gateway stored nothing: the simulator did not run');
  if (status.stream) {
    check(figures.some((f) => f.field === 'stream.records_delivered') && figures.some((f) => f.field === 'stream.backlog_records'),
      'the stream lane is in /v1/status but not on the overview');
    ok(`overview: the stream lane's card shows ${status.stream.records_delivered} records delivered to Kafka`);
  }
  ok(`overview: ${figures.length} figures equal /v1/status (${ints} integers digit for digit), records stored ${status.ingest.records_stored}`);
  await shot(page, 'overview');
}

// ---- 3. sources -------------------------------------------------------------
{
  await page.click('#nav a[data-page=sources]');
  await waitReady(page, 'sources');
  const got = latest(seen, '/v1/sources');
  check(got && got.status === 200, 'no /v1/sources answer captured');
  const d = JSON.parse(got.text);
  const rows = await page.evaluate(() => ({
    brokers: [...document.querySelectorAll('table.brokers tbody tr')].map((r) => [...r.cells].map((c) => c.textContent)),
    conns: [...document.querySelectorAll('table.connections tbody tr')].map((r) => [...r.cells].map((c) => c.textContent)),
    rules: [...document.querySelectorAll('table.rules tbody tr')].map((r) => [...r.cells].map((c) => c.textContent)),
    unmatched: document.querySelector('[data-field=unmatched]').textContent,
  }));
  const n = (x) => new Intl.NumberFormat('en-US').format(x);
  check(d.brokers.length >= 1 && rows.brokers.length === d.brokers.length, 'broker rows differ from /v1/sources');
  d.brokers.forEach((b, i) => {
    check(rows.brokers[i][1] === b.uri && rows.brokers[i][4] === n(b.messages) &&
      rows.brokers[i][3] === (b.connected ? 'up' : 'down'), 'broker row ' + i + ' differs: ' + rows.brokers[i].join(' | '));
  });
  const conns = d.endpoint.connections || [];
  check(rows.conns.length === Math.max(1, conns.length) && (conns.length === 0 || rows.conns[0][0] === conns[0].client_id),
    'endpoint connection rows differ from /v1/sources');
  check(rows.rules.length === d.rules.length && d.rules.length >= 1, 'rule rows differ from /v1/sources');
  d.rules.forEach((r, i) => {
    check(rows.rules[i][1] === r.topic && rows.rules[i][4] === n(r.matched) && rows.rules[i][5] === n(r.malformed),
      'rule row ' + i + ' differs: ' + rows.rules[i].join(' | '));
  });
  check(rows.unmatched === n(d.unmatched), 'unmatched differs');
  check(d.rules.some((r) => r.matched > 0), 'no rule matched anything');
  ok(`sources: ${d.brokers.length} broker(s), ${conns.length} endpoint connection(s), ${d.rules.length} rules equal /v1/sources`);
  await shot(page, 'sources');
}

// ---- 4. series --------------------------------------------------------------
async function chartMatches(name, what) {
  const got = latest(seen, '/v1/series/' + encodeURIComponent(name) + '?');
  check(got && got.status === 200, 'no /v1/series answer captured for ' + name);
  const body = JSON.parse(got.text);
  const chart = await page.evaluate(() => {
    const c = window.sluiceConsole.chart;
    return { name: c.name, mode: c.mode, data: c.data, held: c.plot ? c.plot.data : null };
  });
  check(chart.name === name, 'chart of ' + chart.name + ', expected ' + name);
  let want;
  if (body.points) {
    check(chart.mode === 'raw', 'raw answer charted as ' + chart.mode);
    const v = (x) => (typeof x === 'boolean' ? (x ? 1 : 0) : x);
    want = [body.points.map((p) => p[0] / 1e9), body.points.map((p) => v(p[1]))];
  } else {
    check(chart.mode === 'buckets', 'bucket answer charted as ' + chart.mode);
    const b = body.buckets;
    want = [b.map((x) => x[5] / 1e9), b.map((x) => x[3]), b.map((x) => x[1]), b.map((x) => x[2])];
  }
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  check(same(chart.data, want), `${what}: the data handed to the chart differ from ${got.key}`);
  check(same(chart.held, want), `${what}: the data uPlot holds differ from ${got.key}`);
  const n = body.points ? body.points.length : body.buckets.length;
  check(n > 0, `${what}: empty chart`);
  const canvas = await page.$('#chart canvas');
  check(canvas, `${what}: no chart drawn`);
  return { body, n };
}
{
  // The full list, fetched apart from the page, to check its searches.
  const list = JSON.parse(await page.evaluate(async () => {
    const r = await fetch('/v1/series?limit=10000', { headers: { Authorization: 'Bearer ' + sessionStorage.getItem('sluice.admin.token') } });
    return r.text();
  }));
  check(list.series.length > 0, 'the gateway has no series');
  const name = args.series || (list.series.find((s) => s.name.startsWith('sim/')) || list.series[0]).name;
  const prefix = name.slice(0, name.lastIndexOf('/') + 1);
  await page.goto(base + '/?freeze#/series?q=' + encodeURIComponent(prefix), { waitUntil: 'load' });
  await waitReady(page, 'series');
  const shownNames = await page.$$eval('table.series tbody tr[data-series]', (rs) => rs.map((r) => r.dataset.series));
  const want = list.series.map((s) => s.name).filter((s) => s.startsWith(prefix));
  check(JSON.stringify(shownNames) === JSON.stringify(want.slice(0, shownNames.length)) && shownNames.length === Math.min(500, want.length),
    `prefix search '${prefix}': ${shownNames.length} rows, expected ${want.length}`);
  ok(`series: prefix '${prefix}' lists ${shownNames.length} series, as the API`);

  // Glob: the last path segment of the chosen series anywhere.
  const leaf = name.slice(name.lastIndexOf('/') + 1);
  await page.goto(base + '/?freeze#/series?q=' + encodeURIComponent('*/' + leaf), { waitUntil: 'load' });
  await waitReady(page, 'series');
  const globNames = await page.$$eval('table.series tbody tr[data-series]', (rs) => rs.map((r) => r.dataset.series));
  const globWant = list.series.map((s) => s.name).filter((s) => s.endsWith('/' + leaf));
  check(globNames.length > 0 && JSON.stringify(globNames) === JSON.stringify(globWant.slice(0, globNames.length)),
    `glob '*/${leaf}': ${globNames.join(',')} vs ${globWant.length} expected`);
  ok(`series: glob '*/${leaf}' lists ${globNames.length} series, as the API`);

  // Pick it from the list, as a user would.
  await page.click(`table.series tbody tr[data-series="${name.replace(/"/g, '\\"')}"]`);
  await waitReady(page, 'series');
  await page.waitForSelector('#chart canvas', { timeout: 20_000 });
  const first = await chartMatches(name, 'series ' + name);
  const latestShown = await page.$eval('#latest-value', (e) => e.textContent);
  const latestBody = JSON.parse(latest(seen, '/v1/series/' + encodeURIComponent(name) + '/latest').text);
  check(latestShown.startsWith(String(latestBody.latest.value)) && (!latestBody.unit || latestShown.endsWith(latestBody.unit)),
    `latest value shows ${latestShown}, API has ${latestBody.latest.value} ${latestBody.unit}`);
  ok(`series ${name}: chart holds exactly the ${first.n} points of the API answer; latest ${latestShown}`);
  await shot(page, 'series');

  // Zoom: drag across the middle third of the plot.
  const box = await (await page.$('#chart .u-over')).boundingBox();
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width / 3, y);
  await page.mouse.down();
  await page.mouse.move(box.x + (2 * box.width) / 3, y, { steps: 8 });
  await page.mouse.up();
  await page.waitForFunction(() => /[?&]from=\d+/.test(location.hash), { timeout: 10_000 });
  await waitReady(page, 'series');
  await page.waitForSelector('#chart canvas', { timeout: 20_000 });
  const zoomed = await chartMatches(name, 'zoomed series ' + name);
  check(zoomed.body.to_ns - zoomed.body.from_ns < first.body.to_ns - first.body.from_ns, 'zoom did not narrow the range');
  ok(`series ${name}: zoomed to ${((zoomed.body.to_ns - zoomed.body.from_ns) / 1e9).toFixed(1)} s, ${zoomed.n} points, equal to the API`);

  if (args.dense) {
    // The range its records span, so that they spread over many buckets.
    const span = JSON.parse(await page.evaluate(async (n) => {
      const auth = { headers: { Authorization: 'Bearer ' + sessionStorage.getItem('sluice.admin.token') } };
      const first = await (await fetch('/v1/series/' + encodeURIComponent(n) + '?limit=1', auth)).json();
      const last = await (await fetch('/v1/series/' + encodeURIComponent(n) + '/latest', auth)).json();
      return JSON.stringify([first.points[0][0], last.latest.timestamp_ns]);
    }, args.dense));
    const from = Math.floor(span[0] / 1e6), to = Math.ceil(span[1] / 1e6) + 1;
    await page.goto(base + '/?freeze#/series?q=' + encodeURIComponent(args.dense) + '&name=' + encodeURIComponent(args.dense) +
      '&from=' + from + '&to=' + to, { waitUntil: 'load' });
    await waitReady(page, 'series');
    await page.waitForSelector('#chart canvas', { timeout: 20_000 });
    const dense = await chartMatches(args.dense, 'dense series ' + args.dense);
    check(dense.body.buckets, 'the dense series was not downsampled');
    const records = dense.body.buckets.reduce((s, b) => s + b[4], 0);
    check(records === dense.body.records, 'bucket counts do not add up to records');
    check(dense.n >= 100, 'only ' + dense.n + ' buckets over the span of the dense series');
    ok(`series ${args.dense}: ${dense.body.records} records drawn from ${dense.n} min/max/last buckets, equal to the API`);
    await shot(page, 'series-dense');
  }
}

// ---- 5. partitions ----------------------------------------------------------
{
  await page.goto(base + '/?freeze#/partitions', { waitUntil: 'load' });
  await waitReady(page, 'partitions');
  const got = latest(seen, '/v1/partitions');
  check(got && got.status === 200, 'no /v1/partitions answer captured');
  const d = JSON.parse(got.text);
  const rows = await page.$$eval('table.partitions tbody tr', (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent)));
  check(d.partitions.length > 0 && rows.length === d.partitions.length, `${rows.length} partition rows, API has ${d.partitions.length}`);
  const n = (x) => new Intl.NumberFormat('en-US').format(x);
  d.partitions.forEach((p, i) => {
    check(rows[i][0] === String(p.id) && rows[i][3] === p.state && rows[i][4] === n(p.records),
      'partition row ' + i + ' differs: ' + rows[i].join(' | '));
  });
  ok(`partitions: ${rows.length} rows equal /v1/partitions (${Object.entries(d.counts).map(([k, v]) => k + ' ' + v).join(', ')})`);
  await shot(page, 'partitions');
}

check(problems.length === 0, 'the browser reported: ' + problems.join(' | '));
ok('no console error or warning, page error, failed request or CSP violation after sign-in');
clearTimeout(timer);
await browser.close();
