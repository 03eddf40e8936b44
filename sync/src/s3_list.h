// Parsing the S3 listing responses: ListObjectsV2 and ListMultipartUploads.
// Pure functions of the response body, no I/O, so that unit tests and a
// fuzzer (tests/fuzz/s3_list_fuzz.cc) drive them directly.
//
// The bodies are flat XML (AWS documents them; Ceph RGW and MinIO answer the
// same shape):
//
//   <ListBucketResult xmlns="...">
//     <IsTruncated>true</IsTruncated>
//     <Contents><Key>a/b.slp</Key><ETag>"..."</ETag><Size>123</Size>...</Contents>
//     ...
//     <NextContinuationToken>opaque</NextContinuationToken>
//   </ListBucketResult>
//
//   <ListMultipartUploadsResult xmlns="...">
//     <IsTruncated>false</IsTruncated>
//     <NextKeyMarker>k</NextKeyMarker><NextUploadIdMarker>u</NextUploadIdMarker>
//     <Upload><Key>k</Key><UploadId>u</UploadId>...</Upload>
//   </ListMultipartUploadsResult>
//
// Keys are requested without encoding-type, so they arrive as XML text with
// the five predefined entities decoded here; anything stranger (character
// references) stays as written, which ValidateSinkKey then refuses.
// Malformed bodies (no root element, an entry without its key, a size that
// is not a decimal number, truncated without a continuation) are
// kUnavailable: a proxy or a server mid-restart, worth a retry.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "sync/sink.h"

namespace sluice::sync::detail {

struct ListObjectsPage {
  std::vector<ListedObject> objects;  // keys as the server gave them (full keys)
  bool truncated = false;
  std::string next_token;  // NextContinuationToken; set whenever truncated
};
Result<ListObjectsPage> ParseListObjectsV2(std::string_view xml);

struct ListUploadsPage {
  std::vector<IncompleteUpload> uploads;  // full keys
  bool truncated = false;
  std::string next_key_marker, next_upload_id_marker;  // set whenever truncated
};
Result<ListUploadsPage> ParseListMultipartUploads(std::string_view xml);

}  // namespace sluice::sync::detail
