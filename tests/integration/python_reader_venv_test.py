#!/usr/bin/python3
"""tools/python/README.md's install, exactly, then the reader's tests on the
installed package:

  /usr/bin/python3 -m venv --system-site-packages <tmp>/venv
  <tmp>/venv/bin/pip install --no-build-isolation --no-index <copy of tools/python>

with SLUICE_READER_NATIVE=required, so the native decoders must build (no
silent fallback to the slow ones). No network: --no-index, and the build
takes setuptools, wheel and pybind11 from Debian. Then, with the venv's
interpreter and nothing on PYTHONPATH: the unit tests and
python_reader_test.py against `sluice export`.

Exit 77 (skipped, loudly) when a Debian package it needs is missing
(python3-venv, python3-pip, python3-dev, python3-pybind11, libzstd-dev,
python3-pandas, python3-zstandard, python3-protobuf), unless
SLUICE_TEST_REQUIRE_SERVICES=1 (then: fail).

  python_reader_venv_test.py --source-dir <checkout> --driver <python_reader_driver>
                             --sluice <sluice>
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

PY = "/usr/bin/python3"
REQUIRE = os.environ.get("SLUICE_TEST_REQUIRE_SERVICES") == "1"


def skip_or_fail(why):
    if REQUIRE:
        sys.exit("FAILED: %s (SLUICE_TEST_REQUIRE_SERVICES=1)" % why)
    print("=" * 72 + "\nSKIPPED: %s\n" % why + "=" * 72, file=sys.stderr)
    sys.exit(77)


def prerequisites():
    probe = ("import ensurepip, numpy, pandas, zstandard, google.protobuf, pybind11, "
             "setuptools, wheel")
    p = subprocess.run([PY, "-c", probe], capture_output=True, text=True)
    if p.returncode != 0:
        skip_or_fail("%s; install python3-venv python3-pip python3-pybind11 python3-pandas "
                     "python3-zstandard python3-protobuf python3-wheel"
                     % p.stderr.strip().splitlines()[-1])
    include = subprocess.run([PY, "-c", "import sysconfig; print(sysconfig.get_path('include'))"],
                             capture_output=True, text=True).stdout.strip()
    if not os.path.exists(os.path.join(include, "Python.h")):
        skip_or_fail("no Python.h in %s; install python3-dev" % include)
    if not os.path.exists("/usr/include/zstd.h"):
        skip_or_fail("no /usr/include/zstd.h; install libzstd-dev")


def run(cmd, **kw):
    print("+ " + " ".join(cmd), flush=True)
    t = time.monotonic()
    p = subprocess.run(cmd, **kw)
    print("  (%.1f s, exit %d)" % (time.monotonic() - t, p.returncode), flush=True)
    if p.returncode != 0:
        sys.exit("FAILED: %s exited with %d" % (cmd[0], p.returncode))
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--driver", required=True)
    ap.add_argument("--sluice", required=True)
    args = ap.parse_args()
    prerequisites()
    pkg = os.path.join(args.source_dir, "tools", "python")
    tmp = tempfile.mkdtemp(prefix="sluice-pyvenv-")
    try:
        # A copy, so that pip's in-tree build leaves the checkout clean.
        src = os.path.join(tmp, "src")
        shutil.copytree(pkg, src, ignore=shutil.ignore_patterns(
            "__pycache__", "build", "*.egg-info", "*.so", "venv"))
        venv = os.path.join(tmp, "venv")
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))}
        env.update(SLUICE_READER_NATIVE="required", PIP_DISABLE_PIP_VERSION_CHECK="1")
        run([PY, "-m", "venv", "--system-site-packages", venv], env=env, cwd=tmp)
        vpy = os.path.join(venv, "bin", "python")
        run([os.path.join(venv, "bin", "pip"), "install", "--no-build-isolation", "--no-index",
             src], env=env, cwd=tmp)
        # Imported from the venv, not from the copy or the checkout.
        where = run([vpy, "-c", "import sluice_reader as sr; print(sr.__file__, sr.backend())"],
                    env=env, cwd=tmp, capture_output=True, text=True).stdout.split()
        print("installed: %s, %s decoders" % tuple(where))
        if not where[0].startswith(venv + os.sep) or where[1] != "native":
            sys.exit("FAILED: expected the venv's sluice_reader with native decoders, got %s"
                     % where)
        run([vpy, os.path.join(pkg, "tests", "run_tests.py"), "--installed"], env=env, cwd=tmp)
        here = os.path.dirname(os.path.abspath(__file__))
        run([vpy, os.path.join(here, "python_reader_test.py"), "--driver", args.driver,
             "--sluice", args.sluice, "--backend", "native"], env=env, cwd=tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("OK")


if __name__ == "__main__":
    main()
