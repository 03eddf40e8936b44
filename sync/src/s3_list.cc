#include "s3_list.h"

#include "s3_request.h"

namespace sluice::sync::detail {
namespace {

// The bodies of every <tag>...</tag> in `xml`, in order, and `xml` with them
// cut out (so that the root's own fields are looked up outside entries).
struct Blocks {
  std::vector<std::string_view> bodies;
  std::string rest;
};
Blocks CutBlocks(std::string_view xml, std::string_view tag) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  Blocks b;
  std::size_t pos = 0;
  while (true) {
    const auto a = xml.find(open, pos);
    if (a == std::string_view::npos) break;
    const auto e = xml.find(close, a + open.size());
    if (e == std::string_view::npos) break;  // unterminated: left in `rest`, checked by the caller
    b.rest.append(xml.substr(pos, a - pos));
    b.bodies.push_back(xml.substr(a + open.size(), e - a - open.size()));
    pos = e + close.size();
  }
  b.rest.append(xml.substr(pos));
  return b;
}

bool HasRoot(std::string_view xml, std::string_view root) {
  // "<Root>" or "<Root xmlns=...>", and its end tag.
  const std::string open = "<" + std::string(root);
  const auto a = xml.find(open);
  if (a == std::string_view::npos) return false;
  const std::size_t after = a + open.size();
  if (after >= xml.size() || (xml[after] != '>' && xml[after] != ' ')) return false;
  return xml.find("</" + std::string(root) + ">", after) != std::string_view::npos;
}

Result<bool> ParseBool(std::string_view text, std::string_view what) {
  if (text == "true") return true;
  if (text == "false" || text.empty()) return false;
  return Unavailable("malformed " + std::string(what) + " response: IsTruncated '" +
                     std::string(text.substr(0, 16)) + "'");
}

Status Malformed(std::string_view what, std::string_view why) {
  return Unavailable("malformed " + std::string(what) + " response: " + std::string(why));
}

}  // namespace

Result<ListObjectsPage> ParseListObjectsV2(std::string_view xml) {
  constexpr std::string_view kWhat = "ListObjectsV2";
  if (!HasRoot(xml, "ListBucketResult")) return Malformed(kWhat, "no ListBucketResult element");
  Blocks blocks = CutBlocks(xml, "Contents");
  if (blocks.rest.find("<Contents>") != std::string::npos) {
    return Malformed(kWhat, "unterminated Contents element");
  }
  ListObjectsPage page;
  page.objects.reserve(blocks.bodies.size());
  for (std::string_view body : blocks.bodies) {
    ListedObject o;
    o.key = XmlTagText(body, "Key");
    if (o.key.empty()) return Malformed(kWhat, "a Contents element without a Key");
    const std::string size = XmlTagText(body, "Size");
    if (size.empty() || size.size() > 19 || size.find_first_not_of("0123456789") != std::string::npos) {
      return Malformed(kWhat, "key '" + o.key + "' has no valid Size");
    }
    o.size = std::stoull(size);
    o.etag = StripETag(XmlTagText(body, "ETag"));
    page.objects.push_back(std::move(o));
  }
  auto truncated = ParseBool(XmlTagText(blocks.rest, "IsTruncated"), kWhat);
  if (!truncated.ok()) return truncated.status();
  page.truncated = *truncated;
  page.next_token = XmlTagText(blocks.rest, "NextContinuationToken");
  if (page.truncated && page.next_token.empty()) {
    return Malformed(kWhat, "truncated without a NextContinuationToken");
  }
  return page;
}

Result<ListUploadsPage> ParseListMultipartUploads(std::string_view xml) {
  constexpr std::string_view kWhat = "ListMultipartUploads";
  if (!HasRoot(xml, "ListMultipartUploadsResult")) {
    return Malformed(kWhat, "no ListMultipartUploadsResult element");
  }
  Blocks blocks = CutBlocks(xml, "Upload");
  if (blocks.rest.find("<Upload>") != std::string::npos) {
    return Malformed(kWhat, "unterminated Upload element");
  }
  ListUploadsPage page;
  for (std::string_view body : blocks.bodies) {
    IncompleteUpload u;
    u.key = XmlTagText(body, "Key");
    u.upload_id = XmlTagText(body, "UploadId");
    if (u.key.empty() || u.upload_id.empty()) {
      return Malformed(kWhat, "an Upload element without a Key or UploadId");
    }
    page.uploads.push_back(std::move(u));
  }
  auto truncated = ParseBool(XmlTagText(blocks.rest, "IsTruncated"), kWhat);
  if (!truncated.ok()) return truncated.status();
  page.truncated = *truncated;
  page.next_key_marker = XmlTagText(blocks.rest, "NextKeyMarker");
  page.next_upload_id_marker = XmlTagText(blocks.rest, "NextUploadIdMarker");
  if (page.truncated && page.next_key_marker.empty()) {
    return Malformed(kWhat, "truncated without a NextKeyMarker");
  }
  return page;
}

}  // namespace sluice::sync::detail
