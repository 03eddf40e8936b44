// The directory sink: atomic, checksummed, never overwriting.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "s3_source.h"
#include "sync/sink.h"
#include "temp_dir.h"

namespace sluice::sync {
namespace {

namespace fs = std::filesystem;

std::vector<std::byte> Bytes(std::string_view s) {
  const auto b = std::as_bytes(std::span(s));
  return {b.begin(), b.end()};
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::unique_ptr<Sink> Open(const testing::TempDir& dir) {
  DirSinkOptions o;
  o.root = dir.path().string();
  auto sink = OpenDirSink(o);
  REQUIRE_MESSAGE(sink.ok(), sink.status().ToString());
  return std::move(*sink);
}

Result<PutResult> Put(Sink& sink, const std::string& key, const std::vector<std::byte>& data) {
  PutRequest r;
  r.key = key;
  r.bytes = data;
  return sink.Put(r);
}

constexpr char kKey[] =
    "site=a/gateway=g/date=2025-11-25/hour=20/20251125T200000Z-0000-0000000001.slp";

TEST_CASE("PutMode::kReplace replaces the object and its sha256sum file, create-only still "
          "refuses") {
  testing::TempDir dir("sluice-dir-sink");
  auto sink = Open(dir);
  const std::string key = "raw/_watermarks/site=a/gateway=g.json";
  const fs::path obj = dir.path() / key;
  for (std::string_view text : {"{\"watermark_ns\": 1}\n", "{\"watermark_ns\": 22}\n"}) {
    const auto data = Bytes(text);
    PutRequest r;
    r.key = key;
    r.bytes = data;
    r.mode = PutMode::kReplace;
    auto put = sink->Put(r);
    REQUIRE_MESSAGE(put.ok(), put.status().ToString());
    CHECK(put->outcome == PutOutcome::kCreated);
    CHECK(Slurp(obj) == text);
    CHECK(Slurp(obj.string() + ".sha256") ==
          detail::Hex(detail::DigestOf(data).sha256) + "  gateway=g.json\n");
    auto got = sink->Get(key);
    REQUIRE(got.ok());
    CHECK(*got == data);
  }
  // No temp files left behind.
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(obj.parent_path())) {
    CHECK(e.path().filename().string().front() != '.');
    ++files;
  }
  CHECK(files == 2);
  // Without kReplace the contract holds: different bytes are refused.
  auto refused = Put(*sink, key, Bytes("other"));
  CHECK(refused.status().code() == StatusCode::kAlreadyExists);
  CHECK(Slurp(obj) == "{\"watermark_ns\": 22}\n");
}

TEST_CASE("a put writes the object under key subdirectories with a sha256sum file beside it") {
  testing::TempDir dir("sluice-dir-sink");
  auto sink = Open(dir);
  const auto data = Bytes("partition bytes\n");
  auto put = Put(*sink, kKey, data);
  REQUIRE_MESSAGE(put.ok(), put.status().ToString());
  CHECK(put->outcome == PutOutcome::kCreated);
  CHECK(put->size == data.size());
  const fs::path obj = dir.path() / kKey;
  CHECK(Slurp(obj) == "partition bytes\n");
  const std::string want_sha = detail::Hex(detail::DigestOf(data).sha256);
  CHECK(put->sha256 == want_sha);
  CHECK(Slurp(obj.string() + ".sha256") == want_sha + "  20251125T200000Z-0000-0000000001.slp\n");
  // No temp files left behind.
  for (const auto& e : fs::directory_iterator(obj.parent_path())) {
    CHECK(e.path().filename().string().rfind(".sluice-tmp-", 0) == std::string::npos);
  }
  auto head = sink->Head(kKey);
  REQUIRE(head.ok());
  CHECK(head->size == data.size());
  CHECK(head->sha256 == want_sha);
  auto got = sink->Get(kKey);
  REQUIRE(got.ok());
  CHECK(*got == data);
}

TEST_CASE("the .sha256 file verifies with sha256sum -c") {
  testing::TempDir dir("sluice-dir-sink");
  auto sink = Open(dir);
  REQUIRE(Put(*sink, "a/b/obj.slp", Bytes("check me")).ok());
  const std::string cmd = "cd '" + (dir.path() / "a/b").string() +
                          "' && sha256sum --quiet -c obj.slp.sha256";
  CHECK(std::system(cmd.c_str()) == 0);
}

TEST_CASE("a second put of identical bytes reports already-identical and rewrites nothing") {
  testing::TempDir dir("sluice-dir-sink");
  auto sink = Open(dir);
  const auto data = Bytes("same");
  REQUIRE(Put(*sink, kKey, data).ok());
  const auto mtime = fs::last_write_time(dir.path() / kKey);
  auto again = Put(*sink, kKey, data);
  REQUIRE(again.ok());
  CHECK(again->outcome == PutOutcome::kAlreadyIdentical);
  CHECK(fs::last_write_time(dir.path() / kKey) == mtime);
}

TEST_CASE("a put of different bytes to an existing key is refused and the object kept") {
  testing::TempDir dir("sluice-dir-sink");
  auto sink = Open(dir);
  REQUIRE(Put(*sink, kKey, Bytes("first")).ok());
  auto put = Put(*sink, kKey, Bytes("other"));
  REQUIRE_FALSE(put.ok());
  CHECK(put.status().code() == StatusCode::kAlreadyExists);
  CHECK_FALSE(IsRetryable(put.status()));
  CHECK(put.status().message().find(kKey) != std::string::npos);
  CHECK(Slurp(dir.path() / kKey) == "first");
}

TEST_CASE("a missing sidecar (crash after the object's rename) is restored by the retry") {
  testing::TempDir dir("sluice-dir-sink");
  auto sink = Open(dir);
  const auto data = Bytes("crashy");
  REQUIRE(Put(*sink, "k.slp", data).ok());
  fs::remove(dir.path() / "k.slp.sha256");
  auto again = Put(*sink, "k.slp", data);
  REQUIRE(again.ok());
  CHECK(again->outcome == PutOutcome::kAlreadyIdentical);
  CHECK(fs::exists(dir.path() / "k.slp.sha256"));
}

TEST_CASE("a damaged sidecar is reported, not silently rewritten") {
  testing::TempDir dir("sluice-dir-sink");
  auto sink = Open(dir);
  const auto data = Bytes("payload");
  REQUIRE(Put(*sink, "k.slp", data).ok());
  std::ofstream(dir.path() / "k.slp.sha256") << "garbage\n";
  CHECK(Put(*sink, "k.slp", data).status().code() == StatusCode::kCorruption);
}

TEST_CASE("keys that could escape the root or collide with sink files are refused") {
  testing::TempDir dir("sluice-dir-sink");
  auto sink = Open(dir);
  const auto data = Bytes("x");
  for (const char* key : {"../evil", "a/../../evil", "/abs", "a//b", "a/./b", "", "a/b/", ".hidden",
                          "a/.sluice-tmp-1", "a/b.sha256", "sp ace", "a\\b", "ü"}) {
    INFO("key: " << key);
    auto put = Put(*sink, key, data);
    CHECK(put.status().code() == StatusCode::kInvalidArgument);
  }
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE("an expected checksum that does not match writes nothing") {
  testing::TempDir dir("sluice-dir-sink");
  auto sink = Open(dir);
  const auto data = Bytes("abc");
  PutRequest r;
  r.key = "k.slp";
  r.bytes = data;
  r.expected_sha256 = std::string(64, '0');
  CHECK(sink->Put(r).status().code() == StatusCode::kCorruption);
  CHECK_FALSE(fs::exists(dir.path() / "k.slp"));
  r.expected_sha256 = detail::Hex(detail::DigestOf(data).sha256);
  CHECK(sink->Put(r).ok());
}

TEST_CASE("a put from a file copies the file") {
  testing::TempDir dir("sluice-dir-sink");
  testing::TempDir src("sluice-dir-src");
  std::string big(3 << 20, 'z');  // more than one 1 MiB copy chunk
  big[12345] = 'a';
  std::ofstream(src.path() / "f", std::ios::binary) << big;
  auto sink = Open(dir);
  PutRequest r;
  r.key = "x/y.slp";
  r.file = (src.path() / "f").string();
  auto put = sink->Put(r);
  REQUIRE_MESSAGE(put.ok(), put.status().ToString());
  CHECK(Slurp(dir.path() / "x/y.slp") == big);
  r.file = (src.path() / "missing").string();
  CHECK(sink->Put(r).status().code() == StatusCode::kIoError);
}

TEST_CASE("head and get of a missing key are not-found") {
  testing::TempDir dir("sluice-dir-sink");
  auto sink = Open(dir);
  CHECK(sink->Head("no/such.slp").status().code() == StatusCode::kNotFound);
  CHECK(sink->Get("no/such.slp").status().code() == StatusCode::kNotFound);
}

TEST_CASE("the root must exist: a missing mount is not papered over") {
  DirSinkOptions o;
  o.root = "/nonexistent/sluice-mount";
  CHECK_FALSE(OpenDirSink(o).ok());
  o.root = "relative/path";
  CHECK(OpenDirSink(o).status().code() == StatusCode::kInvalidArgument);
  o.root = "";
  CHECK(OpenDirSink(o).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("a key segment that is a file is reported, not overwritten") {
  testing::TempDir dir("sluice-dir-sink");
  auto sink = Open(dir);
  REQUIRE(Put(*sink, "a", Bytes("file")).ok());
  auto put = Put(*sink, "a/b", Bytes("x"));
  REQUIRE_FALSE(put.ok());
  CHECK(Slurp(dir.path() / "a") == "file");
}

TEST_CASE("the sink describes itself by its root") {
  testing::TempDir dir("sluice-dir-sink");
  CHECK(Open(dir)->Describe() == "dir:" + dir.path().string());
}

}  // namespace
}  // namespace sluice::sync
