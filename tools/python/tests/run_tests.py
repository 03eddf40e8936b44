#!/usr/bin/python3
"""Runs the sluice_reader unit tests (test_*.py here) with unittest.

  run_tests.py [--pythonpath DIR | --installed]
      DIR holds the sluice_reader package (a CMake build copies it to
      <build>/python); default: tools/python beside this folder.
      --installed: the sluice_reader the interpreter finds (a venv's).

Exit 77 (skipped, loudly) when Debian's python3-pandas, -zstandard or
-protobuf are missing, unless SLUICE_TEST_REQUIRE_SERVICES=1 (then: fail).
"""

import argparse
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--pythonpath", default=os.path.dirname(here))
ap.add_argument("--installed", action="store_true")
args = ap.parse_args()

try:
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import zstandard  # noqa: F401
    import google.protobuf  # noqa: F401
except ImportError as e:
    why = "%s; install python3-pandas python3-zstandard python3-protobuf" % e
    if os.environ.get("SLUICE_TEST_REQUIRE_SERVICES") == "1":
        sys.exit("FAILED: " + why)
    print("=" * 72 + "\nSKIPPED: " + why + "\n" + "=" * 72, file=sys.stderr)
    sys.exit(77)

if not args.installed:
    sys.path.insert(0, args.pythonpath)
sys.path.insert(0, here)  # the tests' shared helpers
suite = unittest.defaultTestLoader.discover(here, pattern="test_*.py")
result = unittest.TextTestRunner(verbosity=2).run(suite)
sys.exit(0 if result.wasSuccessful() else 1)
