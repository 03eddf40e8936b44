#!/usr/bin/python3
"""Speed of sluice_reader (tools/python), file bytes to a pandas DataFrame,
on partition objects the C++ writer made from the real datasets (SKAB, NAB;
default encodings), in points (records) per second:

  native   the package as installed by pip: C++ decoders (sluice_reader._native)
  python   the same package with its pure-Python decoders (the reader before
           the native ones; set_backend("python"))
  csv      baseline with --sluice: `sluice export` to CSV, then pandas.read_csv
           (the export's time plus the parse)

Each is the best of --repeat runs, one thread. "per core" divides by the
process's CPU time, so that other load on the box does not count; "wall" by
elapsed time. --workers N also times read_dataframe(max_workers=N).

  bench/python_reader_bench.py --driver <build>/tests/integration/python_reader_driver
      [--sluice <build>/gateway/sluice] [--pythonpath DIR] [--objects DIR] [--repeat N]

--objects: a folder of *.slp to read instead of the driver's dataset objects.
Without --pythonpath, the installed sluice_reader (e.g. a venv's python).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time


def timed(fn, repeat):
    """(best wall s, best CPU s, result) over `repeat` runs."""
    best_wall = best_cpu = float("inf")
    out = None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    return best_wall, best_cpu, out


def report(name, points, wall, cpu, base=None):
    line = "%-22s %10d points  %7.3f s wall  %6.2f M points/s per core  %6.2f M points/s wall" % (
        name, points, wall, points / cpu / 1e6, points / wall / 1e6)
    if base:
        line += "  %5.1fx" % (base / cpu)
    print(line, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", help="python_reader_driver: makes the dataset objects")
    ap.add_argument("--objects", help="a folder of *.slp instead")
    ap.add_argument("--sluice", help="sluice binary: also time `sluice export` + read_csv")
    ap.add_argument("--pythonpath")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=0)
    args = ap.parse_args()
    if args.pythonpath:
        sys.path.insert(0, args.pythonpath)
    import pandas as pd
    import sluice_reader as sr

    tmp = tempfile.mkdtemp(prefix="sluice-pybench-")
    try:
        objects = args.objects
        if not objects:
            if not args.driver:
                sys.exit("give --driver (to make the dataset objects) or --objects")
            rc = subprocess.run([args.driver, "gen", os.path.join(tmp, "gen")]).returncode
            objects = os.path.join(tmp, "gen", "datasets")
            if rc != 0 or not os.path.isdir(objects):
                sys.exit("python_reader_driver gen found no datasets (exit %d)" % rc)
        paths = sr.expand_sources(objects)
        size = sum(os.path.getsize(p) for p in paths)
        print("sluice_reader %s from %s; native decoders %s" % (
            sr.__version__, os.path.dirname(sr.__file__),
            "installed" if sr.native_available() else "NOT installed"))
        print("%d objects, %d bytes, under %s" % (len(paths), size, objects))

        def read():
            return sr.read_dataframe(paths)

        results = {}
        backends = (["native"] if sr.native_available() else []) + ["python"]
        for b in backends:
            sr.set_backend(b)
            wall, cpu, df = timed(read, args.repeat if b == "native" else max(1, args.repeat // 2))
            results[b] = (len(df), wall, cpu)
        n = results["python"][0]
        print("%.3f bytes per point" % (size / n))
        base = results["python"][2]
        for b in backends:
            report(b, *results[b], base=base)
        if args.workers > 1 and sr.native_available():
            sr.set_backend("native")
            wall, cpu, df = timed(lambda: sr.read_dataframe(paths, max_workers=args.workers),
                                  args.repeat)
            report("native, %d threads" % args.workers, len(df), wall, cpu, base=base)
        if args.sluice:
            out = os.path.join(tmp, "export.csv")

            def export_and_parse():
                w = time.perf_counter()
                subprocess.run([args.sluice, "export", "--output", out, objects], check=True,
                               stderr=subprocess.DEVNULL)
                exported = time.perf_counter() - w
                df = pd.read_csv(out)
                return exported, len(df)

            # The export runs in a child: count its time as wall (one thread).
            best = float("inf")
            for _ in range(args.repeat):
                c = time.process_time()
                exported, rows = export_and_parse()
                best = min(best, exported + (time.process_time() - c))
            report("sluice export + csv", rows, best, best, base=base)
        if "native" in results:
            pps = results["native"][0] / results["native"][2]
            print("target: at least 10 M points/s per core, native: %.1f M -> %s"
                  % (pps / 1e6, "met" if pps >= 10e6 else "NOT met"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
