"""Column codecs of partition objects (docs/format/partition.md).

A twin of sync/src/{int,float,misc}_codec.cc: the same checks, the same
results bit for bit. Integer arithmetic wraps modulo 2**64 as in C++, done in
numpy uint64 arrays (array arithmetic wraps silently; Python ints are masked
before they meet numpy). Every error is a CorruptObject, never a crash.
"""

import numpy as np

MASK64 = (1 << 64) - 1
BLOCK = 128  # kIntBlockSize
MAX_DECIMAL_EXPONENT = 18
# Exact doubles, as kPow10 in float_codec.cc (10**e literals parse exactly).
POW10 = np.array([float("1e%d" % e) for e in range(MAX_DECIMAL_EXPONENT + 1)], dtype=np.float64)

PACK_ZIGZAG_VARINT = 1
PACK_FRAME_OF_REFERENCE = 2
PACK_RICE = 3  # revision-2 streams only (codecs 2 and 13)
RICE_ESCAPE = 32
# Stream revisions (StreamRevision in int_codec.h): what a codec's streams may hold.
REV1 = 1  # packings 1, 2; transforms none, delta
REV2 = 2  # also Rice packing and the dictionary transform
MAX_DIGITS = 16
DIGITS_EXPONENT_LIMIT = 22
POW10_EXACT = [float("1e%d" % e) for e in range(DIGITS_EXPONENT_LIMIT + 1)]


class CorruptObject(ValueError):
    """The bytes are not a valid partition object; the message says where."""


def unzigzag(u):
    """zigzag-decoded value as a uint64 word (Python int in [0, 2**64))."""
    return ((u >> 1) ^ (-(u & 1))) & MASK64


def _u64(words):
    return np.asarray(words, dtype=np.uint64)


class Bytes:
    """Sequential reader over untrusted bytes (ByteReader in base/coding.h)."""

    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def remaining(self):
        return len(self.data) - self.pos

    def byte(self, what):
        if self.pos >= len(self.data):
            raise CorruptObject(what)
        b = self.data[self.pos]
        self.pos += 1
        return b

    def take(self, n, what):
        if n > self.remaining():
            raise CorruptObject(what)
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def varint(self, what):
        result = 0
        for shift in range(0, 64, 7):
            b = self.byte(what)
            if shift == 63 and b > 1:  # the 10th byte holds only bit 63
                raise CorruptObject(what)
            result |= (b & 0x7F) << shift
            if b < 0x80:
                return result
        raise CorruptObject(what)

    def varints(self, count, what):
        """`count` LEB128 varints as uint64, vectorised: the hot path."""
        if count == 0:
            return np.zeros(0, dtype=np.uint64)
        data = np.frombuffer(self.data, dtype=np.uint8, offset=self.pos)
        ends = np.flatnonzero(data < 0x80)[:count]
        if len(ends) < count:
            raise CorruptObject(what)
        starts = np.empty(count, dtype=np.int64)
        starts[0] = 0
        starts[1:] = ends[:-1] + 1
        lengths = ends - starts + 1
        if lengths.max() > 10:
            raise CorruptObject(what)
        last = data[ends]
        if np.any((lengths == 10) & (last > 1)):
            raise CorruptObject(what)
        n = int(ends[-1]) + 1
        group = np.repeat(np.arange(count), lengths)
        shift = (np.arange(n) - starts[group]) * 7
        parts = (data[:n] & 0x7F).astype(np.uint64) << shift.astype(np.uint64)
        # Disjoint bits, so the sum is the OR and cannot carry.
        values = np.add.reduceat(parts, starts)
        self.pos += n
        return values.astype(np.uint64)


class BitStream:
    """LSB-first bits over bytes (BitReader in sync/src/bit_io.h)."""

    def __init__(self, data):
        self.data = bytes(data)
        self.padded = self.data + b"\0" * 16
        self.total = len(self.data) * 8
        self.pos = 0

    def peek64(self):
        byte, off = self.pos >> 3, self.pos & 7
        return (int.from_bytes(self.padded[byte:byte + 9], "little") >> off) & MASK64

    def get(self, bits, what):
        if bits == 0:
            return 0
        if bits > self.total - self.pos:
            raise CorruptObject(what)
        byte, off = self.pos >> 3, self.pos & 7
        v = (int.from_bytes(self.padded[byte:byte + 9], "little") >> off) & ((1 << bits) - 1)
        self.pos += bits
        return v

    def skip(self, bits, what):
        if bits > self.total - self.pos:
            raise CorruptObject(what)
        self.pos += bits


def _get_rice(r, count):
    """Rice blocks (GetRice in int_codec.cc)."""
    if (count + BLOCK - 1) // BLOCK > r.remaining() // 2 or count // 8 > r.remaining():
        raise CorruptObject("integer stream: count exceeds data")
    out = []
    for i in range(0, count, BLOCK):
        n = min(BLOCK, count - i)
        zcenter = r.varint("integer stream: truncated Rice block header")
        k = r.byte("integer stream: truncated Rice block header")
        if k > 63:
            raise CorruptObject("integer stream: Rice parameter above 63")
        center = unzigzag(zcenter)
        bits = BitStream(r.data[r.pos:])
        for _ in range(n):
            w = bits.peek64()
            q = (w & -w).bit_length() - 1 if w else 64
            if q < RICE_ESCAPE:
                bits.skip(q + 1, "integer stream: truncated Rice block")
                u = ((q << k) & MASK64) | bits.get(k, "integer stream: truncated Rice block")
            else:
                bits.skip(RICE_ESCAPE, "integer stream: truncated Rice escape")
                u = bits.get(64, "integer stream: truncated Rice escape")
            out.append((center + unzigzag(u)) & MASK64)
        r.pos += (bits.pos + 7) // 8
    return _u64(out)


def get_int_stream(r, count, rev=REV1):
    """An integer stream of `count` 64-bit words (GetIntStream)."""
    mode = r.byte("integer stream: missing packing byte")
    if mode == PACK_RICE and rev == REV2:
        return _get_rice(r, count)
    if mode == PACK_ZIGZAG_VARINT:
        if count > r.remaining():
            raise CorruptObject("integer stream: count exceeds data")
        z = r.varints(count, "integer stream: truncated varint")
        # zigzag in uint64: (z >> 1) ^ -(z & 1), wrapping.
        return (z >> np.uint64(1)) ^ (np.uint64(0) - (z & np.uint64(1)))
    if mode != PACK_FRAME_OF_REFERENCE:
        raise CorruptObject("integer stream: unknown packing")
    if (count + BLOCK - 1) // BLOCK > r.remaining() // 2:
        raise CorruptObject("integer stream: count exceeds data")
    out = np.empty(count, dtype=np.uint64)
    for i in range(0, count, BLOCK):
        n = min(BLOCK, count - i)
        zmin = r.varint("integer stream: truncated block header")
        width = r.byte("integer stream: truncated block header")
        if width > 64:
            raise CorruptObject("integer stream: bit width above 64")
        packed = r.take((n * width + 7) // 8, "integer stream: truncated block")
        base = np.uint64(unzigzag(zmin))
        if width == 0:
            out[i:i + n] = base
            continue
        bits = np.unpackbits(np.frombuffer(packed, dtype=np.uint8), bitorder="little")
        bits = bits[:n * width].reshape(n, width).astype(np.uint64)
        offs = (bits << np.arange(width, dtype=np.uint64)).sum(axis=1, dtype=np.uint64)
        out[i:i + n] = offs + base  # wraps mod 2**64
    return out


def decode_timestamps(data, count):
    if count > len(data) * 64 + 2:
        raise CorruptObject("timestamps: count exceeds data")
    r = Bytes(data)
    t0 = r.varint("timestamps: truncated first value") if count >= 1 else 0
    d1 = r.varint("timestamps: truncated first delta") if count >= 2 else 0
    dod = get_int_stream(r, count - 2 if count >= 2 else 0)
    if r.remaining() != 0:
        raise CorruptObject("timestamps: trailing bytes")
    out = np.empty(count, dtype=np.uint64)
    if count >= 1:
        out[0] = unzigzag(t0)
    if count >= 2:
        deltas = np.empty(count - 1, dtype=np.uint64)
        deltas[0] = unzigzag(d1)
        deltas[1:] = dod
        deltas = np.cumsum(deltas, dtype=np.uint64)
        out[1:] = np.cumsum(deltas, dtype=np.uint64) + out[0]
    return out.view(np.int64)


def decode_scaled_timestamps(data, count):
    """kTimestampScaledDeltaOfDelta (DecodeScaledTimestamps)."""
    if count > len(data) * 64 + 2:
        raise CorruptObject("timestamps: count exceeds data")
    r = Bytes(data)
    t0 = r.varint("timestamps: truncated first value") if count >= 1 else 0
    unit = r.varint("timestamps: bad unit")
    if unit == 0:
        raise CorruptObject("timestamps: bad unit")
    k1 = r.varint("timestamps: truncated first delta") if count >= 2 else 0
    dod = get_int_stream(r, count - 2 if count >= 2 else 0, REV2)
    if r.remaining() != 0:
        raise CorruptObject("timestamps: trailing bytes")
    out = np.empty(count, dtype=np.uint64)
    if count >= 1:
        out[0] = unzigzag(t0)
    if count >= 2:
        ks = np.empty(count - 1, dtype=np.uint64)
        ks[0] = unzigzag(k1)
        ks[1:] = dod
        ks = np.cumsum(ks, dtype=np.uint64)
        out[1:] = np.cumsum(ks * np.uint64(unit), dtype=np.uint64) + out[0]
    return out.view(np.int64)


def decode_int64s(data, count, rev=REV1):
    r = Bytes(data)
    transform = r.byte("int64: bad transform byte")
    if transform > (2 if rev == REV2 else 1):
        raise CorruptObject("int64: bad transform byte")
    dictionary = None
    if transform == 2:
        d = r.varint("int64: bad dictionary size")
        if d > r.remaining() or (d == 0 and count != 0):
            raise CorruptObject("int64: bad dictionary size")
        dictionary = np.cumsum(get_int_stream(r, d, rev), dtype=np.uint64).view(np.int64)
        if d > 1 and np.any(dictionary[1:] <= dictionary[:-1]):
            raise CorruptObject("int64: dictionary not strictly increasing")
    words = get_int_stream(r, count, rev)
    if r.remaining() != 0:
        raise CorruptObject("int64: trailing bytes")
    if dictionary is not None:
        if count and words.max() >= len(dictionary):
            raise CorruptObject("int64: dictionary code out of range")
        return dictionary[words.astype(np.int64)] if count else np.zeros(0, dtype=np.int64)
    if transform == 1:
        words = np.cumsum(words, dtype=np.uint64)
    return words.view(np.int64)


def decode_float_raw(data, count):
    if len(data) != 8 * count:
        raise CorruptObject("float raw: length is not 8 * count")
    return np.frombuffer(bytes(data), dtype="<f8").copy()


def decode_float_xor(data, count):
    """Gorilla bit stream, LSB first (EncodeFloatXor)."""
    data = bytes(data)
    if count == 0:
        if data:
            raise CorruptObject("float xor: bytes for zero values")
        return np.zeros(0, dtype=np.float64)
    if len(data) < 8 or count - 1 > (len(data) - 8) * 8:
        raise CorruptObject("float xor: count exceeds data")
    total = len(data) * 8
    padded = data + b"\0" * 16
    pos = 0

    def get(bits, what):
        nonlocal pos
        if bits == 0:
            return 0
        if bits > total - pos:
            raise CorruptObject(what)
        byte, off = pos >> 3, pos & 7
        v = (int.from_bytes(padded[byte:byte + 9], "little") >> off) & ((1 << bits) - 1)
        pos += bits
        return v

    prev = get(64, "float xor: truncated")
    words = [prev]
    win_lead, win_trail = 65, 0
    for _ in range(1, count):
        if get(1, "float xor: truncated"):
            if get(1, "float xor: truncated"):
                lead = get(5, "float xor: truncated window")
                sig_minus_1 = get(6, "float xor: truncated window")
                if lead + sig_minus_1 + 1 > 64:
                    raise CorruptObject("float xor: window beyond 64 bits")
                win_lead = lead
                win_trail = 64 - lead - (sig_minus_1 + 1)
            elif win_lead > 64:
                raise CorruptObject("float xor: reuse of a window before the first")
            x = get(64 - win_lead - win_trail, "float xor: truncated bits")
            prev ^= (x << win_trail) & MASK64
        words.append(prev)
    if total - pos >= 8:
        raise CorruptObject("float xor: trailing bytes")
    return _u64(words).view(np.float64)


def decode_float_decimal(data, count):
    r = Bytes(data)
    exponent = r.byte("float decimal: bad exponent")
    if exponent > MAX_DECIMAL_EXPONENT:
        raise CorruptObject("float decimal: bad exponent")
    n_exc = r.varint("float decimal: bad exception count")
    if n_exc > count or n_exc > r.remaining() // 9:
        raise CorruptObject("float decimal: bad exception count")
    positions = []
    pos = 0
    for i in range(n_exc):
        gap = r.varint("float decimal: truncated exception position")
        # Strictly increasing (the first may be 0) and below count.
        if (i > 0 and gap == 0) or gap >= count or pos + gap >= count:
            raise CorruptObject("float decimal: exception position out of order or range")
        pos += gap
        positions.append(pos)
    raw = r.take(n_exc * 8, "float decimal: truncated exceptions")
    ints = decode_int64s(r.take(r.remaining(), ""), count)
    # int64 -> double rounds to nearest like static_cast; one division, as C++.
    out = ints.astype(np.float64) / POW10[exponent]
    if n_exc:
        out[np.array(positions, dtype=np.int64)] = np.frombuffer(raw, dtype="<f8")
    return out


def _digits_values(indices, digits, qmin, float32=False):
    """The doubles of decimal indices (DigitsMap::Value in float_codec.cc)."""
    sub = 10 ** digits
    lead = 10 ** (digits - 1)
    band = 9 * lead
    neg = indices < 0
    u = indices.view(np.uint64).copy()
    u[neg] = np.uint64(0) - u[neg]
    small = u < np.uint64(sub)
    m = u.copy()
    q = np.full(len(u), qmin, dtype=np.int64)
    big = ~small
    if big.any():
        if qmin == DIGITS_EXPONENT_LIMIT:
            raise CorruptObject("float decimal digits: index above 10^22")
        j = u[big] - np.uint64(sub)
        bands = j // np.uint64(band)
        if bands.max() > DIGITS_EXPONENT_LIMIT - qmin - 1:
            raise CorruptObject("float decimal digits: index above 10^22")
        m[big] = np.uint64(lead) + j % np.uint64(band)
        q[big] = qmin + 1 + bands.astype(np.int64)
    # uint64 -> double rounds to nearest as static_cast does; then one
    # multiplication or division by an exact power of ten, as C++.
    a = m.astype(np.float64)
    pow10 = np.array(POW10_EXACT, dtype=np.float64)
    pos = q >= 0
    a[pos] = a[pos] * pow10[q[pos]]
    a[~pos] = a[~pos] / pow10[-q[~pos]]
    if float32:
        # Rounded to the nearest float32 (overflow: infinity), widened back.
        with np.errstate(over="ignore"):
            a = a.astype(np.float32).astype(np.float64)
    a[neg] = -a[neg]
    return a


def decode_float_decimal_digits(data, count, float32=False):
    """kFloatDecimalDigits, or kFloatDecimalDigits32 when `float32`
    (DecodeFloatDecimalDigits)."""
    r = Bytes(data)
    digits = r.byte("float decimal digits: bad digit count")
    if digits < 1 or digits > MAX_DIGITS:
        raise CorruptObject("float decimal digits: bad digit count")
    zq = r.varint("float decimal digits: truncated exponent")
    qmin = unzigzag(zq)
    qmin = qmin - (1 << 64) if qmin >> 63 else qmin
    if qmin < -DIGITS_EXPONENT_LIMIT or qmin > DIGITS_EXPONENT_LIMIT:
        raise CorruptObject("float decimal digits: exponent out of range")
    n_exc = r.varint("float decimal digits: bad exception count")
    if n_exc > count or n_exc > r.remaining() // 2:
        raise CorruptObject("float decimal digits: bad exception count")
    positions = []
    pos = 0
    for i in range(n_exc):
        gap = r.varint("float decimal digits: truncated exception position")
        if (i > 0 and gap == 0) or gap >= count or pos + gap >= count:
            raise CorruptObject("float decimal digits: exception position out of order or range")
        pos += gap
        positions.append(pos)
    corrections = [unzigzag(r.varint("float decimal digits: truncated correction"))
                   for _ in range(n_exc)]
    indices = decode_int64s(r.take(r.remaining(), ""), count, REV2)
    out = _digits_values(indices, digits, qmin, float32)
    if n_exc:
        words = out.view(np.uint64)
        at = np.array(positions, dtype=np.int64)
        words[at] = words[at] + _u64(corrections)  # wraps mod 2**64
    return out


def decode_float_dictionary(data, count):
    """kFloatDictionary (DecodeFloatDictionary): distinct doubles, then codes."""
    r = Bytes(data)
    d = r.varint("float dictionary: bad dictionary size")
    if d > count or (d == 0 and count != 0):
        raise CorruptObject("float dictionary: bad dictionary size")
    inner = r.byte("float dictionary: truncated codec")
    n = r.varint("float dictionary: truncated values")
    values_bytes = r.take(n, "float dictionary: truncated values")
    if inner == 10:
        values = decode_float_raw(values_bytes, d)
    elif inner == 11:
        values = decode_float_xor(values_bytes, d)
    elif inner in (13, 14):
        values = decode_float_decimal_digits(values_bytes, d, float32=inner == 14)
    else:
        raise CorruptObject("float dictionary: values codec %d" % inner)
    codes = decode_int64s(r.take(r.remaining(), ""), count, REV2)
    if count and (codes.min() < 0 or codes.max() >= d):
        raise CorruptObject("float dictionary: code out of range")
    # Gathered as bits: NaN payloads stay as written.
    return np.asarray(values, dtype=np.float64).view(np.uint64)[codes].view(np.float64)


def decode_bools(data, count):
    if len(data) != (count + 7) // 8:
        raise CorruptObject("bool bitmap: length is not ceil(count / 8)")
    bits = np.unpackbits(np.frombuffer(bytes(data), dtype=np.uint8), bitorder="little")
    if count % 8 and data[-1] >> (count % 8):
        raise CorruptObject("bool bitmap: padding bits set")
    return bits[:count].astype(bool)


def decode_bytes(data, count):
    r = Bytes(data)
    lengths = get_int_stream(r, count)
    total = 0
    for n in lengths.tolist():
        if n > r.remaining() - total:
            raise CorruptObject("bytes: lengths exceed data")
        total += n
    if total != r.remaining():
        raise CorruptObject("bytes: trailing bytes")
    out = np.empty(count, dtype=object)
    for i, n in enumerate(lengths.tolist()):
        out[i] = r.take(n, "bytes: lengths exceed data")
    return out


# Codec ids (partition_format.h) -> (value type, decoder). Types: 1 float64,
# 2 int64, 3 bool, 4 bytes.
VALUE_DECODERS = {
    10: (1, decode_float_raw),
    11: (1, decode_float_xor),
    12: (1, decode_float_decimal),
    13: (1, decode_float_decimal_digits),
    14: (1, lambda data, count: decode_float_decimal_digits(data, count, float32=True)),
    15: (1, decode_float_dictionary),
    20: (2, decode_int64s),
    30: (3, decode_bools),
    40: (4, decode_bytes),
}
TIMESTAMP_DECODERS = {
    1: decode_timestamps,
    2: decode_scaled_timestamps,
}
