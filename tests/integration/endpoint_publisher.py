#!/usr/bin/env python3
"""Publishes one message with Python paho-mqtt (an independent client) to
Sluice's native endpoint and waits for its acknowledgement.

usage: endpoint_publisher.py PORT VERSION(311|5) QOS TOPIC PAYLOAD
         [--tls CA CERT KEY] [--user USER PASSWORD]
Exit 0 once the message is published (QoS 0) or acknowledged (QoS 1, 2).
"""
import sys

import paho.mqtt.client as mqtt


def main():
    args = sys.argv[1:]
    port, version, qos, topic, payload = int(args[0]), args[1], int(args[2]), args[3], args[4]
    rest = args[5:]
    proto = mqtt.MQTTv5 if version == "5" else mqtt.MQTTv311
    client = mqtt.Client(client_id="py-%s-%d" % (version, qos), protocol=proto)
    while rest:
        if rest[0] == "--tls":
            client.tls_set(ca_certs=rest[1], certfile=rest[2], keyfile=rest[3])
            rest = rest[4:]
        elif rest[0] == "--user":
            client.username_pw_set(rest[1], rest[2])
            rest = rest[3:]
        else:
            raise SystemExit("unknown argument " + rest[0])
    client.connect("127.0.0.1", port, keepalive=30)
    client.loop_start()
    info = client.publish(topic, payload, qos=qos)
    info.wait_for_publish(timeout=10)
    ok = info.is_published()
    if qos == 0:
        # QoS 0 has no acknowledgement, and paho-mqtt may close the socket
        # before the message left it. A QoS 1 message after it on the same
        # connection is acknowledged only once everything before it was read.
        barrier = client.publish(topic + "-barrier", "0", qos=1)
        barrier.wait_for_publish(timeout=10)
        ok = ok and barrier.is_published()
    client.disconnect()
    client.loop_stop()
    print("published" if ok else "not acknowledged")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
