#!/usr/bin/python3
"""The Python reader (tools/python/sluice_reader) and the C++ export
(sync/export.h, via python_reader_driver) read the same objects to the same
records, bit for bit and in the same order: every codec, edge values, and the
real datasets in ../shared/datasets.

Exit 77 (skipped, loudly) when Debian's python3-pandas, -zstandard or
-protobuf are missing, unless SLUICE_TEST_REQUIRE_SERVICES=1 (then: fail).

  python_reader_test.py --driver <python_reader_driver> [--pythonpath <build>/python]
                        [--backend python|native] [--sluice <sluice>]

Without --pythonpath, the installed sluice_reader (python_reader_venv_test.py).
--backend: the decoders to test (default: what the package picks).
--sluice: export with `sluice export` instead of the driver's export.
"""

import argparse
import base64
import csv
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone

REQUIRE = os.environ.get("SLUICE_TEST_REQUIRE_SERVICES") == "1"


def skip_or_fail(why):
    if REQUIRE:
        print("FAILED: %s (SLUICE_TEST_REQUIRE_SERVICES=1)" % why, file=sys.stderr)
        sys.exit(1)
    print("=" * 72 + "\nSKIPPED: %s\n" % why + "=" * 72, file=sys.stderr)
    sys.exit(77)


try:
    import numpy as np
    import pandas  # noqa: F401
    import zstandard  # noqa: F401
    import google.protobuf  # noqa: F401
except ImportError as e:
    skip_or_fail("%s; install python3-pandas python3-zstandard python3-protobuf" % e)

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
CANONICAL_NAN = 0x7FF8000000000000
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what, file=sys.stderr)


def rfc3339(ns):
    """Independent of the C++ formatter: datetime arithmetic."""
    s, frac = divmod(ns, 10**9)
    return (EPOCH + timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%S") + ".%09dZ" % frac


def float_bits(v):
    return struct.unpack("<Q", struct.pack("<d", v))[0]


def parse_float(text):
    """The documented spelling (sync/export.h) back to float64 bits."""
    if text == "NaN":
        return CANONICAL_NAN
    if text.startswith("NaN(0x") and text.endswith(")"):
        return int(text[6:-1], 16)
    if text in ("Infinity", "-Infinity"):
        return float_bits(float(text))
    assert "." in text or "e" in text, text  # floats never look like ints
    return float_bits(float(text))


def canonical(type_, value):
    if type_ == "float64":
        return ("f", value if isinstance(value, int) else float_bits(value))
    if type_ == "bytes":
        return bytes(value)
    if type_ == "bool":
        return bool(value)
    return int(value)


def from_csv(text):
    rows = list(csv.reader(io.StringIO(text, newline="")))
    check(rows[0] == ["series", "timestamp_ns", "timestamp", "value", "type"], "CSV header")
    out = []
    for series, ns, stamp, value, type_ in rows[1:]:
        ns = int(ns)
        check(stamp == rfc3339(ns), "CSV timestamp %s for %d" % (stamp, ns))
        if type_ == "float64":
            v = parse_float(value)
        elif type_ == "int64":
            v = int(value)
        elif type_ == "bool":
            check(value in ("true", "false"), "bool spelling " + value)
            v = value == "true"
        else:
            v = base64.b64decode(value, validate=True)
        out.append((series, ns, type_, canonical(type_, v)))
    return out


def from_jsonl(text):
    out = []
    for line in text.splitlines():
        o = json.loads(line)
        check(list(o) == ["series", "timestamp_ns", "timestamp", "value", "type"], "JSON keys")
        check(o["timestamp"] == rfc3339(o["timestamp_ns"]), "JSON timestamp " + o["timestamp"])
        v, t = o["value"], o["type"]
        if t == "float64":
            check(isinstance(v, (float, str)), "JSON float %r is a float or a word" % v)
            v = parse_float(v) if isinstance(v, str) else v
        elif t == "bytes":
            v = base64.b64decode(v, validate=True)
        out.append((o["series"], o["timestamp_ns"], t, canonical(t, v)))
    return out


def from_dataframe(df):
    ns = df["timestamp"].values.view("int64")
    if df["value"].dtype == np.float64:
        values = [("f", b) for b in df["value"].to_numpy().view(np.uint64).tolist()]
    else:
        values = [canonical(t, v) for t, v in zip(df["type"], df["value"])]
    return list(zip(df["series"].astype(object), ns.tolist(), df["type"].astype(object), values))


def compare(what, expected, got):
    n = min(len(expected), len(got))
    bad = [i for i in range(n) if expected[i] != got[i]]
    check(len(expected) == len(got), "%s: %d records from C++, %d from Python"
          % (what, len(expected), len(got)))
    check(not bad, "%s: %d records differ, first at %d: C++ %r, Python %r"
          % (what, len(bad), bad[0] if bad else 0, expected[bad[0]] if bad else None,
             got[bad[0]] if bad else None))
    print("%s: %d records compared" % (what, len(expected)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    ap.add_argument("--pythonpath")
    ap.add_argument("--backend", choices=("python", "native"))
    ap.add_argument("--sluice")
    args = ap.parse_args()
    if args.pythonpath:
        sys.path.insert(0, args.pythonpath)
    import sluice_reader as sr
    if args.backend:
        sr.set_backend(args.backend)
    global EXPORTER
    EXPORTER = [args.sluice, "export"] if args.sluice else [args.driver, "export"]
    print("sluice_reader %s from %s, %s decoders; export by %s"
          % (sr.__version__, os.path.dirname(sr.__file__), sr.backend(), " ".join(EXPORTER)))

    tmp = tempfile.mkdtemp(prefix="sluice-pyreader-")
    try:
        run(args.driver, sr, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if FAILURES:
        print("%d checks failed" % len(FAILURES), file=sys.stderr)
        sys.exit(1)
    print("OK")


EXPORTER = None


def export(driver, *args, ok=True):
    p = subprocess.run([*EXPORTER, *args], capture_output=True)
    if ok and p.returncode != 0:
        raise SystemExit("export %s failed: %s" % (args, p.stderr.decode()))
    return p


def run(driver, sr, tmp):
    objs = os.path.join(tmp, "objects")
    rc = subprocess.run([driver, "gen", objs]).returncode
    if rc == 3:
        check(not REQUIRE, "the real datasets are missing")
    elif rc != 0:
        raise SystemExit("python_reader_driver gen failed with %d" % rc)

    # Every codec id and both compressions occur, so "all records equal"
    # covers every decoder.
    codecs, compressions = set(), set()
    for obj in sr.open_objects(objs):
        obj.verify_checksums()
        for s in obj.series:
            codecs |= {s.timestamps.codec, s.values.codec}
            compressions |= {s.timestamps.compression, s.values.compression}
    check(codecs == {1, 2, 10, 11, 12, 13, 14, 15, 20, 30, 40}, "codecs covered: %s" % sorted(codecs))
    check(compressions == {1, 2}, "compressions covered: %s" % sorted(compressions))

    everything = from_dataframe(sr.read_dataframe(objs))
    compare("all objects, CSV", from_csv(export(driver, objs).stdout.decode()), everything)
    out = os.path.join(tmp, "all.jsonl")
    export(driver, "--format", "jsonl", "--output", out, objs)
    with open(out, encoding="utf-8") as f:
        compare("all objects, JSON Lines", from_jsonl(f.read()), everything)

    # Threads, and S3 (an in-memory stand-in for the boto3 client, keys in
    # the objects' order), give the same rows.
    compare("all objects, 3 threads", everything,
            from_dataframe(sr.read_dataframe(objs, max_workers=3)))
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "tools", "python", "tests"))
    from s3_stub import StubS3
    prefix = "sluice/site=lab/gateway=g/date=2023-11-14/hour=22/"
    blobs = {}
    for i, path in enumerate(sr.expand_sources(objs)):
        with open(path, "rb") as f:
            blobs[prefix + "%05d.slp" % i] = f.read()
    s3 = StubS3(blobs)
    df = sr.read_s3("bucket", "sluice/", client=s3, max_workers=4, with_object=True)
    compare("all objects from S3, 4 threads", everything, from_dataframe(df))
    check(df["object"].iloc[0] == "s3://bucket/" + prefix + "00000.slp", "S3 object names")
    check(sr.read_s3("bucket", "sluice/", start="2023-11-15", client=s3).empty,
          "a range after the only hour= folder reads nothing")

    # Filters: exact names and globs, a time range given as RFC 3339.
    codec_dir = os.path.join(objs, "codecs")
    start, end = "2023-11-14T22:20:00Z", "2023-11-14T22:25:00.5Z"
    csv_text = export(driver, "--series", "int/ramp", "--glob", "dec/*", "--glob", "b*/*",
                      "--start", start, "--end", end, codec_dir).stdout.decode()
    df = sr.read_dataframe(codec_dir, series=["int/ramp"], series_globs=["dec/*", "b*/*"],
                           start=start, end=end)
    check(set(df["series"]) == {"int/ramp", "dec/cents", "dec/fine", "bool/flags",
                                "bytes/blobs"}, "filtered series: %s" % set(df["series"]))
    compare("filtered codecs", from_csv(csv_text), from_dataframe(df))

    if os.path.isdir(os.path.join(objs, "datasets")):
        ds = os.path.join(objs, "datasets", "skab")
        csv_text = export(driver, "--glob", "*Temp*", "--start", "2020-03-09T10:00:00Z",
                          "--end", "1583755200000000000", ds).stdout.decode()
        df = sr.read_dataframe(ds, series_globs="*Temp*", start="2020-03-09T10:00:00Z",
                               end=1583755200000000000)
        check(df["value"].dtype == np.float64, "one type gives a float64 column")
        compare("SKAB temperatures, two hours", from_csv(csv_text), from_dataframe(df))
        one = sorted(os.listdir(os.path.join(ds, "other")))[0]
        wide = sr.read_dataframe(os.path.join(ds, "other", one), wide=True)
        check(wide.shape[1] == 8, "wide SKAB object has 8 columns: %s" % (wide.shape,))

    # A damaged object: both refuse it, naming the file.
    with open(os.path.join(codec_dir, "default-1.slp"), "rb") as f:
        data = bytearray(f.read())
    data[40] ^= 0x01
    bad = os.path.join(tmp, "bad.slp")
    with open(bad, "wb") as f:
        f.write(data)
    p = export(driver, bad, ok=False)
    err = p.stderr.decode()
    check(p.returncode != 0 and "Corruption" in err and bad in err, "C++ refuses: " + err)
    try:
        sr.read_dataframe(bad)
        check(False, "Python accepted a damaged object")
    except sr.CorruptObject as e:
        check(bad in str(e) and "bad CRC" in str(e), "Python refuses: %s" % e)
        print("both refuse the damaged object:\n  C++:    %s  Python: %s" % (err.strip(), e))


if __name__ == "__main__":
    main()
