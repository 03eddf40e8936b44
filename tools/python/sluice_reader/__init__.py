"""Reads Sluice partition objects (*.slp) into pandas, bit-exact.

    import sluice_reader as sr
    df = sr.read_dataframe("objects/", series_globs=["plant/line-1/*"],
                           start="2025-01-31T00:00:00Z", end="2025-02-01T00:00:00Z")

    df = sr.read_s3("plant-data", "sluice/site=plant-a/", start=..., end=...,
                    endpoint_url="https://rgw.example:7480")

    fleet = sr.read_watermarks_s3("plant-data", "sluice")   # or read_watermarks("folder/")
    fleet.complete_until, fleet.complete_hours("2025-01-31")

Needs only Debian's python3-pandas, python3-zstandard and python3-protobuf
(python3-boto3 for S3). Format: docs/format/partition.md. See
tools/python/README.md.
"""

import fnmatch
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from ._backend import backend, native_available, set_backend
from ._codecs import CorruptObject
from ._object import TYPE_NAMES, PartitionObject, Series
from ._s3 import list_keys, read_s3
from ._watermarks import (BadWatermark, FleetWatermarks, parse_watermark, read_watermarks,
                          read_watermarks_s3)

__version__ = "0.2.0"

__all__ = [
    "BadWatermark", "CorruptObject", "FleetWatermarks", "PartitionObject", "Series",
    "TYPE_NAMES", "backend", "expand_sources", "list_keys", "native_available", "open_objects",
    "parse_watermark", "read_dataframe", "read_records", "read_s3", "read_watermarks",
    "read_watermarks_s3", "set_backend", "to_wide", "to_ns",
]


def expand_sources(sources):
    """Object paths in the order sluice export uses: sources in the order
    given; a folder stands for its *.slp files, recursively, sorted by path."""
    if isinstance(sources, (str, bytes, os.PathLike, PartitionObject)):
        sources = [sources]
    out = []
    for src in sources:
        if isinstance(src, (bytes, bytearray, memoryview, PartitionObject)):
            out.append(src)
        elif os.path.isdir(src):
            found = []
            for root, _, files in os.walk(src):
                # Not a bare ".slp": like std::filesystem, that name has no extension.
                found += [os.path.join(root, f) for f in files
                          if f.endswith(".slp") and f != ".slp"]
            if not found:
                raise FileNotFoundError("folder %s holds no *.slp objects" % src)
            # Byte order of the UTF-8 paths, as std::sort on std::string does.
            out += sorted(found, key=lambda p: os.fsencode(p))
        else:
            out.append(os.fspath(src))
    return out


def open_objects(sources):
    """Yields a PartitionObject per source (path, folder, bytes or object),
    one at a time so that memory holds one object."""
    for src in expand_sources(sources):
        if isinstance(src, PartitionObject):
            yield src
        elif isinstance(src, (bytes, bytearray, memoryview)):
            yield PartitionObject(src)
        else:
            yield PartitionObject.open(src)


def to_ns(t):
    """ns since the epoch from an int (taken as ns), a string (RFC 3339 or
    anything pandas parses), a datetime or a pandas Timestamp. Naive times
    are UTC."""
    if t is None or isinstance(t, (int, np.integer)):
        return None if t is None else int(t)
    ts = pd.Timestamp(t)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.value)


class _Selector:
    def __init__(self, series, series_globs):
        self.names = {series} if isinstance(series, str) else set(series or ())
        self.globs = [series_globs] if isinstance(series_globs, str) else list(series_globs or ())

    def keep(self, name):
        if not self.names and not self.globs:
            return True
        return name in self.names or any(fnmatch.fnmatchcase(name, g) for g in self.globs)


def _time_range(start, end):
    lo, hi = to_ns(start), to_ns(end)
    if lo is not None and hi is not None and lo >= hi:
        raise ValueError("time range start %d is not before its end %d" % (lo, hi))
    return lo, hi


def _object_records(obj, sel, lo, hi):
    """[(object, Series, timestamps, values)] of one object's selected series
    with records in [lo, hi)."""
    out = []
    for s in obj.series:
        if not sel.keep(s.name):
            continue
        ts, vals = obj.read_series(s, lo, hi)
        if len(ts):
            out.append((obj, s, ts, vals))
    return out


def read_records(sources, series=None, series_globs=None, start=None, end=None):
    """Yields (object, Series, timestamps int64 array, values array) per
    selected series with records in [start, end), in export order."""
    sel = _Selector(series, series_globs)
    lo, hi = _time_range(start, end)
    for obj in open_objects(sources):
        yield from _object_records(obj, sel, lo, hi)


def _open(src):
    if isinstance(src, PartitionObject):
        return src
    if isinstance(src, (bytes, bytearray, memoryview)):
        return PartitionObject(src)
    return PartitionObject.open(src)


def _decode_all(items, load, sel, lo, hi, max_workers):
    """Records of every item, in item order: load(item) gives a
    PartitionObject. With max_workers > 1 a thread pool loads and decodes
    items in parallel (the native decoders and zstd release the GIL)."""
    def one(item):
        # The object's name, not the object: its bytes can go once decoded.
        return [(o.name, s, ts, v) for o, s, ts, v in _object_records(load(item), sel, lo, hi)]

    if not max_workers or max_workers <= 1 or len(items) <= 1:
        return [r for item in items for r in one(item)]
    with ThreadPoolExecutor(max_workers=max_workers) as pool:
        return [r for recs in pool.map(one, items) for r in recs]


def read_dataframe(sources, series=None, series_globs=None, start=None, end=None, wide=False,
                   with_object=False, max_workers=None):
    """Loads objects into one long DataFrame, one row per record:

      series     category   the series name
      timestamp  datetime64[ns, UTC] (int64 ns exactly; INT64_MIN shows as NaT)
      value      float64 / int64 / bool when every selected series has that
                 type, else object (Python float, int, bool or bytes)
      type       category   float64 | int64 | bool | bytes
      unit       category
      object     the source path (only with with_object=True)

    Rows come in export order (object, series in object order, write order).
    `series`: exact names; `series_globs`: fnmatch patterns (`*` crosses `/`);
    a series matching either is kept; neither given keeps all. `start`/`end`:
    half-open [start, end), see to_ns(). `wide=True` returns to_wide(df).
    `max_workers`: decode that many objects at once in threads (all objects'
    records are in memory at the end anyway).
    Raises CorruptObject naming the file for a damaged object."""
    sel = _Selector(series, series_globs)
    lo, hi = _time_range(start, end)
    parts = _decode_all(expand_sources(sources), _open, sel, lo, hi, max_workers)
    return _frame(parts, wide, with_object)


def _categorical(labels, counts):
    """pd.Categorical(np.repeat(labels, counts)) without hashing every row."""
    cats = sorted(set(labels))
    index = {c: i for i, c in enumerate(cats)}
    codes = np.repeat(np.array([index[x] for x in labels], dtype=np.int32), counts)
    return pd.Categorical.from_codes(codes, categories=pd.Index(cats, dtype=object))


def _frame(parts, wide, with_object):
    """The documented DataFrame of [(object name, Series, ts, values)]."""
    counts = [len(ts) for _, _, ts, _ in parts]
    types = {s.type for _, s, _, _ in parts}
    if parts:
        ts = np.concatenate([p[2] for p in parts])
        if len(types) == 1 and "bytes" not in types:
            values = np.concatenate([p[3] for p in parts])
        else:  # mixed: Python objects; .tolist() keeps float bits and NaN payloads
            values = np.empty(len(ts), dtype=object)
            values[:] = [v for p in parts for v in _as_objects(p[3])]
    else:
        ts, values = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)

    def column(fn):
        return _categorical([fn(p) for p in parts], np.array(counts, dtype=np.int64))

    data = {
        "series": column(lambda p: p[1].name),
        "timestamp": pd.to_datetime(ts.view("M8[ns]"), utc=True),
        "value": values,
        "type": column(lambda p: p[1].type),
        "unit": column(lambda p: p[1].unit),
    }
    if with_object:
        data["object"] = column(lambda p: p[0])
    df = pd.DataFrame(data)
    return to_wide(df) if wide else df


def _as_objects(arr):
    if arr.dtype == object:
        return list(arr)
    return arr.tolist()


def to_wide(df):
    """One column per series, indexed by timestamp: for series on a shared
    clock. Raises ValueError when a series repeats a timestamp."""
    return df.pivot(index="timestamp", columns="series", values="value")
