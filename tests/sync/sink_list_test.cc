// Listing and deleting: the S3 listing parsers (pure, no server) and the
// directory sink's walk. Against a real Ceph RGW: tests/integration/lake_kill_test.cc.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "s3_list.h"
#include "sync/sink.h"
#include "temp_dir.h"

namespace sluice::sync {
namespace {

namespace fs = std::filesystem;
using detail::ParseListMultipartUploads;
using detail::ParseListObjectsV2;

TEST_CASE("a ListObjectsV2 page gives keys (entities decoded), sizes, ETags and the continuation") {
  auto page = ParseListObjectsV2(
      R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name>
<IsTruncated>true</IsTruncated>
<Contents><Key>raw/a.slp</Key><ETag>&quot;9b2cf535&quot;</ETag><Size>1234</Size></Contents>
<Contents><Key>raw/a&amp;b.parquet</Key><ETag>"abc-2"</ETag><Size>0</Size>
<Owner><ID>x</ID></Owner></Contents>
<NextContinuationToken>tok/en=</NextContinuationToken></ListBucketResult>)");
  REQUIRE_MESSAGE(page.ok(), page.status().ToString());
  REQUIRE(page->objects.size() == 2);
  CHECK(page->objects[0].key == "raw/a.slp");
  CHECK(page->objects[0].size == 1234);
  CHECK(page->objects[0].etag == "9b2cf535");
  CHECK(page->objects[1].key == "raw/a&b.parquet");
  CHECK(page->objects[1].size == 0);
  CHECK(page->objects[1].etag == "abc-2");
  CHECK(page->truncated);
  CHECK(page->next_token == "tok/en=");
}

TEST_CASE("an empty, complete ListObjectsV2 page is no objects and no continuation") {
  auto page = ParseListObjectsV2("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>");
  REQUIRE(page.ok());
  CHECK(page->objects.empty());
  CHECK_FALSE(page->truncated);
}

TEST_CASE("malformed listings are kUnavailable, never half-read") {
  const std::vector<std::string> bad = {
      "",
      "<Error><Code>InternalError</Code></Error>",
      "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
      "<ListBucketResult><Contents><Key>a</Key><Size>x1</Size></Contents></ListBucketResult>",
      "<ListBucketResult><Contents><Key>a</Key><Size>99999999999999999999</Size></Contents></ListBucketResult>",
      "<ListBucketResult><Contents><Key>a</Key><Size>1</Size></ListBucketResult>",
      "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
      "<ListBucketResult><IsTruncated>yes</IsTruncated></ListBucketResult>",
      "<ListBucketResultX></ListBucketResultX>",
  };
  for (const auto& xml : bad) {
    auto page = ParseListObjectsV2(xml);
    CHECK_MESSAGE(page.status().code() == StatusCode::kUnavailable, xml);
  }
}

TEST_CASE("a ListMultipartUploads page gives keys, upload ids and the markers") {
  auto page = ParseListMultipartUploads(
      R"(<ListMultipartUploadsResult xmlns="x"><Bucket>b</Bucket><KeyMarker></KeyMarker>
<NextKeyMarker>lake/x.parquet</NextKeyMarker><NextUploadIdMarker>2~abc</NextUploadIdMarker>
<IsTruncated>true</IsTruncated>
<Upload><Key>lake/x.parquet</Key><UploadId>2~abc</UploadId><Initiated>2025</Initiated></Upload>
</ListMultipartUploadsResult>)");
  REQUIRE_MESSAGE(page.ok(), page.status().ToString());
  REQUIRE(page->uploads.size() == 1);
  CHECK(page->uploads[0].key == "lake/x.parquet");
  CHECK(page->uploads[0].upload_id == "2~abc");
  CHECK(page->truncated);
  CHECK(page->next_key_marker == "lake/x.parquet");
  CHECK(page->next_upload_id_marker == "2~abc");
  CHECK(ParseListMultipartUploads("<ListMultipartUploadsResult><Upload><Key>k</Key></Upload>"
                                  "</ListMultipartUploadsResult>")
            .status()
            .code() == StatusCode::kUnavailable);
}

std::unique_ptr<Sink> OpenDir(const fs::path& root) {
  DirSinkOptions o;
  o.root = root.string();
  o.sync = false;
  auto sink = OpenDirSink(o);
  REQUIRE(sink.ok());
  return std::move(*sink);
}

std::map<std::string, std::uint64_t> ListAll(Sink& sink, std::string_view prefix) {
  std::map<std::string, std::uint64_t> out;
  const Status st = sink.List(prefix, [&](const ListedObject& o) {
    CHECK(out.emplace(o.key, o.size).second);
    return true;
  });
  REQUIRE_MESSAGE(st.ok(), st.ToString());
  return out;
}

TEST_CASE("the directory sink lists complete objects only, by string prefix") {
  testing::TempDir dir("sluice-dir-list");
  auto sink = OpenDir(dir.path());
  for (const std::string key : {"a/x=1/o.slp", "a/x=1/p.slp", "a/x=2/o.slp", "b/o.slp", "top.slp"}) {
    const std::string body = "body of " + key;
    PutRequest r;
    r.key = key;
    r.bytes = std::as_bytes(std::span(body));
    REQUIRE(sink->Put(r).ok());
  }
  // A crash leftover and a file with a name no key can have.
  std::ofstream(dir.path() / "a" / ".sluice-tmp-0123") << "partial";
  std::ofstream(dir.path() / "a" / "bad name") << "x";
  const auto all = ListAll(*sink, "");
  CHECK(all.size() == 5);
  CHECK(all.at("a/x=1/o.slp") == std::string("body of a/x=1/o.slp").size());
  CHECK(ListAll(*sink, "a/x=1/").size() == 2);
  CHECK(ListAll(*sink, "a/x=").size() == 3);
  CHECK(ListAll(*sink, "a/x=1/p").size() == 1);
  CHECK(ListAll(*sink, "t").size() == 1);
  CHECK(ListAll(*sink, "c/").empty());
  // Stopping early.
  int seen = 0;
  CHECK(sink->List("", [&](const ListedObject&) { return ++seen < 2; }).ok());
  CHECK(seen == 2);
}

TEST_CASE("the directory sink deletes an object with its sidecar, deleting nothing succeeds") {
  testing::TempDir dir("sluice-dir-list");
  auto sink = OpenDir(dir.path());
  const std::string body = "x";
  PutRequest r;
  r.key = "a/o.slp";
  r.bytes = std::as_bytes(std::span(body));
  REQUIRE(sink->Put(r).ok());
  REQUIRE(fs::exists(dir.path() / "a/o.slp.sha256"));
  CHECK(sink->Delete("a/o.slp").ok());
  CHECK_FALSE(fs::exists(dir.path() / "a/o.slp"));
  CHECK_FALSE(fs::exists(dir.path() / "a/o.slp.sha256"));
  CHECK(sink->Delete("a/o.slp").ok());
  CHECK(sink->Head("a/o.slp").status().code() == StatusCode::kNotFound);
  // The directory sink has no multipart uploads.
  int uploads = 0;
  CHECK(sink->ListIncompleteUploads("", [&](const IncompleteUpload&) { return ++uploads > 0; }).ok());
  CHECK(uploads == 0);
}

}  // namespace
}  // namespace sluice::sync
