#!/usr/bin/env bash
# The Debian package: built with cpack from this build tree's `sluice`,
# checked with lintian (when installed), then installed, upgraded, removed
# and purged with `dpkg --root` into a scratch root (maintainer scripts run
# chrootless with DPKG_ROOT set), so this machine is left as it was.
# Runs the installed binary: `sluice --version`, `sluice check-config`.
# Needs (Debian packages): dpkg, dpkg-dev (dpkg-shlibdeps), cmake (cpack), systemd
# (systemd-sysusers), init-system-helpers; lintian optional (skipped with a
# message when absent, unless SLUICE_TEST_REQUIRE_SERVICES=1).
set -euo pipefail
build=${1:?usage: packaging_test.sh BUILD_DIR SOURCE_DIR}
src=${2:?usage: packaging_test.sh BUILD_DIR SOURCE_DIR}
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for tool in cpack dpkg dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null || fail "$tool not installed"
done
host_had_user=0
getent passwd sluice >/dev/null && host_had_user=1

# 1. Build the package.
cpack --config "$build/CPackConfig.cmake" -B "$tmp/pkg" > "$tmp/cpack.log" 2>&1 ||
  { cat "$tmp/cpack.log" >&2; fail "cpack"; }
deb=$(ls "$tmp"/pkg/sluice_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { cat "$tmp/cpack.log" >&2; fail "no .deb produced"; }
echo "package: $(basename "$deb")"
dpkg-deb -f "$deb" Package Version Architecture Depends

# 2. Contents.
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's#^\./#/#' > "$tmp/files"
for f in /usr/bin/sluice /lib/systemd/system/sluice.service /usr/lib/sysusers.d/sluice.conf \
         /etc/sluice/sluice.toml /usr/share/doc/sluice/copyright /usr/share/doc/sluice/README.md; do
  grep -qxF "$f" "$tmp/files" || fail "package lacks $f"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qxF /etc/sluice/sluice.toml ||
  fail "/etc/sluice/sluice.toml is not a conffile"
dpkg-deb -f "$deb" Depends | grep -q 'libc6' || fail "Depends not computed by dpkg-shlibdeps"

# 3. lintian: errors and warnings fail; each accepted tag is overridden, with
# its reason, in debian/sluice.lintian-overrides.
if command -v lintian >/dev/null; then
  lintian --pedantic --show-overrides "$deb" > "$tmp/lintian" 2>&1 || true
  grep -v 'running with root privileges' "$tmp/lintian" || true
  if grep -Eq '^[EW]: ' "$tmp/lintian"; then fail "lintian reports errors or warnings"; fi
  echo "lintian: clean (overrides shown above with O:)"
else
  echo "SKIP lintian: not installed (Debian package: lintian)" >&2
  [ "${SLUICE_TEST_REQUIRE_SERVICES:-}" = 1 ] && fail "lintian required"
fi

# 4. Install into a scratch root.
root=$tmp/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/log" "$root/etc"
touch "$root/var/lib/dpkg/status"
: > "$root/etc/passwd"; : > "$root/etc/group"
dpkg_r() {
  # --force-depends: the scratch root holds none of the libraries; the binary
  # runs against this machine's.
  dpkg --root="$root" --force-script-chrootless --force-depends --force-confold \
       --log="$tmp/dpkg.log" "$@"
}
status() { dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${db:Status-Abbrev}' sluice 2>/dev/null || true; }

dpkg_r -i "$deb" > "$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "dpkg -i"; }
[ "$(status)" = "ii " ] || fail "not installed: status '$(status)'"
grep -q '^sluice:' "$root/etc/passwd" || fail "postinst did not create the sluice user"
[ -d "$root/var/lib/sluice" ] || fail "postinst did not create /var/lib/sluice"
uid=$(awk -F: '$1 == "sluice" { print $3 }' "$root/etc/passwd")
[ "$(stat -c %u "$root/var/lib/sluice")" = "$uid" ] || fail "/var/lib/sluice not owned by sluice"
[ "$(stat -c %a "$root/var/lib/sluice")" = 750 ] || fail "/var/lib/sluice mode not 750"
[ -L "$root/etc/systemd/system/multi-user.target.wants/sluice.service" ] ||
  fail "postinst did not enable sluice.service"

# 5. The installed binary.
"$root/usr/bin/sluice" --version | grep -Eq '^sluice [0-9]+\.[0-9]+\.[0-9]+$' || fail "installed sluice --version"
"$root/usr/bin/sluice" --version
"$root/usr/bin/sluice" check-config "$root/etc/sluice/sluice.toml" || fail "installed check-config"
if "$root/usr/bin/sluice" --help 2>/dev/null | grep -q doctor; then
  "$root/usr/bin/sluice" doctor --help >/dev/null || fail "installed sluice doctor --help"
fi

# 6. Upgrade (reinstall) keeps data and a locally changed config.
mkdir -p "$root/var/lib/sluice/store"
echo data > "$root/var/lib/sluice/store/marker"
echo '# local change' >> "$root/etc/sluice/sluice.toml"
dpkg_r -i "$deb" > "$tmp/upgrade.log" 2>&1 || { cat "$tmp/upgrade.log" >&2; fail "upgrade"; }
[ -f "$root/var/lib/sluice/store/marker" ] || fail "upgrade lost /var/lib/sluice"
grep -q '# local change' "$root/etc/sluice/sluice.toml" || fail "upgrade lost the config change"

# 7. Remove keeps data and config; the binary goes.
dpkg_r -r sluice > "$tmp/remove.log" 2>&1 || { cat "$tmp/remove.log" >&2; fail "dpkg -r"; }
[ "$(status)" = "rc " ] || fail "after remove: status '$(status)'"
[ ! -e "$root/usr/bin/sluice" ] || fail "remove left /usr/bin/sluice"
[ -f "$root/var/lib/sluice/store/marker" ] || fail "remove deleted /var/lib/sluice"
grep -q '# local change' "$root/etc/sluice/sluice.toml" || fail "remove deleted the config"

# 8. Purge removes both.
dpkg_r -P sluice > "$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log" >&2; fail "dpkg -P"; }
[ -z "$(status)" ] || [ "$(status)" = "un " ] || fail "after purge: status '$(status)'"
[ ! -e "$root/var/lib/sluice" ] || fail "purge left /var/lib/sluice"
[ ! -e "$root/etc/sluice" ] || fail "purge left /etc/sluice"
[ ! -e "$root/etc/systemd/system/multi-user.target.wants/sluice.service" ] || fail "purge left the enablement"

# This machine is unchanged.
if [ "$host_had_user" = 0 ] && getent passwd sluice >/dev/null; then
  fail "the test created a sluice user on this machine"
fi
echo "packaging: ok"
