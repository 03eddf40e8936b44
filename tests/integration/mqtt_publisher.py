#!/usr/bin/env python3
"""Publishes numbered QoS 1 messages with Python paho-mqtt (an independent
client) and writes the numbers the broker acknowledged (PUBACK), one a line.

usage: mqtt_publisher.py HOST PORT TOPIC COUNT RATE OUTFILE
RATE is messages per second (0: as fast as the client goes).
"""
import sys
import time

import paho.mqtt.client as mqtt


def main():
    host, port, topic = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    count, rate, out = int(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
    assert count < 65000, "message ids must not wrap"
    acked_mids = set()
    mids = {}
    client = mqtt.Client(client_id="sluice-test-pub-%d" % int(time.time() * 1000), clean_session=True)
    client.max_inflight_messages_set(200)
    client.on_publish = lambda c, u, mid: acked_mids.add(mid)
    client.connect(host, port, keepalive=30)
    client.loop_start()
    start = time.monotonic()
    for i in range(count):
        info = client.publish(topic, str(i), qos=1)
        mids[info.mid] = i
        if rate > 0:
            delay = start + (i + 1) / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing
    deadline = time.monotonic() + 60
    while len(acked_mids) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    client.disconnect()
    client.loop_stop()
    with open(out, "w") as f:
        for mid in sorted(acked_mids):
            if mid in mids:
                f.write("%d\n" % mids[mid])
    print("published %d, acknowledged %d" % (count, len(acked_mids)))
    return 0 if len(acked_mids) == count else 1


if __name__ == "__main__":
    sys.exit(main())
