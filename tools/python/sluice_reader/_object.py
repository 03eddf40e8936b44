"""One partition object: header, footer, metadata and chunks.

Mirrors sync/src/partition_reader.cc and partition_metadata.cc, check for
check, so that an object the C++ reader refuses is refused here too.
"""

import struct

import numpy as np
import zstandard

from . import _codecs
from ._codecs import CorruptObject
from ._crc32c import crc32c, unmask

MAGIC = 0x4F504C53  # "SLPO"
VERSION = 1
HEADER_SIZE = 16
FOOTER_SIZE = 32
COMPRESSION_NONE = 1
COMPRESSION_ZSTD = 2
DEFAULT_MAX_CHUNK_BYTES = 1 << 30  # PartitionReaderOptions::max_chunk_bytes
FOOTER_FLAG_METADATA_ZSTD = 1  # kFooterFlagMetadataZstd: metadata is one zstd frame
MAX_METADATA_BYTES = 1 << 28  # kMaxMetadataBytes

TYPE_NAMES = {1: "float64", 2: "int64", 3: "bool", 4: "bytes"}
_EMPTY = {1: np.float64, 2: np.int64, 3: bool, 4: object}


def _load_pb2():
    try:
        from . import partition_pb2  # generated from proto/partition.proto
    except ImportError as e:
        raise ImportError(
            "sluice_reader needs partition_pb2.py, generated from the Sluice checkout with\n"
            "  protoc -I proto --python_out=tools/python/sluice_reader proto/partition.proto\n"
            "(or use the copy a CMake build puts in <build>/python; see tools/python/README.md)"
        ) from e
    return partition_pb2


class Series:
    """One series of an object: its dictionary entry, stats and chunk refs."""

    def __init__(self, index, pb):
        self.index = index
        self.id = pb.series_id
        self.name = pb.name
        self.type = TYPE_NAMES[pb.type]
        self.type_id = pb.type
        self.unit = pb.unit
        self.tags = [(t.key, t.value) for t in pb.tags]
        self.stats = pb.stats
        self.count = pb.stats.count
        self.timestamps = pb.timestamps
        self.values = pb.values

    def where(self, what, chunk):
        return "series '%s' (id %d) %s chunk at offset %d" % (self.name, self.id, what, chunk.offset)

    def __repr__(self):
        return "Series(%r, %s, %d records)" % (self.name, self.type, self.count)


class PartitionObject:
    """A partition object held in memory. Construction checks the header,
    footer and metadata; chunk CRCs are checked when a chunk is read."""

    def __init__(self, data, name="<bytes>", max_chunk_bytes=DEFAULT_MAX_CHUNK_BYTES):
        self.data = bytes(data)
        self.name = name
        try:
            self.metadata = self._parse(max_chunk_bytes)
        except CorruptObject as e:
            raise CorruptObject("%s: %s" % (name, e)) from None
        self.series = [Series(i, s) for i, s in enumerate(self.metadata.series)]
        self._by_name = {s.name: s for s in self.series}

    @classmethod
    def open(cls, path, **kw):
        with open(path, "rb") as f:
            return cls(f.read(), name=str(path), **kw)

    def _parse(self, max_chunk_bytes):
        b = self.data
        if len(b) < HEADER_SIZE + FOOTER_SIZE:
            raise CorruptObject("partition object of %d bytes is shorter than header and footer"
                                % len(b))
        magic, version, flags, _, hcrc = struct.unpack_from("<IHHII", b, 0)
        if magic != MAGIC:
            raise CorruptObject("header: bad magic")
        if unmask(hcrc) != crc32c(b[:12]):
            raise CorruptObject("header at offset 0: bad CRC")
        if version != VERSION:
            raise CorruptObject("header: unsupported version %d" % version)
        if flags != 0:
            raise CorruptObject("header: unknown flags")
        at = len(b) - FOOTER_SIZE
        meta_off, meta_len, meta_crc, fver, fflags, _, fcrc, fmagic = struct.unpack_from(
            "<QIIHHIII", b, at)
        if fmagic != MAGIC:
            raise CorruptObject("footer at offset %d: bad magic (truncated?)" % at)
        if unmask(fcrc) != crc32c(b[at:at + 24]):
            raise CorruptObject("footer at offset %d: bad CRC" % at)
        if fver != VERSION or fflags & ~FOOTER_FLAG_METADATA_ZSTD:
            raise CorruptObject("footer: unsupported version or flags")
        if meta_off < HEADER_SIZE or meta_off > at or meta_len != at - meta_off:
            raise CorruptObject("footer: metadata at offset %d length %d does not end at the footer"
                                % (meta_off, meta_len))
        meta_bytes = b[meta_off:at]
        if unmask(meta_crc) != crc32c(meta_bytes):
            raise CorruptObject("metadata at offset %d: bad CRC" % meta_off)
        if fflags & FOOTER_FLAG_METADATA_ZSTD:
            try:
                meta_bytes = _decompress(meta_bytes, None, MAX_METADATA_BYTES)
            except CorruptObject as e:
                raise CorruptObject("metadata at offset %d: %s" % (meta_off, e)) from None
        pb2 = _load_pb2()
        meta = pb2.PartitionMetadata()
        try:
            meta.ParseFromString(meta_bytes)
        except Exception:  # protobuf raises DecodeError, or others on odd input
            raise CorruptObject("metadata at offset %d: metadata is not a valid PartitionMetadata "
                                "message" % meta_off) from None
        _check_metadata(meta, meta_off, max_chunk_bytes)
        return meta

    def find(self, name):
        """The Series called `name`, or KeyError."""
        return self._by_name[name]

    def _crc_ok(self, c):
        return unmask(c.crc32c) == crc32c(memoryview(self.data)[c.offset:c.offset + c.length])

    def _load(self, s, c, what):
        if not self._crc_ok(c):
            raise CorruptObject("%s: %s: bad CRC" % (self.name, s.where(what, c)))
        stored = self.data[c.offset:c.offset + c.length]
        if c.compression == COMPRESSION_NONE:
            return stored
        try:
            return _decompress(stored, c.raw_length)
        except CorruptObject as e:
            raise CorruptObject("%s: %s: %s" % (self.name, s.where(what, c), e)) from None

    def read_series(self, series, start_ns=None, end_ns=None):
        """(timestamps int64 array, values array) of a Series (or its name or
        index), in write order, keeping timestamps in [start_ns, end_ns)."""
        s = self._resolve(series)
        lo = -(1 << 63) if start_ns is None else int(start_ns)
        hi = (1 << 63) - 1 if end_ns is None else int(end_ns) - 1  # inclusive, as TimeRange
        st = s.stats
        if s.count > 0 and not (st.min_time_ns <= hi and st.max_time_ns >= lo):
            # Nothing to decode, but damage is still reported, as in C++.
            for c, what in ((s.timestamps, "timestamps"), (s.values, "values")):
                if not self._crc_ok(c):
                    raise CorruptObject("%s: %s: bad CRC" % (self.name, s.where(what, c)))
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=_EMPTY[s.type_id])
        ts_decoder = _codecs.TIMESTAMP_DECODERS[s.timestamps.codec]
        ts = self._decode(s, s.timestamps, "timestamps", lambda raw: ts_decoder(raw, s.count))
        _, decoder = _codecs.VALUE_DECODERS[s.values.codec]
        vals = self._decode(s, s.values, "values", lambda raw: decoder(raw, s.count))
        if start_ns is None and end_ns is None:
            return ts, vals
        keep = (ts >= lo) & (ts <= hi)
        return ts[keep], vals[keep]

    def _decode(self, s, c, what, fn):
        raw = self._load(s, c, what)
        try:
            return fn(raw)
        except CorruptObject as e:
            raise CorruptObject("%s: %s: %s" % (self.name, s.where(what, c), e)) from None

    def verify_checksums(self):
        """Checks every chunk's CRC; CorruptObject names the first bad one."""
        for s in self.series:
            for c, what in ((s.timestamps, "timestamps"), (s.values, "values")):
                if not self._crc_ok(c):
                    raise CorruptObject("%s: %s: bad CRC" % (self.name, s.where(what, c)))

    def _resolve(self, series):
        if isinstance(series, Series):
            return series
        if isinstance(series, int):
            return self.series[series]
        return self.find(series)


def _decompress(stored, raw_length, max_length=None):
    """One zstd frame with its content size equal to raw_length (or, when
    raw_length is None, at most max_length), nothing after."""
    try:
        params = zstandard.get_frame_parameters(stored)
    except zstandard.ZstdError:
        raise CorruptObject("not a zstd frame with a content size") from None
    if params.content_size in (-1, zstandard.CONTENTSIZE_UNKNOWN, zstandard.CONTENTSIZE_ERROR):
        raise CorruptObject("not a zstd frame with a content size")
    if raw_length is None:
        if params.content_size > max_length:
            raise CorruptObject("zstd frame larger than %d" % max_length)
        raw_length = params.content_size
    if params.content_size != raw_length:
        raise CorruptObject("zstd frame size differs from raw_length")
    d = zstandard.ZstdDecompressor().decompressobj()
    try:
        out = d.decompress(stored)
    except zstandard.ZstdError as e:
        raise CorruptObject("zstd: %s" % e) from None
    if not d.eof:
        raise CorruptObject("zstd frame shorter than raw_length")
    if d.unused_data:
        raise CorruptObject("bytes after the zstd frame")
    if len(out) != raw_length:
        raise CorruptObject("zstd frame shorter than raw_length")
    return out


def _check_chunk(c, chunk_end, max_raw):
    known = c.codec in _codecs.TIMESTAMP_DECODERS or c.codec in _codecs.VALUE_DECODERS
    if not known:
        raise CorruptObject("unknown chunk codec %d" % c.codec)
    if c.compression not in (COMPRESSION_NONE, COMPRESSION_ZSTD):
        raise CorruptObject("unknown chunk compression %d" % c.compression)
    if c.offset < HEADER_SIZE or c.offset > chunk_end or c.length > chunk_end - c.offset:
        raise CorruptObject("chunk at offset %d length %d outside the chunk area"
                            % (c.offset, c.length))
    if c.raw_length > max_raw:
        raise CorruptObject("chunk raw_length above the reader's limit")
    if c.compression == COMPRESSION_NONE and c.raw_length != c.length:
        raise CorruptObject("uncompressed chunk with raw_length != length")


def _check_metadata(m, chunk_end, max_raw):
    """ParseMetadata's checks (partition_metadata.cc)."""
    ctx = "metadata at offset %d: " % chunk_end
    if m.format_version != VERSION:
        raise CorruptObject(ctx + "metadata format_version %d" % m.format_version)
    ids, names, extents, total = set(), set(), [], 0
    for s in m.series:
        where = ctx + "series '%s' (id %d)" % (s.name, s.series_id)
        if s.type not in TYPE_NAMES:
            raise CorruptObject(where + ": unknown value type")
        if s.series_id in ids or s.name in names:
            raise CorruptObject(where + ": duplicate series id or name")
        ids.add(s.series_id)
        names.add(s.name)
        for c, what in ((s.timestamps, " timestamps"), (s.values, " values")):
            try:
                _check_chunk(c, chunk_end, max_raw)
            except CorruptObject as e:
                raise CorruptObject(where + what + ": " + str(e)) from None
        if s.timestamps.codec not in _codecs.TIMESTAMP_DECODERS:
            raise CorruptObject(where + ": timestamps chunk has a values codec")
        vtype = _codecs.VALUE_DECODERS.get(s.values.codec, (None,))[0]
        if vtype != s.type:
            raise CorruptObject(where + ": values codec does not fit the type")
        extents += [(s.timestamps.offset, s.timestamps.length), (s.values.offset, s.values.length)]
        total += s.stats.count
    if total != m.record_count:
        raise CorruptObject(ctx + "record_count differs from the series counts")
    extents.sort()
    for a, b in zip(extents, extents[1:]):
        if a != b and a[0] + a[1] > b[0]:  # equal extents: one clock shared by many series
            raise CorruptObject(ctx + "chunks overlap at offset %d" % b[0])
