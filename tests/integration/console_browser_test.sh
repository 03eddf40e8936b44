#!/usr/bin/env bash
# The web console in a real browser: starts Mosquitto, librdkafka's mock
# cluster and `sluice run` (admin token required, the native endpoint and the
# stream lane on), feeds it with `sluice simulate`
# through the broker and through the endpoint, plus one dense series, then
# runs tools/console_check/check.mjs (Debian's chromium, headless) against the
# admin endpoint: login with no, wrong and right token, every page's figures
# against the API answers they were drawn from, the chart against the data
# handed to uPlot, no console error. Screenshots go to <build>/console-screenshots.
#   console_browser_test.sh SLUICE SOURCE_DIR BUILD_DIR KAFKA_MOCK_CLUSTER
# Exits 77 (skipped) when chromium or the npm packages are missing, unless
# SLUICE_TEST_REQUIRE_SERVICES=1 (scripts/test), where that is a failure.
set -euo pipefail
sluice=$1 src=$2 build=$3 kafka_mock=$4
check_dir="$src/tools/console_check"
shots="$build/console-screenshots"
skip() {
  if [ "${SLUICE_TEST_REQUIRE_SERVICES:-0}" = 1 ]; then echo "FAIL: $*" >&2; exit 1; fi
  echo "SKIPPED: $*" >&2; exit 77
}
command -v chromium >/dev/null || skip "chromium is not installed (scripts/setup installs it)"
command -v mosquitto >/dev/null || skip "mosquitto is not installed"
[ -d "$check_dir/node_modules/puppeteer-core" ] || skip "run scripts/setup (npm ci in tools/console_check)"

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$tmp/sluice.log" ] && tail -30 "$tmp/sluice.log" >&2; exit 1; }

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
broker_port=$(free_port) endpoint_port=$(free_port) admin_port=$(free_port)

cat >"$tmp/mosquitto.conf" <<CONF
listener $broker_port 127.0.0.1
allow_anonymous true
$( [ "$(id -u)" -eq 0 ] && echo "user root" )
CONF
mosquitto -c "$tmp/mosquitto.conf" >"$tmp/mosquitto.log" 2>&1 &
pids+=($!)

# A Kafka cluster for the stream lane, kept alive by its open stdin.
coproc MOCK { exec "$kafka_mock" 1; }
pids+=($MOCK_PID)
read -r -t 10 -u "${MOCK[0]}" word bootstrap || fail "the mock Kafka cluster did not start"
[ "$word" = bootstrap ] || fail "mock Kafka cluster: $word $bootstrap"
echo "topic sluice.test-plant 2 1" >&"${MOCK[1]}"
read -r -t 10 -u "${MOCK[0]}" answer || fail "mock Kafka cluster: no answer"
[ "$answer" = ok ] || fail "mock Kafka cluster: $answer"

(umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/token")
cat >"$tmp/sluice.toml" <<CONF
[gateway]
id = "console-test"
site = "test-plant"
[store]
dir = "$tmp/store"
partition_window = "60s"
late_grace = "5s"
block_max_age = "2s"
[[ingest.rule]]
topic = "sim/{device}/telemetry"
format = "json"
fields = ["m0", "m1", "m2", "m3"]
series = "sim/{device}/{field}"
timestamp = "field:ts"
[[ingest.rule]]
topic = "direct/{device}/telemetry"
format = "json"
fields = ["m0", "m1", "m2", "m3"]
series = "direct/{device}/{field}"
timestamp = "field:ts"
[[ingest.rule]]
topic = "dense/{device}/telemetry"
format = "json"
fields = ["m0"]
series = "dense/{device}/{field}"
timestamp = "field:ts"
[[mqtt.broker]]
uri = "tcp://127.0.0.1:$broker_port"
qos = 1
[endpoint]
enabled = true
address = "127.0.0.1"
port = $endpoint_port
[stream.kafka]
enabled = true
bootstrap_servers = "$bootstrap"
topic = "sluice.{site}"
[admin]
port = $admin_port
token_file = "$tmp/token"
CONF
"$sluice" run "$tmp/sluice.toml" >"$tmp/sluice.log" 2>&1 &
pids+=($!)
up=0
for _ in $(seq 100); do
  code=$(/usr/bin/python3 -c "import urllib.request,urllib.error
try: urllib.request.urlopen('http://127.0.0.1:$admin_port/healthz', timeout=1); print(200)
except urllib.error.HTTPError as e: print(e.code)
except Exception: print(0)")
  [ "$code" = 401 ] && { up=1; break; }
  sleep 0.1
done
[ "$up" = 1 ] || fail "sluice run did not come up (admin endpoint)"

# Through the broker (Paho), straight to the endpoint (QoS 1), and one dense
# series for the min/max/last buckets (more records than the console charts raw).
"$sluice" simulate --uri "tcp://127.0.0.1:$broker_port" --devices 5 --metrics 4 --rate 200 \
  --duration 4 --client-id console-sim --quiet >"$tmp/sim1.log" 2>&1 ||
  fail "simulate through the broker: $(tail -3 "$tmp/sim1.log")"
"$sluice" simulate --engine wire --uri "tcp://127.0.0.1:$endpoint_port" --devices 3 --metrics 4 \
  --rate 200 --duration 3 --topic-prefix direct --client-id console-direct --quiet >"$tmp/sim2.log" 2>&1 ||
  fail "simulate to the endpoint: $(tail -3 "$tmp/sim2.log")"
"$sluice" simulate --engine wire --uri "tcp://127.0.0.1:$endpoint_port" --devices 1 --metrics 1 \
  --rate 4000 --count 12000 --topic-prefix dense --client-id console-dense --quiet >"$tmp/sim3.log" 2>&1 ||
  fail "simulate the dense series: $(tail -3 "$tmp/sim3.log")"
# A client that stays connected, so the endpoint's connection table has a row.
"$sluice" simulate --engine wire --uri "tcp://127.0.0.1:$endpoint_port" --devices 1 --metrics 4 \
  --rate 2 --duration 60 --topic-prefix direct --client-id console-idle --quiet >"$tmp/sim4.log" 2>&1 &
pids+=($!)
# Waits (at most 20 s) until the rate sampler has seen the records and the
# idle client is connected, then names the dense series.
dense=$(/usr/bin/python3 - "$admin_port" "$tmp/token" <<'PY'
import json, sys, time, urllib.request
token = open(sys.argv[2]).read().strip()
def get(path):
    req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}{path}",
                                 headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(req, timeout=5))
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    s = get("/v1/status")
    if (s["ingest"].get("rate_records_per_s", 0) > 0 and s["endpoint"]["connections"] >= 1
            and s.get("stream", {}).get("records_delivered", 0) > 0):
        break
    time.sleep(0.2)
names = [x["name"] for x in get("/v1/series?prefix=dense/")["series"]]
print(names[0] if names else "")
PY
)
[ -n "$dense" ] || fail "the dense series did not arrive"

rm -rf "$shots"
node "$check_dir/check.mjs" --url "http://127.0.0.1:$admin_port" --token-file "$tmp/token" \
  --out "$shots" --dense "$dense" || fail "console check"
echo "console: ok (screenshots in $shots)"
