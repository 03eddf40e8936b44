// sluice_reader._native: the per-value half of the partition-object reader,
// for what numpy cannot vectorise (bit streams: Rice, frame of reference,
// Gorilla XOR; varints; CRC32C). One call checks a chunk's CRC, undoes its
// zstd frame and decodes it, with the GIL released, so that a thread pool
// decodes objects in parallel.
//
// A twin of sync/src/{int_codec,float_codec,misc_codec,chunk_compression}.cc,
// sync/src/bit_io.h and base/coding.h, check for check and bit for bit: an
// object the C++ reader refuses is refused here. The package keeps a
// pure-Python twin (_codecs.py); tests compare both with `sluice export`.
// Standalone on purpose: the package builds from tools/python alone (pip), so
// it cannot include the C++ tree's headers.
//
// Errors: CorruptChunk (a ValueError) with the C++ reader's message; the
// Python side adds the object, series and offset.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "codecs.h"

namespace py = pybind11;

namespace {

using namespace sluice_reader;  // NOLINT: this file is the module's Python face

// ---- Python face -----------------------------------------------------------

// A numpy array owning `v` without a copy.
template <typename T>
py::array ToArray(std::vector<T>&& v, py::dtype dtype) {
  auto* owned = new std::vector<T>(std::move(v));
  py::capsule owner(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array(dtype, {static_cast<py::ssize_t>(owned->size())}, {sizeof(T)}, owned->data(),
                   owner);
}

std::string_view View(const py::buffer_info& info) {
  if (info.ndim != 1 || info.itemsize != 1 || (info.size > 1 && info.strides[0] != 1)) {
    throw py::value_error("expected a contiguous bytes-like object");
  }
  return {static_cast<const char*>(info.ptr), static_cast<std::size_t>(info.size)};
}

std::string_view Slice(std::string_view all, std::uint64_t offset, std::uint64_t length) {
  if (offset > all.size() || length > all.size() - offset) Fail("chunk outside the object");
  return all.substr(offset, length);
}

constexpr int kCompressionNone = 1;
constexpr int kCompressionZstd = 2;

// The decoded column, by codec id (docs/format/partition.md).
using Decoded = std::variant<std::vector<std::int64_t>, std::vector<double>,
                             std::vector<std::uint8_t>,
                             std::vector<std::pair<std::size_t, std::size_t>>>;

Decoded DecodeColumn(int codec, std::string_view raw, std::size_t count) {
  switch (codec) {
    case 1: return DecodeTimestamps(raw, count);
    case 2: return DecodeScaledTimestamps(raw, count);
    case 10: return DecodeFloatRaw(raw, count);
    case 11: return DecodeFloatXor(raw, count);
    case 12: return DecodeFloatDecimal(raw, count);
    case 13: return DecodeFloatDecimalDigits(raw, count, false);
    case 14: return DecodeFloatDecimalDigits(raw, count, true);
    case 15: return DecodeFloatDictionary(raw, count);
    case 20: return DecodeInt64s(raw, count, Rev::kV1);
    case 30: return DecodeBools(raw, count);
    case 40: return DecodeBytes(raw, count);
    default: Fail("unknown chunk codec " + std::to_string(codec));
  }
}

// Checks the CRC of data[offset, offset + length), decompresses it to
// raw_length bytes and decodes `count` values with `codec`. Returns a numpy
// array (int64, float64, bool) or, for bytes, a list of bytes.
py::object DecodeChunk(py::buffer object, std::uint64_t offset, std::uint64_t length,
                       std::uint32_t masked_crc, int compression, std::uint64_t raw_length,
                       int codec, std::uint64_t count) {
  py::buffer_info info = object.request();
  const std::string_view stored = Slice(View(info), offset, length);
  std::string decompressed;
  std::string_view raw;
  Decoded out;
  {
    py::gil_scoped_release unlocked;
    if (Crc32c(0, stored.data(), stored.size()) != Unmask(masked_crc)) Fail("bad CRC");
    if (compression == kCompressionZstd) {
      decompressed = DecompressChunk(stored, raw_length);
      raw = decompressed;
    } else if (compression == kCompressionNone) {
      if (raw_length != length) Fail("uncompressed chunk with raw_length != length");
      raw = stored;
    } else {
      Fail("unknown chunk compression " + std::to_string(compression));
    }
    out = DecodeColumn(codec, raw, count);
  }
  if (auto* v = std::get_if<std::vector<std::int64_t>>(&out)) {
    return ToArray(std::move(*v), py::dtype::of<std::int64_t>());
  }
  if (auto* v = std::get_if<std::vector<double>>(&out)) {
    return ToArray(std::move(*v), py::dtype::of<double>());
  }
  if (auto* v = std::get_if<std::vector<std::uint8_t>>(&out)) {
    return ToArray(std::move(*v), py::dtype("bool"));
  }
  const auto& extents = std::get<std::vector<std::pair<std::size_t, std::size_t>>>(out);
  py::list values(extents.size());
  for (std::size_t i = 0; i < extents.size(); ++i) {
    values[i] = py::bytes(raw.data() + extents[i].first, extents[i].second);
  }
  return values;
}

std::uint32_t PyCrc32c(py::buffer data, std::uint32_t crc) {
  py::buffer_info info = data.request();
  const std::string_view v = View(info);
  py::gil_scoped_release unlocked;
  return Crc32c(crc, v.data(), v.size());
}

bool ChunkCrcOk(py::buffer object, std::uint64_t offset, std::uint64_t length,
                std::uint32_t masked_crc) {
  py::buffer_info info = object.request();
  const std::string_view stored = Slice(View(info), offset, length);
  py::gil_scoped_release unlocked;
  return Crc32c(0, stored.data(), stored.size()) == Unmask(masked_crc);
}

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "Native decoders of sluice_reader (a twin of sync/src/*_codec.cc)";
  static py::exception<Corrupt> corrupt(m, "CorruptChunk", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Corrupt& e) {
      PyErr_SetString(corrupt.ptr(), e.what.c_str());
    }
  });
  m.def("decode_chunk", &DecodeChunk, py::arg("object"), py::arg("offset"), py::arg("length"),
        py::arg("masked_crc"), py::arg("compression"), py::arg("raw_length"), py::arg("codec"),
        py::arg("count"),
        "CRC check, zstd and decode of one chunk; raises CorruptChunk");
  m.def("crc32c", &PyCrc32c, py::arg("data"), py::arg("crc") = 0, "CRC32C of a bytes-like object");
  m.def("chunk_crc_ok", &ChunkCrcOk, py::arg("object"), py::arg("offset"), py::arg("length"),
        py::arg("masked_crc"));
}
