#!/usr/bin/env bash
# The hardened unit, analysed offline: `systemd-analyze security` must rate
# systemd/sluice.service at an exposure of 2.0 or less, and the unit must
# keep the properties the gateway depends on. Also checks that the sysusers
# file creates the user in a scratch root. Needs the Debian `systemd` package
# (systemd-analyze, systemd-sysusers); no running systemd.
set -euo pipefail
src=${1:?usage: systemd_security_test.sh SOURCE_DIR}
unit=$src/systemd/sluice.service
max=2.0
fail() { echo "FAIL: $*" >&2; exit 1; }

if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze not installed (Debian package: systemd)" >&2
  [ "${SLUICE_TEST_REQUIRE_SERVICES:-}" = 1 ] && exit 1
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --threshold is on systemd's internal 0..100 scale (2.0 shown = 20).
set +e
systemd-analyze security --offline=yes --threshold=20 "$unit" > "$tmp/out" 2> "$tmp/err"
rc=$?
set -e
grep -E '✗|Overall exposure' "$tmp/out" || true
exposure=$(sed -n 's/.*Overall exposure level for sluice.service: \([0-9.]*\).*/\1/p' "$tmp/out")
[ -n "$exposure" ] || { cat "$tmp/out" "$tmp/err" >&2; fail "no exposure level in the output"; }
echo "exposure: $exposure (max $max)"
awk -v e="$exposure" -v m="$max" 'BEGIN { exit !(e <= m) }' || fail "exposure $exposure above $max"
[ "$rc" = 0 ] || { cat "$tmp/err" >&2; fail "systemd-analyze exited $rc"; }

# Properties the gateway relies on, and the ones that keep it hardened.
need() { grep -qxF "$1" "$unit" || fail "unit lacks '$1'"; }
need 'Type=notify'
need 'ExecStart=/usr/bin/sluice run --config /etc/sluice/sluice.toml'
need 'Restart=on-failure'
need 'User=sluice'
need 'StateDirectory=sluice'
need 'ConfigurationDirectory=sluice'
need 'SystemCallFilter=@system-service io_uring_setup io_uring_enter io_uring_register'
need 'CapabilityBoundingSet='
need 'ProtectSystem=strict'
need 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX'
need 'MemoryDenyWriteExecute=yes'
need 'NoNewPrivileges=yes'
grep -Eq '^WatchdogSec=' "$unit" || fail "no WatchdogSec"
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "$unit")
[ -n "$stop" ] && [ "$stop" -ge 60 ] || fail "TimeoutStopSec too short for a graceful seal and flush"

# io_uring must not be allowed only by accident of @system-service: make sure
# the syscalls are known to this systemd (a typo would be ignored silently).
# (Read the list whole first: `grep -q` on a pipe stops early, the writer
# gets SIGPIPE, and pipefail would then fail the check at random.)
known=$(systemd-analyze syscall-filter @known 2>/dev/null || true)
for sc in io_uring_setup io_uring_enter io_uring_register; do
  grep -qw "$sc" <<<"$known" || fail "systemd does not know $sc"
done

# sysusers: creates a locked system user `sluice` in a scratch root.
if command -v systemd-sysusers >/dev/null; then
  mkdir -p "$tmp/root/etc" "$tmp/root/usr/lib/sysusers.d"
  cp "$src/systemd/sluice.sysusers" "$tmp/root/usr/lib/sysusers.d/sluice.conf"
  systemd-sysusers --root="$tmp/root" sluice.conf
  line=$(grep '^sluice:' "$tmp/root/etc/passwd") || fail "sysusers did not create sluice"
  uid=$(cut -d: -f3 <<<"$line")
  [ "$uid" -lt 1000 ] || fail "sluice is not a system user (uid $uid)"
  grep -q ':/var/lib/sluice:/usr/sbin/nologin$' <<<"$line" || fail "home or shell wrong: $line"
fi
echo "systemd security: ok"
