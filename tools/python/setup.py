"""Builds sluice_reader._native, the C++ decoders (src/), beside the
pure-Python package; metadata lives in pyproject.toml.

SLUICE_READER_NATIVE (environment, at build time):
  auto      (default) build it when pybind11 and a compiler are there; else
            warn and install the pure-Python decoders only (about 10x slower)
  required  fail the install when it cannot be built
  off       do not build it
"""

import os
import sys

from setuptools import Extension, setup

MODE = os.environ.get("SLUICE_READER_NATIVE", "auto")
if MODE not in ("auto", "required", "off"):
    sys.exit("SLUICE_READER_NATIVE must be auto, required or off, not %r" % MODE)


def warn(why):
    bar = "=" * 72
    print("%s\nsluice_reader: %s;\ninstalling the pure-Python decoders only (slower).\n%s"
          % (bar, why, bar), file=sys.stderr)


def extensions():
    if MODE == "off":
        return []
    try:
        import pybind11
    except ImportError:
        if MODE == "required":
            sys.exit("sluice_reader: SLUICE_READER_NATIVE=required but pybind11 is missing "
                     "(Debian: apt-get install python3-pybind11)")
        warn("pybind11 is missing (Debian: python3-pybind11)")
        return []
    return [Extension(
        "sluice_reader._native",
        ["src/native.cc", "src/codecs.cc"],
        include_dirs=[pybind11.get_include()],
        libraries=["zstd"],
        language="c++",
        extra_compile_args=["-std=c++20", "-O2", "-g0", "-fvisibility=hidden"],
        # auto: a failed compile (no python3-dev, no libzstd-dev) is a
        # warning and the package still installs.
        optional=MODE == "auto",
    )]


setup(ext_modules=extensions())
