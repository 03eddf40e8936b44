"""Which decoders run: the native extension (sluice_reader._native, C++,
built by pip when python3-dev, python3-pybind11 and libzstd-dev are there)
or the pure-Python twins in _codecs.py and _crc32c.py. Both give the same
values bit for bit and refuse the same objects; the native one is about 10x
faster end to end and releases the GIL while it decodes, so threads decode
objects in parallel.

SLUICE_READER_NATIVE (environment, at import): `auto` (default) uses the
extension when it is installed, `off` never, `required` raises ImportError
without it. set_backend() switches at run time (benchmarks, tests).
"""

import os

try:
    from . import _native
except ImportError as e:  # not built: pure Python
    _native = None
    _native_error = e
else:
    _native_error = None

_mode = os.environ.get("SLUICE_READER_NATIVE", "auto")
if _mode == "required" and _native is None:
    raise ImportError("sluice_reader: SLUICE_READER_NATIVE=required but the native decoders are "
                      "not installed (%s); reinstall with python3-dev, python3-pybind11 and "
                      "libzstd-dev present" % _native_error)
_use_native = _native is not None and _mode != "off"


def backend():
    """'native' or 'python': the decoders in use."""
    return "native" if _use_native else "python"


def native_available():
    return _native is not None


def set_backend(name):
    """'native' (ImportError when not installed) or 'python'."""
    global _use_native
    if name == "native":
        if _native is None:
            raise ImportError("sluice_reader's native decoders are not installed (%s)"
                              % _native_error)
        _use_native = True
    elif name == "python":
        _use_native = False
    else:
        raise ValueError("backend is 'native' or 'python', not %r" % (name,))


def native():
    """The extension module when it is in use, else None."""
    return _native if _use_native else None
