#!/usr/bin/python3
"""Reads a topic from the beginning with kafka-python (its own protocol
implementation, independent of librdkafka) and prints one line per record:

  partition offset kafka_ts_ms gateway site | series | timestamp_ns | type | unit | value

Values: floats as repr() (round-trips), ints, true/false, bytes as hex.
Stops after --count records (protobuf_batch: records, not messages) or
--timeout seconds without a new message; exit status 0 either way, and the
caller compares what it got.

  kafka_read.py --bootstrap B --topic T --count N --format json|protobuf|protobuf_batch
                [--proto-dir DIR] [--timeout S] [--summary]

--summary prints one line instead, "records R messages M series S partitions P"
(json: one record per message, not decoded).
"""
import argparse
import base64
import json
import sys

from kafka import KafkaConsumer, TopicPartition


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--format", default="json")
    ap.add_argument("--proto-dir")
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--summary", action="store_true")
    a = ap.parse_args()
    pb = None
    if a.format != "json":
        sys.path.insert(0, a.proto_dir)
        import stream_record_pb2 as pb

    consumer = KafkaConsumer(bootstrap_servers=a.bootstrap.split(","), group_id=None,
                             enable_auto_commit=False, auto_offset_reset="earliest",
                             consumer_timeout_ms=int(a.timeout * 1000),
                             api_version=(2, 5, 0))
    parts = consumer.partitions_for_topic(a.topic) or set()
    consumer.assign([TopicPartition(a.topic, p) for p in sorted(parts)])
    consumer.seek_to_beginning()
    out = sys.stdout
    got = 0

    def emit(msg, series, ts, typ, unit, value):
        h = dict((k, v.decode()) for k, v in (msg.headers or []))
        out.write(f"{msg.partition} {msg.offset} {msg.timestamp} {h.get('gateway', '-')} "
                  f"{h.get('site', '-')}|{series}|{ts}|{typ}|{unit}|{value}\n")

    def show(typ, v):
        if typ == "float64":
            return "null" if v is None else repr(float(v))
        if typ == "bool":
            return "true" if v else "false"
        if typ == "bytes":
            return v.hex()
        return str(v)

    names = {1: "float64", 2: "int64", 3: "bool", 4: "bytes"}
    if a.summary:
        messages, series, partitions = 0, set(), set()
        for msg in consumer:
            messages += 1
            series.add(msg.key)
            partitions.add(msg.partition)
            if a.format == "protobuf_batch":
                b = pb.RecordBatch()
                b.ParseFromString(msg.value)
                got += len(b.timestamp_ns)
            else:
                got += 1
            if got >= a.count:
                break
        out.write(f"records {got} messages {messages} series {len(series)} "
                  f"partitions {len(partitions)}\n")
        consumer.close()
        return
    for msg in consumer:
        key = msg.key.decode()
        if a.format == "json":
            r = json.loads(msg.value)
            v = r["value"]
            if r["type"] == "bytes":
                v = base64.b64decode(v)
            assert r["series"] == key, (r["series"], key)
            emit(msg, r["series"], r["timestamp_ns"], r["type"], r["unit"], show(r["type"], v))
            got += 1
        elif a.format == "protobuf":
            r = pb.Record()
            r.ParseFromString(msg.value)
            typ = names[r.type]
            v = getattr(r, r.WhichOneof("value"))
            assert r.series == key
            emit(msg, r.series, r.timestamp_ns, typ, r.unit, show(typ, v))
            got += 1
        else:
            b = pb.RecordBatch()
            b.ParseFromString(msg.value)
            typ = names[b.type]
            vals = {"float64": b.float64_values, "int64": b.int64_values,
                    "bool": b.bool_values, "bytes": b.bytes_values}[typ]
            assert len(vals) == len(b.timestamp_ns)
            for ts, v in zip(b.timestamp_ns, vals):
                emit(msg, b.series, ts, typ, b.unit, show(typ, v))
                got += 1
        if got >= a.count:
            break
    out.flush()
    consumer.close()


if __name__ == "__main__":
    main()
