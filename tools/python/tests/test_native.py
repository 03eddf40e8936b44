"""The native decoders (sluice_reader._native, C++) against their
pure-Python twins (_codecs.py) on valid and damaged chunks of every codec:
the same values bit for bit, or the same refusal with the same message.
Skipped when the extension is not built; SLUICE_READER_NATIVE=required
makes its absence a failure."""

import os
import random
import struct
import unittest

import numpy as np
import zstandard

from sluice_reader import _backend
from sluice_reader import _codecs as c
from sluice_reader._crc32c import crc32c, mask
from test_codecs import M, signed, stream_for, stream_varint, varint, zigzag

native = _backend._native
REQUIRED = os.environ.get("SLUICE_READER_NATIVE") == "required"


def stream_rice(words, k=3):
    """Rice blocks (packing 3), center = the block's first value."""
    out = bytearray([3])
    for i in range(0, len(words), 128):
        block = words[i:i + 128]
        center = block[0]
        out += varint(zigzag(signed(center))) + bytes([k])
        acc, n = 0, 0
        for w in block:
            u = zigzag(signed((w - center) & M))
            q = u >> k
            if q < 32:
                acc |= (1 << q | (u & ((1 << k) - 1)) << (q + 1)) << n
                n += q + 1 + k
            else:
                acc |= u << (n + 32)
                n += 96
        out += acc.to_bytes((n + 7) // 8, "little")
    return bytes(out)


def timestamps(ts, packer):
    u = [t & M for t in ts]
    dod = [((u[i] - u[i - 1]) - (u[i - 1] - u[i - 2])) & M for i in range(2, len(u))]
    return varint(zigzag(ts[0])) + varint(zigzag(signed((u[1] - u[0]) & M))) + packer(dod)


def scaled(ts, unit, packer):
    k = [((ts[i] - ts[i - 1]) // unit) & M for i in range(1, len(ts))]
    dk = [(k[i] - k[i - 1]) & M for i in range(1, len(k))]
    return varint(zigzag(ts[0])) + varint(unit) + varint(zigzag(signed(k[0]))) + packer(dk)


def chunks():
    """(codec, raw bytes, count) of every codec and packing."""
    rng = random.Random(11)
    n = 300
    ts = [1_700_000_000_000_000_000 + i * 10**9 + rng.randrange(-3, 4) * 10**9 for i in range(n)]
    ints = [rng.randrange(-1000, 1000) & M for _ in range(n)]
    out = []
    for packer in (stream_varint, stream_for):
        out.append((1, timestamps(ts, packer), n))
        out.append((20, bytes([0]) + packer(ints), n))
        out.append((20, bytes([1]) + packer(ints), n))
        out.append((12, bytes([2]) + varint(1) + varint(5) + struct.pack("<d", -0.0)
                    + bytes([0]) + packer(ints), n))
        out.append((40, packer([3, 0, 5]) + b"abcdefgh", 3))
    for packer in (stream_varint, stream_for, stream_rice):
        out.append((2, scaled(ts, 10**9, packer), n))
        digits = (bytes([6]) + varint(zigzag(-2)) + varint(2) + varint(3) + varint(7)
                  + varint(zigzag(1)) + varint(zigzag(-4)))
        big = [(10**6 + rng.randrange(0, 9 * 10**6)) & M for _ in range(n)]
        for codec in (13, 14):  # 14: the same layout over float32 decimals
            out.append((codec, digits + bytes([0]) + packer(ints), n))
            out.append((codec, bytes([6]) + varint(zigzag(-3)) + varint(0) + bytes([0])
                        + packer(big), n))
        levels = [rng.choice([3, 7, 19]) for _ in range(n)]
        dict_ = bytes([2]) + varint(3) + packer([3, 4, 12]) + packer(
            [[3, 7, 19].index(v) for v in levels])
        out.append((13, bytes([16]) + varint(zigzag(-1)) + varint(0) + dict_, n))
        # 15: three distinct doubles (raw, then as XOR), codes in a stream.
        distinct = [-0.0, 1.5, float("inf")]
        raw = struct.pack("<3d", *distinct)
        codes = [rng.randrange(3) for _ in range(n)]
        for inner, body in ((10, raw), (11, xor(distinct))):
            out.append((15, varint(3) + bytes([inner]) + varint(len(body)) + body
                        + bytes([0]) + packer(codes), n))
    floats = [round(rng.uniform(-50, 50), 2) for _ in range(n)]
    out.append((10, struct.pack("<%dd" % n, *floats), n))
    out.append((11, xor(floats), n))
    out.append((30, bytes(rng.randrange(256) for _ in range(37)) + b"\x0f", 300))
    return out


def xor(values):
    """Gorilla stream as EncodeFloatXor writes it."""
    bits = [struct.unpack("<Q", struct.pack("<d", v))[0] for v in values]
    acc, n = bits[0], 64
    win_lead, win_trail = 65, 0
    for prev, cur in zip(bits, bits[1:]):
        x = prev ^ cur
        if x == 0:
            n += 1
            continue
        lead = min(31, 64 - x.bit_length())
        trail = (x & -x).bit_length() - 1
        if win_lead <= 64 and lead >= win_lead and trail >= win_trail:
            acc |= 1 << n
            n += 2
            w = 64 - win_lead - win_trail
            acc |= (x >> win_trail) << n
            n += w
        else:
            sig = 64 - lead - trail
            acc |= (3 | lead << 2 | (sig - 1) << 7 | (x >> trail) << 13) << n
            n += 13 + sig
            win_lead, win_trail = lead, trail
    return acc.to_bytes((n + 7) // 8, "little")


def python_decode(codec, raw, count):
    if codec in c.TIMESTAMP_DECODERS:
        return c.TIMESTAMP_DECODERS[codec](raw, count)
    return c.VALUE_DECODERS[codec][1](raw, count)


def outcome(fn):
    try:
        v = fn()
    except (c.CorruptObject, ValueError) as e:
        return ("refused", str(e))
    if isinstance(v, list) or v.dtype == object:
        return ("bytes", [bytes(x) for x in v])
    return (v.dtype.str, v.view(np.uint8).tobytes())


@unittest.skipUnless(native or REQUIRED, "sluice_reader._native is not built")
class NativeEqualsPythonTest(unittest.TestCase):
    def native_decode(self, codec, raw, count, compression=1, stored=None):
        stored = raw if stored is None else stored
        return native.decode_chunk(stored, 0, len(stored), mask(crc32c(stored)), compression,
                                   len(raw), codec, count)

    def test_crc32c_matches(self):
        data = bytes(range(256)) * 5
        for n in (0, 1, 7, 8, 9, 100, 1280):
            self.assertEqual(native.crc32c(data[:n]), crc32c(data[:n]))
        self.assertEqual(native.crc32c(b"123456789"), 0xE3069283)

    def test_every_codec_decodes_the_same(self):
        for codec, raw, count in chunks():
            py = outcome(lambda: python_decode(codec, raw, count))
            self.assertNotEqual(py[0], "refused", (codec, py))
            self.assertEqual(outcome(lambda: self.native_decode(codec, raw, count)), py, codec)

    def test_a_code_past_the_float_dictionary_is_refused_by_both(self):
        raw = struct.pack("<2d", 1.0, 2.0)
        chunk = varint(2) + bytes([10]) + varint(len(raw)) + raw + bytes([0]) + stream_varint([0, 1, 2])
        for decode in (lambda: python_decode(15, chunk, 3), lambda: self.native_decode(15, chunk, 3)):
            self.assertEqual(outcome(decode), ("refused", "float dictionary: code out of range"))

    def test_damaged_chunks_get_the_same_verdict(self):
        rng = random.Random(5)
        for codec, raw, count in chunks():
            for trial in range(150):
                bad = bytearray(raw)
                kind = trial % 3
                if kind == 0:
                    bad[rng.randrange(len(bad))] ^= 1 << rng.randrange(8)
                elif kind == 1:
                    del bad[rng.randrange(len(bad)):]
                else:
                    bad += bytes([rng.randrange(256)])
                n = count if trial % 5 else count + rng.choice([-1, 1, 1000])
                bad = bytes(bad)
                self.assertEqual(outcome(lambda: self.native_decode(codec, bad, n)),
                                 outcome(lambda: python_decode(codec, bad, n)),
                                 "codec %d trial %d" % (codec, trial))

    def test_crc_and_zstd_are_checked_before_decoding(self):
        raw = stream_varint([1, 2, 3])
        codec_raw = bytes([0]) + raw
        z = zstandard.ZstdCompressor().compress(codec_raw)
        got = self.native_decode(20, codec_raw, 3, compression=2, stored=z)
        self.assertEqual(got.tolist(), [1, 2, 3])
        with self.assertRaisesRegex(native.CorruptChunk, "^bad CRC$"):
            native.decode_chunk(z, 0, len(z), mask(crc32c(z)) ^ 1, 2, len(codec_raw), 20, 3)
        for stored, n, why in ((z + b"\0", len(codec_raw), "bytes after the zstd frame"),
                               (z, len(codec_raw) + 1, "zstd frame size differs"),
                               (b"not zstd", 4, "not a zstd frame")):
            with self.assertRaisesRegex(native.CorruptChunk, why):
                native.decode_chunk(stored, 0, len(stored), mask(crc32c(stored)), 2, n, 20, 3)
        with self.assertRaisesRegex(native.CorruptChunk, "outside the object"):
            native.decode_chunk(z, 1, len(z), 0, 2, len(codec_raw), 20, 3)


if __name__ == "__main__":
    unittest.main()
