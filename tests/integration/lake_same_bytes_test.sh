#!/usr/bin/env bash
# `sluice lake` on a gateway's .slp objects writes exactly the bytes that the
# gateway itself uploads with sync.format = "parquet" (same encoding set):
# one Parquet per data hour, whichever side converts. lake_objects_driver
# encodes the same sealed partitions both ways through the sync engine's
# encoder; every lake output must cmp equal to the engine's .parquet.
#
#   lake_same_bytes_test.sh SLUICE LAKE_OBJECTS_DRIVER
set -euo pipefail
sluice=$1 driver=$2
work=$(mktemp -d /tmp/sluice-lake-same-XXXXXX)
trap 'rm -rf "$work"' EXIT
for c in types backfill skab; do
  for enc in compatible compact; do
    out="$work/$c-$enc"
    flag=(); [ "$enc" = compact ] && flag=(--compact)
    "$driver" "$c" "$out" "${flag[@]}" >/dev/null
    "$sluice" lake --from "$out/slp" --to "$out/lake" --encoding "$enc" --workers 2 >"$out/summary"
    n=0
    while IFS= read -r -d '' f; do
      rel=${f#"$out/parquet/"}
      cmp "$f" "$out/lake/$rel" || { echo "FAIL $c/$enc: $rel differs"; exit 1; }
      n=$((n + 1))
    done < <(find "$out/parquet" -name '*.parquet' -print0)
    lake_n=$(find "$out/lake" -name '*.parquet' | wc -l)
    [ "$n" -gt 0 ] && [ "$n" -eq "$lake_n" ] || { echo "FAIL $c/$enc: $n engine objects, $lake_n lake objects"; exit 1; }
    echo "ok $c/$enc: $n objects byte-identical"
  done
done
