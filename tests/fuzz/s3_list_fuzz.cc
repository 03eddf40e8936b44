// Any bytes given as an S3 listing response (ListObjectsV2 or
// ListMultipartUploads) either parse or give kUnavailable; nothing crashes
// or hangs. What parses keeps the parser's promises: every entry has a key
// (and an upload id), and a truncated page names where to continue.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "s3_list.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sluice;
  const std::string_view xml(reinterpret_cast<const char*>(data), size);
  auto objects = sync::detail::ParseListObjectsV2(xml);
  if (objects.ok()) {
    for (const auto& o : objects->objects) {
      if (o.key.empty()) std::abort();
    }
    if (objects->truncated && objects->next_token.empty()) std::abort();
  } else if (objects.status().code() != StatusCode::kUnavailable) {
    std::abort();
  }
  auto uploads = sync::detail::ParseListMultipartUploads(xml);
  if (uploads.ok()) {
    for (const auto& u : uploads->uploads) {
      if (u.key.empty() || u.upload_id.empty()) std::abort();
    }
    if (uploads->truncated && uploads->next_key_marker.empty()) std::abort();
  } else if (uploads.status().code() != StatusCode::kUnavailable) {
    std::abort();
  }
  return 0;
}
