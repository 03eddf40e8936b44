#include "column_writer.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <type_traits>

#include "column_values.h"
#include "encodings.h"

namespace sluice::sync::parquet {

namespace {

// The trial encodes about this many plain bytes of a chunk's first values with
// every candidate: enough for zstd to show its ratio, a small part of a
// million-row chunk.
constexpr std::size_t kTrialBytes = 128 << 10;
// The trial's cost of an encoding: its compressed bytes, plus its bytes before
// compression over this. A reader pays for both: for reading what is stored,
// and for zstd inflating every byte it then decodes. Without the second term,
// PLAIN doubles that zstd shrinks a few percent below a dictionary win the
// trial and then cost a scan several times the inflation. The weight is a
// judgement, not a measurement: it lets a dictionary win when its stored
// bytes are within about a tenth of PLAIN's on doubles.
constexpr std::size_t kInflateWeight = 8;
constexpr std::size_t kMaxI32 = std::numeric_limits<std::int32_t>::max();

template <ValueKind K>
class TypedChunkWriter {
 public:
  using T = typename KindTraits<K>::T;

  TypedChunkWriter(const ColumnSlice& s, const ParquetOptions& o, PageCompressor& c)
      : s_(s), o_(o), compressor_(c) {}

  Result<EncodedChunk> Run() {
    const std::vector<PageSpan> pages = SplitPages<K>(s_, o_);
    Choose();

    // Dictionary codes, page by page until the dictionary outgrows its bound;
    // later pages use the fallback encoding.
    Dictionary<K> dict(s_);
    std::size_t dict_pages = 0;
    if (use_dict_) {
      codes_.resize(s_.values);
      dict_pages = pages.size();
      for (std::size_t p = 0; p < pages.size(); ++p) {
        const std::size_t n0 = dict.size(), b0 = dict.plain_bytes();
        for (std::size_t i = pages[p].val_begin; i < pages[p].val_end; ++i) {
          codes_[i] = dict.Insert(i);
        }
        if (dict.plain_bytes() > o_.max_dictionary_bytes) {
          dict.Truncate(n0, b0);
          dict_pages = p;
          break;
        }
      }
      if (dict_pages == 0 || dict.size() == 0) use_dict_ = false;
    }
    if (!fallback_chosen_ && (!use_dict_ || dict_pages < pages.size())) {
      ChooseFallback(use_dict_ ? pages[dict_pages].val_begin : 0);
    }
    if (use_dict_ && dict.plain_bytes() > kMaxI32) {
      return InvalidArgument("dictionary page above 2^31-1 bytes");
    }

    EncodedChunk chunk;
    ColumnChunkMeta& m = chunk.meta;
    m.type = KindTraits<K>::kType;
    m.path = ParquetColumnName(s_.column);
    m.codec = compressor_.enabled() ? Codec::kZstd : Codec::kUncompressed;
    m.num_values = static_cast<std::int64_t>(s_.rows);
    std::vector<std::int32_t> encodings;
    if (s_.optional || o_.page_version == ParquetPageVersion::kV1) encodings.push_back(kEncodingRle);

    if (use_dict_) {
      raw_.clear();
      dict.PutPlain(&raw_);
      PageHeader h;
      h.type = PageType::kDictionaryPage;
      h.num_values = static_cast<std::int32_t>(dict.size());
      h.encoding = kEncodingPlain;
      m.dictionary_page_offset = 0;
      SLUICE_RETURN_IF_ERROR(AppendPage(h, raw_, {}, &chunk));
      encodings.push_back(kEncodingPlain);
      m.encoding_stats.push_back({PageType::kDictionaryPage, kEncodingPlain, 1});
    }

    const int width = use_dict_ ? std::max(1, BitWidth(dict.size() - 1)) : 0;
    const PageType data_type = o_.page_version == ParquetPageVersion::kV1 ? PageType::kDataPage
                                                                          : PageType::kDataPageV2;
    std::vector<Bounds<T>> page_bounds;
    page_bounds.reserve(pages.size());
    std::array<std::int32_t, 16> page_count{};
    m.data_page_offset = static_cast<std::int64_t>(chunk.bytes.size());
    for (std::size_t p = 0; p < pages.size(); ++p) {
      const PageSpan& span = pages[p];
      const bool dict_page = use_dict_ && p < dict_pages;
      const ParquetEncoding enc = dict_page ? ParquetEncoding::kRleDictionary : fallback_;
      values_.clear();
      if (dict_page) {
        values_.push_back(static_cast<char>(width));
        PutRleHybrid(codes_.data() + span.val_begin, span.val_end - span.val_begin, width,
                     &values_);
      } else {
        EncodeValues<K>(s_, enc, span.val_begin, span.val_end, &values_, &scratch_);
      }
      levels_.clear();
      if (s_.optional) {
        PutRleHybridBytes(s_.def + span.row_begin, span.row_end - span.row_begin, 1, &levels_);
      }
      PageHeader h;
      h.type = data_type;
      h.num_values = static_cast<std::int32_t>(span.row_end - span.row_begin);
      h.encoding = EncodingId(enc);
      if (data_type == PageType::kDataPageV2) {
        h.num_nulls = static_cast<std::int32_t>((span.row_end - span.row_begin) -
                                                (span.val_end - span.val_begin));
        h.num_rows = h.num_values;
        h.definition_levels_byte_length = static_cast<std::int32_t>(levels_.size());
        h.is_compressed = compressor_.enabled();
        SLUICE_RETURN_IF_ERROR(AppendPage(h, values_, levels_, &chunk));
      } else {
        raw_.clear();
        if (s_.optional) {
          PutU32(&raw_, static_cast<std::uint32_t>(levels_.size()));
          raw_.append(levels_);
        }
        raw_.append(values_);
        SLUICE_RETURN_IF_ERROR(AppendPage(h, raw_, {}, &chunk));
      }
      chunk.pages.back().first_row_index = static_cast<std::int64_t>(span.row_begin);
      ++page_count[static_cast<std::size_t>(enc)];
      page_bounds.push_back(PageBounds<K>(s_, span.val_begin, span.val_end));
    }
    for (std::size_t e = 0; e < page_count.size(); ++e) {
      if (page_count[e] == 0) continue;
      encodings.push_back(static_cast<std::int32_t>(e));
      m.encoding_stats.push_back({data_type, static_cast<std::int32_t>(e), page_count[e]});
    }
    std::sort(encodings.begin(), encodings.end());
    encodings.erase(std::unique(encodings.begin(), encodings.end()), encodings.end());
    m.encodings = std::move(encodings);
    FillStatistics(pages, page_bounds, &chunk);
    return chunk;
  }

 private:
  std::size_t Cost(std::string_view raw) {
    const std::size_t stored = compressor_.CompressedSize(raw);
    return compressor_.enabled() ? stored + raw.size() / kInflateWeight : stored;
  }

  // Values [from, end) that the trial encodes: about kTrialBytes of them.
  std::size_t SampleEnd(std::size_t from) const {
    std::size_t end = from, bytes = 0;
    while (end < s_.values && bytes < kTrialBytes) bytes += PlainSize<K>(s_, end++);
    return end;
  }

  // The best non-dictionary candidate on the values from `from` on, and its
  // compressed size on the sample (0 when there was nothing to compare).
  std::size_t ChooseFallback(std::size_t from) {
    const std::vector<ParquetEncoding> candidates = Candidates(K, o_.encodings);
    fallback_ = candidates.front();
    if (candidates.size() == 1 || from >= s_.values) return 0;
    const std::size_t end = SampleEnd(from);
    std::size_t best = std::numeric_limits<std::size_t>::max();
    for (ParquetEncoding e : candidates) {
      values_.clear();
      EncodeValues<K>(s_, e, from, end, &values_, &scratch_);
      const std::size_t size = Cost(values_);
      if (size < best) {
        best = size;
        fallback_ = e;
      }
    }
    return best;
  }

  // Picks whether to use a dictionary and the fallback (best non-dictionary)
  // encoding, by encoding and compressing the chunk's first values. Series,
  // type and unit always get a dictionary (until its bound): few distinct
  // strings, long runs, and engines filter and group dictionary-encoded
  // strings faster; their fallback is chosen only if it is needed.
  void Choose() {
    const std::optional<ParquetEncoding> forced =
        o_.force_encoding[static_cast<std::size_t>(s_.column)];
    const bool dict_allowed = K != ValueKind::kBool && !o_.disable_dictionary;
    if (forced) {
      use_dict_ = *forced == ParquetEncoding::kRleDictionary && dict_allowed;
      fallback_ = *forced == ParquetEncoding::kRleDictionary ? ParquetEncoding::kPlain : *forced;
      fallback_chosen_ = true;
      return;
    }
    use_dict_ = false;
    fallback_chosen_ = true;
    if (K == ValueKind::kCoded && dict_allowed) {
      use_dict_ = true;
      fallback_chosen_ = false;
      return;
    }
    std::size_t best = ChooseFallback(0);
    if (!dict_allowed || s_.values == 0) return;
    const std::size_t sample = SampleEnd(0);
    Dictionary<K> dict(s_);
    codes_.resize(sample);
    for (std::size_t i = 0; i < sample; ++i) codes_[i] = dict.Insert(i);
    if (dict.plain_bytes() > o_.max_dictionary_bytes) return;
    if (best == 0) {
      values_.clear();
      EncodeValues<K>(s_, fallback_, 0, sample, &values_, &scratch_);
      best = Cost(values_);
    }
    raw_.clear();
    dict.PutPlain(&raw_);
    std::size_t cost = Cost(raw_);
    const int width = std::max(1, BitWidth(dict.size() - 1));
    values_.clear();
    values_.push_back(static_cast<char>(width));
    PutRleHybrid(codes_.data(), sample, width, &values_);
    cost += Cost(values_);
    use_dict_ = cost < best;
  }

  // Appends header, then `levels` as they are (v2), then `body` compressed.
  Status AppendPage(PageHeader h, std::string_view body, std::string_view levels,
                    EncodedChunk* chunk) {
    compressed_.clear();
    compressor_.Compress(body, &compressed_);
    const std::size_t uncompressed = levels.size() + body.size();
    const std::size_t stored = levels.size() + compressed_.size();
    if (uncompressed > kMaxI32 || stored > kMaxI32) {
      return InvalidArgument(std::string("page of column ") + ParquetColumnName(s_.column) +
                             " above 2^31-1 bytes");
    }
    h.uncompressed_page_size = static_cast<std::int32_t>(uncompressed);
    h.compressed_page_size = static_cast<std::int32_t>(stored);
    const std::size_t at = chunk->bytes.size();
    SerializePageHeader(h, &chunk->bytes);
    const std::size_t header = chunk->bytes.size() - at;
    chunk->bytes.append(levels);
    chunk->bytes.append(compressed_);
    chunk->meta.total_uncompressed_size += static_cast<std::int64_t>(header + uncompressed);
    chunk->meta.total_compressed_size += static_cast<std::int64_t>(header + stored);
    if (h.type != PageType::kDictionaryPage) {
      PageLocation loc;
      loc.offset = static_cast<std::int64_t>(at);
      loc.compressed_page_size = static_cast<std::int32_t>(header + stored);
      chunk->pages.push_back(loc);
    }
    return Status::Ok();
  }

  void FillStatistics(const std::vector<PageSpan>& pages, const std::vector<Bounds<T>>& bounds,
                      EncodedChunk* chunk) {
    Bounds<T> all;
    for (const Bounds<T>& b : bounds) all.Merge(b);
    Statistics& st = chunk->meta.statistics;
    st.null_count = static_cast<std::int64_t>(s_.rows - s_.values);
    if constexpr (K == ValueKind::kDouble) st.nan_count = all.nans;
    if (all.has) {
      st.min_value = PlainBound(all.min, false);
      st.max_value = PlainBound(all.max, true);
      if (s_.truncate_bounds) {
        st.min_exact = TruncateMin(&*st.min_value);
        st.max_exact = TruncateMax(&*st.max_value);
      }
    }

    ColumnIndex ci;
    bool ascending = true, descending = true;
    const Bounds<T>* prev = nullptr;
    for (std::size_t p = 0; p < pages.size(); ++p) {
      const Bounds<T>& b = bounds[p];
      const bool null_page = pages[p].val_end == pages[p].val_begin;
      // A page whose values are all NaN has no bounds under TYPE_ORDER: the
      // specification then forbids a column index for the chunk.
      if (!null_page && !b.has) return;
      ci.null_pages.push_back(null_page);
      ci.null_counts.push_back(static_cast<std::int64_t>(
          (pages[p].row_end - pages[p].row_begin) - (pages[p].val_end - pages[p].val_begin)));
      if constexpr (K == ValueKind::kDouble) {
        if (!ci.nan_counts) ci.nan_counts.emplace();
        ci.nan_counts->push_back(b.nans);
      }
      if (null_page) {
        ci.min_values.emplace_back();
        ci.max_values.emplace_back();
        continue;
      }
      std::string lo = PlainBound(b.min, false), hi = PlainBound(b.max, true);
      if (s_.truncate_bounds) {
        TruncateMin(&lo);
        TruncateMax(&hi);
      }
      ci.min_values.push_back(std::move(lo));
      ci.max_values.push_back(std::move(hi));
      if (prev != nullptr) {
        if (b.min < prev->min || b.max < prev->max) ascending = false;
        if (prev->min < b.min || prev->max < b.max) descending = false;
      }
      prev = &b;
    }
    ci.boundary_order = ascending    ? BoundaryOrder::kAscending
                        : descending ? BoundaryOrder::kDescending
                                     : BoundaryOrder::kUnordered;
    chunk->column_index = std::move(ci);
  }

  const ColumnSlice& s_;
  const ParquetOptions& o_;
  PageCompressor& compressor_;
  bool use_dict_ = false;
  bool fallback_chosen_ = true;
  ParquetEncoding fallback_ = ParquetEncoding::kPlain;
  std::vector<std::uint32_t> codes_;
  std::vector<std::string_view> scratch_;
  std::string raw_, values_, levels_, compressed_;
};

}  // namespace

ChunkEncoder::ChunkEncoder(const ParquetOptions& options)
    : options_(options), compressor_(options.zstd_level) {}

Result<EncodedChunk> ChunkEncoder::Encode(const ColumnSlice& slice) {
  switch (slice.kind) {
    case ValueKind::kInt64:
      return TypedChunkWriter<ValueKind::kInt64>(slice, options_, compressor_).Run();
    case ValueKind::kInt32:
      return TypedChunkWriter<ValueKind::kInt32>(slice, options_, compressor_).Run();
    case ValueKind::kDouble:
      return TypedChunkWriter<ValueKind::kDouble>(slice, options_, compressor_).Run();
    case ValueKind::kBool:
      return TypedChunkWriter<ValueKind::kBool>(slice, options_, compressor_).Run();
    case ValueKind::kBytes:
      return TypedChunkWriter<ValueKind::kBytes>(slice, options_, compressor_).Run();
    case ValueKind::kCoded:
      return TypedChunkWriter<ValueKind::kCoded>(slice, options_, compressor_).Run();
  }
  return InvalidArgument("unknown column kind");
}

}  // namespace sluice::sync::parquet
