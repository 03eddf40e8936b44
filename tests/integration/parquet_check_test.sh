#!/usr/bin/env bash
# Proves the Parquet checking harness (tools/parquet_check) before Sluice's own
# writer exists: files written by DuckDB and by arrow-rs, never by Sluice, must
# read back through both independent readers (DuckDB, arrow-rs/parquet-wasm)
# as exactly the canonical lines computed from the rows that were written;
# the footer report must see row groups, statistics and page indexes as the
# writers made them; a hive query must prune a date partition; files that
# break the schema must be refused or flagged.
#
# Usage: parquet_check_test.sh SOURCE_DIR
# Needs node and tools/parquet_check/node_modules (scripts/setup installs both).
set -uo pipefail
root=${1:?usage: parquet_check_test.sh SOURCE_DIR}
tool="$root/tools/parquet_check"
read_mjs=(node "$tool/read.mjs")

if ! command -v node >/dev/null || [ ! -d "$tool/node_modules/@duckdb/node-api" ] ||
   [ ! -d "$tool/node_modules/parquet-wasm" ]; then
  echo "FAILED: node or $tool/node_modules is missing; run scripts/setup" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAILED: $*"; failed=$((failed + 1)); }

# Compares a command's output with a file, showing the first differences.
same() {  # description, expected file, command...
  local what=$1 want=$2; shift 2
  local got="$work/got.$passed.$failed"
  if ! "$@" >"$got" 2>"$got.err"; then
    bad "$what: exit $?: $(head -5 "$got.err")"; return
  fi
  if cmp -s "$got" "$want"; then
    ok "$what ($(wc -l <"$want") lines)"
  else
    bad "$what differs:"; diff "$want" "$got" | head -10
  fi
}

if ! "${read_mjs[@]}" write-sample "$work/s" >/dev/null; then
  echo "FAILED: write-sample"; echo "0 passed, 1 failed"; exit 1
fi
s=$work/s

# 1. Rows: each reader on each writer's file equals the rows as written.
for file in duckdb arrow; do
  for reader in duckdb arrow; do
    same "$reader reads $file.parquet" "$s/$file.expected.jsonl" "${read_mjs[@]}" "$reader" "$s/$file.parquet"
  done
done
# A folder: its files in path order (date=2024-01-01 before date=2024-01-02).
cat "$s/hive/date=2024-01-01/part-0.expected.jsonl" "$s/hive/date=2024-01-02/part-0.expected.jsonl" >"$work/hive.expected.jsonl"
for reader in duckdb arrow; do
  same "$reader reads a folder" "$work/hive.expected.jsonl" "${read_mjs[@]}" "$reader" "$s/hive"
  same "$reader reads a glob" "$work/hive.expected.jsonl" "${read_mjs[@]}" "$reader" "$s/hive/**/*.parquet"
done

# 2. `sluice export --format jsonl` spelling, converted, equals the readers' lines.
"${read_mjs[@]}" canon-export "$s/duckdb.export.jsonl" >"$work/export.canonical.jsonl" 2>"$work/canon.err" ||
  bad "canon-export: $(head -3 "$work/canon.err")"
for reader in duckdb arrow; do
  same "$reader --no-unit equals canon-export of the export spelling" "$work/export.canonical.jsonl" \
    "${read_mjs[@]}" "$reader" --no-unit "$s/duckdb.parquet"
done

# 3. Schema breaks: refused (timestamp without UTC) or flagged (stray value).
for reader in duckdb arrow; do
  if "${read_mjs[@]}" "$reader" "$s/bad/timestamp_not_utc.parquet" >/dev/null 2>"$work/notutc.err"; then
    bad "$reader accepted a TIMESTAMP without UTC"
  elif grep -q 'schema.*timestamp' "$work/notutc.err"; then
    ok "$reader refuses a TIMESTAMP without UTC: $(cat "$work/notutc.err")"
  else
    bad "$reader failed on the non-UTC file for another reason: $(cat "$work/notutc.err")"
  fi
  line=$("${read_mjs[@]}" "$reader" "$s/bad/stray_value.parquet")
  if [ "$line" = '{"series":"a","timestamp_ns":"1000","type":"float64","value":"3ff8000000000000","unit":"","stray":{"value_int":"7"}}' ]; then
    ok "$reader shows a value in the wrong column as stray"
  else
    bad "$reader on a stray value printed: $line"
  fi
done

# 4. Footer: row groups, statistics, page indexes, and the three decoders agree.
for file in duckdb arrow; do
  "${read_mjs[@]}" footer --pages "$s/$file.parquet" >"$work/$file.footer.json" 2>"$work/footer.err" ||
    bad "footer $file.parquet: $(head -3 "$work/footer.err")"
done
if /usr/bin/python3 - "$work" <<'PY'; then ok "footer reports (see the checks above)"; else bad "footer reports"; fi
import json, sys
work = sys.argv[1]
problems = []
def check(cond, what):
    print(("   ok   " if cond else "   FAIL ") + what)
    if not cond: problems.append(what)

duck = json.load(open(f"{work}/duckdb.footer.json"))
arrow = json.load(open(f"{work}/arrow.footer.json"))
for name, r in (("duckdb", duck), ("arrow", arrow)):
    check(r["disagreements"] == [], f"{name}.parquet: footer, DuckDB and parquet-wasm agree: {r['disagreements'][:3]}")
    check(sum(int(g["num_rows"]) for g in r["row_groups"]) == int(r["num_rows"]), f"{name}.parquet: row groups add up to num_rows")
    for g in r["row_groups"]:
        for c in g["columns"]:
            pages = sum(p["num_values"] for p in c["pages"] if p["type"].startswith("DATA_PAGE"))
            if pages != int(c["num_values"]):
                check(False, f"{name}.parquet rg {g['index']} {c['path']}: page values {pages} != {c['num_values']}")
check(len(duck["row_groups"]) == 3, f"duckdb.parquet: 3 row groups of <= 2048 rows (got {len(duck['row_groups'])})")
check(len(arrow["row_groups"]) == 11, f"arrow.parquet: 11 row groups of <= 100 rows (got {len(arrow['row_groups'])})")
schema = {e["name"]: e for e in arrow["schema"]}
ts = schema["timestamp"]["logical_type"]
check(ts == {"kind": "TIMESTAMP", "is_adjusted_to_utc": True, "unit": "MICROS"}, f"timestamp is TIMESTAMP(MICROS, UTC): {ts}")
check(schema["timestamp_nanos"]["physical_type"] == "INT32", "timestamp_nanos is INT32")
# Page indexes: arrow-rs writes them, DuckDB does not; the decoder must tell.
every = lambda r, k: all(c[k] is not None for g in r["row_groups"] for c in g["columns"])
none = lambda r, k: all(c[k] is None for g in r["row_groups"] for c in g["columns"])
check(every(arrow, "column_index") and every(arrow, "offset_index"), "arrow.parquet: every chunk has a column index and an offset index")
check(none(duck, "column_index") and none(duck, "offset_index"), "duckdb.parquet: no chunk has a page index")
cols = {c["path"]: c for c in arrow["row_groups"][0]["columns"]}
st = cols["value_int"]["statistics"]
check((st["min_value"], st["max_value"]) == ("-9223372036854775808", "9223372036854775807"), f"arrow rg 0 value_int min/max are the int64 extremes: {st['min_value']} {st['max_value']}")
st = cols["timestamp"]["statistics"]
check((st["min_value"], st["max_value"]) == ("-9223372036854776", "9223372036854775"), f"arrow rg 0 timestamp min/max in micros: {st['min_value']} {st['max_value']}")
first100 = [json.loads(l) for l in open(f"{work}/s/arrow.expected.jsonl")][:100]
want_nulls = sum(1 for l in first100 if l["type"] != "float64" or l["value"] is None)
got_nulls = cols["value_double"]["statistics"]["null_count"]
check(got_nulls == str(want_nulls), f"arrow rg 0 value_double null_count is that of the rows written: {got_nulls} (want {want_nulls})")
check(cols["value_int"]["compression"] == "ZSTD", "arrow.parquet is zstd")
ci = cols["timestamp"]["column_index"]
check(ci["min_values"] == ["-9223372036854776"] and ci["null_counts"] == ["0"], f"arrow rg 0 timestamp column index: {ci['min_values']} {ci['null_counts']}")
dcols = {c["path"]: c for c in duck["row_groups"][0]["columns"]}
check(dcols["series"]["statistics"]["max_value"] == "site/ü/ß/温度", "duckdb rg 0 series max is a string statistic")
check(dcols["value_int"]["duckdb"]["stats_min_value"] == dcols["value_int"]["statistics"]["min_value"], "duckdb rg 0 value_int min: DuckDB and the decoder agree")
sys.exit(1 if problems else 0)
PY

# 5. Hive partitions: a date filter reads only that day's file.
hive_check() {  # description, sql, python assertion on r (the JSON)
  local what=$1 sql=$2 expr=$3
  if "${read_mjs[@]}" hive "$s/hive" "$sql" >"$work/hive.json" 2>"$work/hive.err" &&
     /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if ($expr) else 1)" "$work/hive.json"; then
    ok "$what"
  else
    bad "$what: $(cat "$work/hive.err" "$work/hive.json" | head -30)"
  fi
}
hive_check "hive: WHERE date='2024-01-02' returns only that day and reads 1 of 2 files" \
  "SELECT series, count(*) AS n, min(value_int) AS lo, max(value_int) AS hi FROM t WHERE date = '2024-01-02' GROUP BY series" \
  "r['rows'] == [{'series': 'day/2', 'n': '4', 'lo': '200', 'hi': '203'}] and r['files_in_tree'] == 2 and
   [(x['files_total'], x['files_after_pruning'], x['files_read']) for x in r['scans']] == [(2, 1, 1)] and
   r['scans'][0]['filenames'][0].endswith('date=2024-01-02/part-0.parquet')"
hive_check "hive: without a date filter both files are read" \
  "SELECT date::VARCHAR AS d, count(*) AS n FROM t GROUP BY d ORDER BY d" \
  "r['rows'] == [{'d': '2024-01-01', 'n': '3'}, {'d': '2024-01-02', 'n': '4'}] and [x['files_read'] for x in r['scans']] == [2]"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
