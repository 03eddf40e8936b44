"""CRC32C (Castagnoli), table-driven, and Sluice's masked form.

Pure Python so that the reader needs no package beyond Debian's. Slow (a few
MB/s), which is fine for objects that are compressed and verified once.
"""

_POLY = 0x82F63B78  # reflected Castagnoli polynomial


def _make_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


_TABLE = _make_table()
_MASK_DELTA = 0xA282EAD8


def crc32c(data, crc=0):
    """CRC32C of `data` (bytes-like), continuing from `crc`."""
    c = crc ^ 0xFFFFFFFF
    table = _TABLE
    for b in memoryview(data).cast("B"):
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def unmask(masked):
    """Inverse of base/crc32c.h's MaskCrc: rotate right by 17 after subtracting."""
    rot = (masked - _MASK_DELTA) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


def mask(crc):
    """((c >> 15) | (c << 17)) + 0xa282ead8, as docs/format/partition.md says."""
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF
