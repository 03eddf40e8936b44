#!/usr/bin/env bash
# Sluice's Parquet, read by two independent readers (DuckDB through
# @duckdb/node-api, arrow-rs through parquet-wasm), must equal `sluice
# export` of the `.slp` objects of the same partitions, bit for bit: real
# data (SKAB, NAB), all four value types with edge values, 100,000 series,
# and a late partition spanning days with redelivered duplicates; default
# (compatible) and compact encodings, data pages v1 and v2, many pages and
# row groups. The footers must use only the encodings promised, carry
# statistics and the page index; DuckDB over the Hive layout must prune by
# date, and the DuckDB query shown in docs/central.md must return what
# sluice export says.
#   parquet_objects_test.sh SOURCE_DIR DRIVER SLUICE
set -euo pipefail
src=$1
driver=$2
sluice=$3
check="$src/tools/parquet_check/read.mjs"
[ -d "$src/tools/parquet_check/node_modules" ] || { echo "tools/parquet_check/node_modules missing: run scripts/setup"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
fail() { echo "FAIL: $*" >&2; exit 1; }

# One case: objects in both formats, then every reader against the export.
compare() {  # name, case, driver options...
  local name=$1 case=$2; shift 2
  local dir="$tmp/$name"
  "$driver" "$case" "$dir" "$@" | tee "$dir.summary"
  "$sluice" export --format jsonl "$dir/slp" -o "$dir/export.jsonl"
  node "$check" canon-export "$dir/export.jsonl" | LC_ALL=C sort > "$dir/want"
  [ -s "$dir/want" ] || fail "$name: sluice export gave nothing"
  for reader in duckdb arrow; do
    node "$check" "$reader" --no-unit "$dir/parquet" | LC_ALL=C sort > "$dir/$reader"
    if ! cmp -s "$dir/want" "$dir/$reader"; then
      diff "$dir/want" "$dir/$reader" | head -10
      fail "$name: $reader differs from sluice export ($(wc -l < "$dir/want") lines wanted, $(wc -l < "$dir/$reader") read)"
    fi
  done
  echo "ok: $name: DuckDB and arrow-rs read $(wc -l < "$dir/want") records equal to sluice export"
  passed=$((passed + 1))
}

# What the footers say, checked by Python over the footer report.
footers() {  # name, allowed encodings (comma list), want-min-pages-per-chunk
  local name=$1 allowed=$2 pages=$3
  node "$check" footer --pages "$tmp/$name/parquet" > "$tmp/$name.footer.json"
  /usr/bin/python3 - "$tmp/$name.footer.json" "$allowed" "$pages" "$name" <<'PY'
import json, sys
files = json.load(open(sys.argv[1]))
if isinstance(files, dict): files = [files]
allowed = set(sys.argv[2].split(','))
min_pages = int(sys.argv[3])
name = sys.argv[4]
used, chunks, multi, with_index, max_pages, groups = set(), 0, 0, 0, 0, 0
for f in files:
    if f.get('disagreements'): sys.exit(f"{name}: readers disagree on {f['file']}: {f['disagreements']}")
    for rg in f['row_groups']:
        groups += 1
        for c in rg['columns']:
            chunks += 1
            used.update(c['encodings'])
            st = c.get('statistics') or {}
            if c['path'] in ('timestamp', 'series') and st.get('min_value') is None:
                sys.exit(f"{name}: {c['path']} chunk without statistics in {f['file']}")
            data_pages = [p for p in c.get('pages') or [] if p['type'] != 'DICTIONARY_PAGE']
            max_pages = max(max_pages, len(data_pages))
            if len(data_pages) < 2:
                # One page: the statistics say all; no page index.
                if c.get('offset_index') or c.get('column_index'):
                    sys.exit(f"{name}: a page index on a one-page chunk in {f['file']}")
                continue
            multi += 1
            if c.get('offset_index') is None:
                sys.exit(f"{name}: {c['path']} chunk of {len(data_pages)} pages without an offset index in {f['file']}")
            if len(c['offset_index']['pages']) != len(data_pages):
                sys.exit(f"{name}: offset index of {c['path']} lists {len(c['offset_index']['pages'])} of {len(data_pages)} pages")
            if c.get('column_index'):
                with_index += 1
extra = used - allowed
if extra: sys.exit(f"{name}: encodings outside {sorted(allowed)}: {sorted(extra)}")
# A chunk with a page of only NaNs carries no column index (the spec).
if with_index < multi * 0.9: sys.exit(f"{name}: only {with_index} of {multi} chunks of several pages have a column index")
if max_pages < min_pages: sys.exit(f"{name}: at most {max_pages} pages per chunk, wanted {min_pages}")
print(f"ok: {name}: {len(files)} files, {groups} row groups, {chunks} chunks, encodings {sorted(used)}, page index on {with_index} of {multi} chunks of several pages, up to {max_pages} pages per chunk")
PY
  passed=$((passed + 1))
}

compatible="PLAIN,RLE,RLE_DICTIONARY,PLAIN_DICTIONARY,DELTA_BINARY_PACKED,BIT_PACKED"
compare skab skab
footers skab "$compatible" 1
compare nab nab
compare types types
footers types "$compatible" 1
compare types_compact types --compact
footers types_compact "$compatible,BYTE_STREAM_SPLIT,DELTA_LENGTH_BYTE_ARRAY,DELTA_BYTE_ARRAY" 1
compare types_v2_small types --page-version 2 --page-rows 700 --row-group-rows 5000
footers types_v2_small "$compatible" 3
compare series100k series100k
compare backfill backfill
grep -q "duplicates dropped" "$tmp/backfill.summary"
dups=$(grep -Eo '[0-9]+ duplicates dropped' "$tmp/backfill.summary" | grep -Eo '^[0-9]+')
[ "$dups" -gt 0 ] || fail "backfill: no duplicates dropped"

# DuckDB over the Hive layout prunes to the objects of one day.
day=$(ls "$tmp/backfill/parquet/lake/site=plant/gateway=gw-lake" | sort | sed -n 2p | sed 's/date=//')
node "$check" hive "$tmp/backfill/parquet" "SELECT count(*) AS n, min(date) AS lo, max(date) AS hi FROM t WHERE date = '$day'" > "$tmp/hive.json"
/usr/bin/python3 - "$tmp/hive.json" "$day" "$tmp/backfill/parquet" <<'PY'
import json, sys, glob
r = json.load(open(sys.argv[1]))
day, root = sys.argv[2], sys.argv[3]
rows = r['rows']
assert rows and str(rows[0]['lo']) == day == str(rows[0]['hi']), rows
in_day = len(glob.glob(f"{root}/**/date={day}/**/*.parquet", recursive=True))
total = len(glob.glob(f"{root}/**/*.parquet", recursive=True))
scan = r['scans'][0]
read = scan['files_read']
assert read == in_day < total, f"DuckDB read {read} files of {total}; {in_day} hold {day}"
print(f"ok: hive: WHERE date = '{day}' returns {rows[0]['n']} rows, DuckDB read {read} of {total} files")
PY
passed=$((passed + 1))

# The DuckDB query shown in docs/central.md ("Reading the Parquet tree"),
# exactly as written there, over the same tree: every row as sluice export
# of the .slp objects says, and only the files of those hours opened.
/usr/bin/python3 - "$src/docs/central.md" > "$tmp/doc.sql" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
marker = "<!-- parquet_objects_test.sh runs the next sql block"
if marker not in text: sys.exit(f"{sys.argv[1]}: no line starting {marker!r}")
block = re.search(r"```sql\n(.*?)```", text[text.index(marker):], re.S)
if not block: sys.exit(f"{sys.argv[1]}: no sql block after the marker")
print(block.group(1).strip())
PY
node "$check" hive "$tmp/backfill/parquet" "$(cat "$tmp/doc.sql")" > "$tmp/doc.json"
/usr/bin/python3 - "$tmp/doc.json" "$tmp/backfill/export.jsonl" "$tmp/backfill/parquet" <<'PY'
import json, sys, glob
from datetime import datetime, timezone
r = json.load(open(sys.argv[1]))
day, hours, series = "2025-11-27", range(6, 18), "backfill/flow"  # as the query says
def text(ns):  # DuckDB's spelling of a TIMESTAMP_NS
    s = datetime.fromtimestamp(ns // 10**9, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return s + ("." + f"{ns % 10**9:09d}".rstrip("0") if ns % 10**9 else "")
want = {}
for line in open(sys.argv[2], encoding="utf-8"):
    rec = json.loads(line)
    ns = rec["timestamp_ns"]
    t = datetime.fromtimestamp(ns // 10**9, timezone.utc)
    if rec["series"] != series or t.strftime("%Y-%m-%d") != day or t.hour not in hours: continue
    h = want.setdefault(f"{t.hour:02d}", {"points": 0, "lo": rec["value"], "hi": rec["value"], "first": ns})
    h["points"] += 1
    h["lo"], h["hi"], h["first"] = min(h["lo"], rec["value"]), max(h["hi"], rec["value"]), min(h["first"], ns)
want = [{"hour": k, "points": str(v["points"]), "lo": v["lo"], "hi": v["hi"], "first": text(v["first"])}
        for k, v in sorted(want.items())]
assert len(want) == len(hours), f"export holds {len(want)} of the {len(hours)} hours"
assert r["rows"] == want, f"the query of docs/central.md returned {r['rows']}, sluice export says {want}"
opened = r["scans"][0]["files_read"]
in_hours = sum(len(glob.glob(f"{sys.argv[3]}/**/date={day}/hour={h:02d}/*.parquet", recursive=True))
               for h in hours)
total = len(glob.glob(f"{sys.argv[3]}/**/*.parquet", recursive=True))
assert opened == in_hours < total, f"DuckDB read {opened} files of {total}; {in_hours} hold those hours"
print(f"ok: docs/central.md's DuckDB query: {len(want)} hours equal to sluice export, "
      f"DuckDB read {opened} of {total} files")
PY
passed=$((passed + 1))
echo "$passed passed, 0 failed"
