#!/usr/bin/python3
"""tools/python/sluice_reader/partition_pb2.py (shipped in the package, so
that users need no protoc) is exactly what protoc makes of
proto/partition.proto today. Fails with the command that regenerates it.

  python_reader_pb2_test.py --protoc <protoc> --source-dir <checkout>
"""

import argparse
import difflib
import os
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--protoc", default="protoc")
ap.add_argument("--source-dir", required=True)
args = ap.parse_args()

proto_dir = os.path.join(args.source_dir, "proto")
shipped = os.path.join(args.source_dir, "tools", "python", "sluice_reader", "partition_pb2.py")
with tempfile.TemporaryDirectory(prefix="sluice-pb2-") as tmp:
    subprocess.run([args.protoc, "-I", proto_dir, "--python_out=" + tmp,
                    os.path.join(proto_dir, "partition.proto")], check=True)
    with open(os.path.join(tmp, "partition_pb2.py"), encoding="utf-8") as f:
        fresh = f.read()
try:
    with open(shipped, encoding="utf-8") as f:
        committed = f.read()
except FileNotFoundError:
    committed = ""
if fresh != committed:
    sys.stdout.writelines(difflib.unified_diff(
        committed.splitlines(True), fresh.splitlines(True), "committed partition_pb2.py",
        "protoc output", n=1))
    print("\nFAILED: %s is stale; from the checkout root run\n"
          "  protoc -I proto --python_out=tools/python/sluice_reader proto/partition.proto\n"
          "(Debian 12's protoc 3.21, as the package's python3-protobuf) and commit it."
          % shipped, file=sys.stderr)
    sys.exit(1)
print("partition_pb2.py matches protoc %s's output for proto/partition.proto"
      % subprocess.run([args.protoc, "--version"], capture_output=True, text=True).stdout.strip())
