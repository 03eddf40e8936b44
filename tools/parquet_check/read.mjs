#!/usr/bin/env node
// Independent Parquet readers for Sluice's tests. See README.md.
//
//   node read.mjs duckdb|arrow PATH... [--no-unit]   rows as canonical JSON Lines
//   node read.mjs footer PATH... [--pages]           footer, statistics, page indexes (JSON)
//   node read.mjs hive DIR SQL                       SQL over DIR/**/*.parquet, hive partitions
//   node read.mjs write-sample DIR                   sample files written without Sluice
//   node read.mjs canon-export FILE|-                `sluice export --format jsonl` to canonical lines
//
// PATH is a file, a folder (every *.parquet below it) or a glob (`*` within a
// name, `**` across folders); files are read in byte order of their paths,
// as `sluice export` orders its inputs. Exit status: 0 done, 1 the files are
// unreadable or do not follow the schema (message on stderr), 2 usage.

import { readdirSync, statSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { canonicalLine, canonicalFromExport } from './lib/canonical.mjs';

const USAGE = `usage:
  node read.mjs duckdb|arrow PATH... [--no-unit]
  node read.mjs footer PATH... [--pages]
  node read.mjs hive DIR SQL          (the files are the view "t")
  node read.mjs write-sample DIR
  node read.mjs canon-export FILE|-`;

const byBytes = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function walk(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

function globToRegExp(glob) {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') { re += '.*'; i++; if (glob[i + 1] === '/') i++; }
    else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function resolveFiles(args) {
  const files = [];
  for (const arg of args) {
    if (/[*?]/.test(arg)) {
      const base = arg.slice(0, arg.search(/[*?]/)).replace(/[^/]*$/, '') || '.';
      const re = globToRegExp(arg);
      const hits = walk(base).filter((p) => re.test(p)).sort(byBytes);
      if (!hits.length) throw new Error(`${arg}: no file matches`);
      files.push(...hits);
    } else if (statSync(arg).isDirectory()) {
      const hits = walk(arg).filter((p) => p.endsWith('.parquet')).sort(byBytes);
      if (!hits.length) throw new Error(`${arg}: no *.parquet file below it`);
      files.push(...hits);
    } else {
      files.push(arg);
    }
  }
  return files;
}

// stdout may be a pipe: wait for it to drain instead of buffering everything.
function lineWriter() {
  let buf = '';
  const flushAt = 1 << 16;
  return {
    write(line) { buf += line + '\n'; if (buf.length >= flushAt) { process.stdout.write(buf); buf = ''; } },
    end() { process.stdout.write(buf); buf = ''; },
  };
}

async function rows(reader, args) {
  const unit = !args.includes('--no-unit');
  const files = resolveFiles(args.filter((a) => a !== '--no-unit'));
  if (!files.length) throw new UsageError('no PATH given');
  const out = lineWriter();
  const emit = (row) => out.write(canonicalLine(row, { unit }));
  if (reader === 'duckdb') {
    const { readRowsDuckDB } = await import('./lib/duckdb_reader.mjs');
    await readRowsDuckDB(files, emit);
  } else {
    const { readRowsArrow } = await import('./lib/arrow_reader.mjs');
    await readRowsArrow(files, emit);
  }
  out.end();
}

async function footer(args) {
  const withPages = args.includes('--pages');
  const files = resolveFiles(args.filter((a) => a !== '--pages'));
  if (!files.length) throw new UsageError('no PATH given');
  const { footerReport } = await import('./lib/footer_report.mjs');
  const reports = [];
  for (const f of files) reports.push(await footerReport(f, { withPages }));
  const json = JSON.stringify(reports.length === 1 ? reports[0] : reports,
                              (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2);
  process.stdout.write(json + '\n');
}

async function hive(args) {
  if (args.length !== 2) throw new UsageError('hive takes DIR and SQL');
  const { hiveQuery } = await import('./lib/hive.mjs');
  const result = await hiveQuery(args[0], args[1]);
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

async function writeSample(args) {
  if (args.length !== 1) throw new UsageError('write-sample takes DIR');
  const { writeSamples } = await import('./lib/sample.mjs');
  for (const p of await writeSamples(resolve(args[0]))) console.log(p);
}

function canonExport(args) {
  if (args.length !== 1) throw new UsageError('canon-export takes FILE or -');
  const text = readFileSync(args[0] === '-' ? 0 : args[0], 'utf8');
  const out = lineWriter();
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    try { out.write(canonicalFromExport(line)); }
    catch (e) { throw new Error(`${args[0]}:${i + 1}: ${e.message}`); }
  });
  out.end();
}

class UsageError extends Error {}

async function main(argv) {
  const [mode, ...args] = argv;
  switch (mode) {
    case 'duckdb': case 'arrow': return rows(mode, args);
    case 'footer': return footer(args);
    case 'hive': return hive(args);
    case 'write-sample': return writeSample(args);
    case 'canon-export': return canonExport(args);
    default: throw new UsageError(mode ? `unknown mode ${mode}` : 'no mode');
  }
}

// `read.mjs ... | head` is fine: a closed pipe ends the run quietly.
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); throw e; });

main(process.argv.slice(2)).catch((e) => {
  if (e instanceof UsageError) { console.error(`read.mjs: ${e.message}\n${USAGE}`); process.exit(2); }
  console.error(`read.mjs: ${e.message}`);
  process.exit(1);
});
