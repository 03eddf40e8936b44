"""sluice_reader's primitives against hand-built streams: known CRC vectors,
wrapping integer arithmetic, and refusals of damaged bytes. Whole objects are
compared with the C++ export in tests/integration/python_reader_test.py."""

import random
import struct
import unittest

import numpy as np
import zstandard

from sluice_reader import CorruptObject, PartitionObject
from sluice_reader import _codecs as c
from sluice_reader._crc32c import crc32c, mask, unmask
from sluice_reader._object import _decompress

M = c.MASK64


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def zigzag(v):  # v: signed
    return ((v << 1) ^ (v >> 63)) & M


def signed(u):
    return u - (1 << 64) if u >= 1 << 63 else u


def stream_varint(words):
    return bytes([1]) + b"".join(varint(zigzag(signed(w))) for w in words)


def stream_for(words):
    """Frame of reference, as PutIntStream writes it."""
    out = bytearray([2])
    for i in range(0, len(words), 128):
        block = [signed(w) for w in words[i:i + 128]]
        lo = min(block)
        width = (max(block) - lo).bit_length()
        out += varint(zigzag(lo)) + bytes([width])
        big = 0
        for j, v in enumerate(block):
            big |= ((v - lo) & M) << (j * width)
        out += big.to_bytes((len(block) * width + 7) // 8, "little")
    return bytes(out)


class Crc32cTest(unittest.TestCase):
    def test_known_vectors(self):
        self.assertEqual(crc32c(b""), 0)
        self.assertEqual(crc32c(b"123456789"), 0xE3069283)
        self.assertEqual(crc32c(bytes(32)), 0x8A9136AA)  # RFC 3720 B.4

    def test_mask_round_trips(self):
        for v in (0, 1, 0xFFFFFFFF, 0xE3069283):
            self.assertEqual(unmask(mask(v)), v)
            self.assertNotEqual(mask(v), v)


class IntStreamTest(unittest.TestCase):
    WORDS = [0, 1, M, 1 << 63, (1 << 63) - 1, 42] + [random.Random(7).getrandbits(64)
                                                   for _ in range(300)]

    def test_both_packings_round_trip_every_word(self):
        for enc in (stream_varint, stream_for):
            got = c.get_int_stream(c.Bytes(enc(self.WORDS)), len(self.WORDS))
            self.assertEqual(got.tolist(), self.WORDS, enc.__name__)

    def test_frame_of_reference_widths_zero_and_sixty_four(self):
        for words in ([5] * 200, [0, M] * 70):
            got = c.get_int_stream(c.Bytes(stream_for(words)), len(words))
            self.assertEqual(got.tolist(), words)

    def test_overlong_varints_are_refused(self):
        for bad in (bytes([1]) + b"\xff" * 10 + b"\x00", bytes([1]) + b"\xff" * 9 + b"\x02"):
            with self.assertRaises(CorruptObject):
                c.get_int_stream(c.Bytes(bad), 1)
        self.assertEqual(c.get_int_stream(c.Bytes(bytes([1]) + b"\xff" * 9 + b"\x01"), 1)
                         .tolist(), [1 << 63])  # the largest legal varint

    def test_damage_is_refused(self):
        for bad, count in ((b"", 1), (b"\x03", 0), (stream_for([1, 2, 3])[:-1], 3),
                           (bytes([2, 0, 65]), 1), (stream_varint([1, 2]), 3)):
            with self.assertRaises(CorruptObject):
                c.get_int_stream(c.Bytes(bad), count)


class ColumnTest(unittest.TestCase):
    def test_timestamps_wrap_like_int64(self):
        ts = [-(1 << 63), (1 << 63) - 1, 0, 5, 5, -3]
        u = [t & M for t in ts]
        dod = [((u[i] - u[i - 1]) - (u[i - 1] - u[i - 2])) & M for i in range(2, len(u))]
        data = varint(zigzag(ts[0])) + varint(zigzag(signed((u[1] - u[0]) & M)))
        data += stream_for(dod)
        self.assertEqual(c.decode_timestamps(data, len(ts)).tolist(), ts)
        with self.assertRaises(CorruptObject):
            c.decode_timestamps(data + b"\0", len(ts))

    def test_int64_delta_transform_wraps(self):
        vals = [(1 << 63) - 1, -(1 << 63), 0, -1]
        deltas = [(vals[0]) & M] + [(vals[i] - vals[i - 1]) & M for i in range(1, 4)]
        self.assertEqual(c.decode_int64s(bytes([1]) + stream_varint(deltas), 4).tolist(), vals)
        with self.assertRaises(CorruptObject):
            c.decode_int64s(bytes([2]) + stream_varint(deltas), 4)

    def test_float_decimal_with_exceptions(self):
        nan_bits = 0x7FF4000000C0FFEE
        data = bytes([2]) + varint(2) + varint(0) + varint(2)
        data += struct.pack("<Q", nan_bits) + struct.pack("<d", -0.0)
        data += bytes([0]) + stream_varint([0, 2137, 2137, (-5) & M])
        got = c.decode_float_decimal(data, 4).view(np.uint64).tolist()
        want = [nan_bits, struct.unpack("<Q", struct.pack("<d", 21.37))[0],
                struct.unpack("<Q", struct.pack("<d", -0.0))[0],
                struct.unpack("<Q", struct.pack("<d", -0.05))[0]]
        self.assertEqual(got, want)
        bad = bytearray(data)
        bad[0] = 19
        with self.assertRaises(CorruptObject):
            c.decode_float_decimal(bytes(bad), 4)

    def test_float_xor_first_value_and_repeats(self):
        bits = 0xFFF8000000000001
        data = struct.pack("<Q", bits) + b"\x00"  # then three '0' (repeat) bits
        self.assertEqual(c.decode_float_xor(data, 4).view(np.uint64).tolist(), [bits] * 4)
        with self.assertRaises(CorruptObject):
            c.decode_float_xor(data + b"\x00", 4)  # trailing byte
        with self.assertRaises(CorruptObject):
            c.decode_float_xor(struct.pack("<Q", bits) + b"\x01", 2)  # '1' '0' before a window

    def test_bools_refuse_padding_bits(self):
        self.assertEqual(c.decode_bools(b"\x05", 3).tolist(), [True, False, True])
        with self.assertRaises(CorruptObject):
            c.decode_bools(b"\x0d", 3)

    def test_bytes_lengths_must_cover_the_data_exactly(self):
        data = stream_varint([0, 3]) + b"abc"
        self.assertEqual(list(c.decode_bytes(data, 2)), [b"", b"abc"])
        for bad in (data + b"x", data[:-1]):
            with self.assertRaises(CorruptObject):
                c.decode_bytes(bad, 2)


class ObjectTest(unittest.TestCase):
    def test_zstd_frames_are_checked_like_the_cpp_reader(self):
        raw = b"sensor" * 50
        z = zstandard.ZstdCompressor().compress(raw)
        self.assertEqual(_decompress(z, len(raw)), raw)
        no_size = zstandard.ZstdCompressor(write_content_size=False).compress(raw)
        for stored, n in ((z + b"\0", len(raw)), (z, len(raw) + 1), (no_size, len(raw)),
                          (b"not zstd", 3)):
            with self.assertRaises(CorruptObject):
                _decompress(stored, n)

    def test_short_or_foreign_bytes_name_the_source(self):
        for data in (b"", b"PK\x03\x04" + bytes(60)):
            with self.assertRaisesRegex(CorruptObject, "^upload.bin: "):
                PartitionObject(data, name="upload.bin")


if __name__ == "__main__":
    unittest.main()
