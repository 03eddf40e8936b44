#!/usr/bin/env bash
# The `sluice` binary's command line: version, help, check-config on every
# shipped configuration, and a clear error for a bad one.
set -euo pipefail
sluice=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$sluice" --version | grep -Eq '^sluice [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version"
"$sluice" --help | grep -q 'check-config' || fail "--help does not list check-config"

for f in "$src"/config/*.toml; do
  "$sluice" check-config "$f" >/dev/null || fail "shipped config $f does not pass check-config"
done

printf '[store]\ndir = "/x"\nblock_sise = 4\n' > "$tmp/bad.toml"
if "$sluice" check-config "$tmp/bad.toml" 2> "$tmp/err"; then fail "bad config accepted"; fi
grep -q "bad.toml:3:1: key 'store.block_sise': unknown key" "$tmp/err" || { cat "$tmp/err"; fail "error does not name file, line and key"; }

if "$sluice" check-config "$tmp/missing.toml" 2> "$tmp/err"; then fail "missing file accepted"; fi
grep -q "missing.toml" "$tmp/err" || fail "missing-file error does not name the file"

# Every subcommand that reads a configuration takes it as its argument or
# with -c, the same way: the missing file's name comes back either way.
for sub in check-config run doctor; do
  for form in "$tmp/missing.toml" "-c $tmp/missing.toml" "--config $tmp/missing.toml"; do
    # shellcheck disable=SC2086
    if "$sluice" $sub $form 2> "$tmp/err"; then fail "$sub $form: missing file accepted"; fi
    grep -q "missing.toml" "$tmp/err" || { cat "$tmp/err"; fail "$sub $form: error does not name the file"; }
  done
done

# --help groups commands for the operator and for data people.
"$sluice" --help > "$tmp/help"
grep -q "Operate the gateway" "$tmp/help" || fail "--help has no operator group"
grep -q "Work with the data" "$tmp/help" || fail "--help has no data group"
echo "cli: ok"
