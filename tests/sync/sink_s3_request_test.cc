// The S3 sink's request building and error mapping, without a server.
#include <doctest/doctest.h>

#include <string>

#include "s3_request.h"
#include "s3_source.h"
#include "sync/sink.h"

namespace sluice::sync {
namespace {

using namespace detail;

S3SinkOptions Valid() {
  S3SinkOptions o;
  o.endpoint = "https://s3.eu-west-1.amazonaws.com";
  o.region = "eu-west-1";
  o.bucket = "plant-data";
  return o;
}

TEST_CASE("default options with an endpoint and bucket are valid") {
  CHECK(Valid().Validate().ok());
}

TEST_CASE("options out of bounds are refused with the field named") {
  auto check = [](S3SinkOptions o, std::string_view field) {
    const Status st = o.Validate();
    INFO(st.ToString());
    CHECK(st.code() == StatusCode::kInvalidArgument);
    CHECK(st.message().find(field) != std::string::npos);
  };
  S3SinkOptions o = Valid();
  o.multipart_part_bytes = 1 << 20;
  check(o, "multipart_part_bytes");
  o = Valid();
  o.multipart_threshold_bytes = 100;
  check(o, "multipart_threshold_bytes");
  o = Valid();
  o.connect_timeout = std::chrono::milliseconds(0);
  check(o, "connect_timeout");
  o = Valid();
  o.low_speed_time = std::chrono::seconds(0);
  check(o, "low_speed_time");
  o = Valid();
  o.bucket = "Bad_Bucket";
  check(o, "Bad_Bucket");
  o = Valid();
  o.key_prefix = "/lead";
  check(o, "key_prefix");
  o = Valid();
  o.region = "";
  check(o, "region");
  o = Valid();
  o.endpoint = "ftp://host";
  check(o, "scheme");
  o = Valid();
  o.endpoint = "http://127.0.0.1:7480";
  o.addressing = S3Addressing::kVirtualHost;
  check(o, "virtual-host");
  o = Valid();
  o.bucket = "with.dot";
  o.addressing = S3Addressing::kVirtualHost;
  check(o, "with.dot");
}

TEST_CASE("an endpoint with credentials in it is refused without echoing them") {
  S3SinkOptions o = Valid();
  o.endpoint = "https://AKID:supersecret@host";
  const Status st = o.Validate();
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.message().find("supersecret") == std::string::npos);
  for (const char* ep : {"AKID:supersecret@host", "https://AKID:supersecret@host/path"}) {
    o.endpoint = ep;
    CHECK(o.Validate().message().find("supersecret") == std::string::npos);
  }
}

TEST_CASE("endpoints parse into scheme, host and port") {
  auto ep = ParseEndpoint("http://127.0.0.1:7480");
  REQUIRE(ep.ok());
  CHECK(ep->scheme == "http");
  CHECK(ep->host == "127.0.0.1");
  CHECK(ep->port == "7480");
  CHECK(ep->host_is_ip);
  ep = ParseEndpoint("https://minio.local/");
  REQUIRE(ep.ok());
  CHECK(ep->port.empty());
  CHECK_FALSE(ep->host_is_ip);
  ep = ParseEndpoint("http://[::1]:9000");
  REQUIRE(ep.ok());
  CHECK(ep->host == "[::1]");
  CHECK(ep->port == "9000");
  CHECK_FALSE(ParseEndpoint("http://host:99999").ok());
  CHECK_FALSE(ParseEndpoint("http://host:").ok());
  CHECK_FALSE(ParseEndpoint("http://host/path").ok());
  CHECK_FALSE(ParseEndpoint("host:80").ok());
}

TEST_CASE("URIs are encoded the SigV4 way: unreserved kept, '=' and the rest as %XX") {
  CHECK(UriEncode("site=a/b c~d", true) == "site%3Da/b%20c~d");
  CHECK(UriEncode("a/b", false) == "a%2Fb");
  CHECK(UriEncode("2~abc+def", false) == "2~abc%2Bdef");
}

TEST_CASE("path-style URLs put the bucket in the path") {
  S3SinkOptions o = Valid();
  o.endpoint = "http://127.0.0.1:7480";
  auto ep = ParseEndpoint(o.endpoint);
  REQUIRE(ep.ok());
  CHECK(ObjectUrl(*ep, o, "p/site=a/x.slp") == "http://127.0.0.1:7480/plant-data/p/site%3Da/x.slp");
  CHECK(ObjectUrl(*ep, o, "") == "http://127.0.0.1:7480/plant-data");
}

TEST_CASE("virtual-host URLs put the bucket in the host name") {
  S3SinkOptions o = Valid();
  o.addressing = S3Addressing::kVirtualHost;
  auto ep = ParseEndpoint(o.endpoint);
  REQUIRE(ep.ok());
  CHECK(ObjectUrl(*ep, o, "k/x.slp") == "https://plant-data.s3.eu-west-1.amazonaws.com/k/x.slp");
}

TEST_CASE("query parameters are sorted, encoded and always carry '='") {
  S3SinkOptions o = Valid();
  auto ep = ParseEndpoint(o.endpoint);
  REQUIRE(ep.ok());
  CHECK(ObjectUrl(*ep, o, "k", {{"uploads", ""}}) ==
        "https://s3.eu-west-1.amazonaws.com/plant-data/k?uploads=");
  CHECK(ObjectUrl(*ep, o, "k", {{"uploadId", "2~a/b"}, {"partNumber", "3"}}) ==
        "https://s3.eu-west-1.amazonaws.com/plant-data/k?partNumber=3&uploadId=2~a%2Fb");
}

TEST_CASE("full keys join the prefix with a single slash") {
  CHECK(FullKey("", "a/b") == "a/b");
  CHECK(FullKey("sluice/raw", "a/b") == "sluice/raw/a/b");
}

TEST_CASE("XML fields are found and their entities decoded") {
  const std::string xml =
      "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code>"
      "<Message>a &amp; b &lt;c&gt;</Message></Error>";
  CHECK(XmlTagText(xml, "Code") == "AccessDenied");
  CHECK(XmlTagText(xml, "Message") == "a & b <c>");
  CHECK(XmlTagText(xml, "UploadId").empty());
}

TEST_CASE("the CompleteMultipartUpload body lists parts in order with escaped ETags") {
  CHECK(CompleteMultipartXml({{1, "\"aa\""}, {2, "\"bb\""}}) ==
        "<CompleteMultipartUpload>"
        "<Part><PartNumber>1</PartNumber><ETag>&quot;aa&quot;</ETag></Part>"
        "<Part><PartNumber>2</PartNumber><ETag>&quot;bb&quot;</ETag></Part>"
        "</CompleteMultipartUpload>");
}

TEST_CASE("HTTP errors map to retryable and permanent codes") {
  CHECK(HttpError(500, "InternalError", "", "PUT").code() == StatusCode::kUnavailable);
  CHECK(HttpError(503, "SlowDown", "", "PUT").code() == StatusCode::kUnavailable);
  CHECK(HttpError(429, "", "", "PUT").code() == StatusCode::kUnavailable);
  CHECK(HttpError(400, "RequestTimeout", "", "PUT").code() == StatusCode::kUnavailable);
  CHECK(HttpError(400, "BadDigest", "", "PUT").code() == StatusCode::kUnavailable);
  CHECK(HttpError(400, "XAmzContentSHA256Mismatch", "", "PUT").code() == StatusCode::kUnavailable);
  CHECK(HttpError(403, "SignatureDoesNotMatch", "", "PUT").code() == StatusCode::kInvalidArgument);
  CHECK(HttpError(403, "AccessDenied", "", "PUT").code() == StatusCode::kInvalidArgument);
  CHECK(HttpError(404, "NoSuchBucket", "", "PUT").code() == StatusCode::kNotFound);
  CHECK(HttpError(400, "InvalidArgument", "", "PUT").code() == StatusCode::kInvalidArgument);
  const Status skew = HttpError(403, "RequestTimeTooSkewed", "", "PUT key 'k'");
  CHECK(skew.message().find("clock") != std::string::npos);
  CHECK(skew.message().find("PUT key 'k': HTTP 403 RequestTimeTooSkewed") == 0);
  CHECK(IsRetryable(HttpError(502, "", "", "x")));
  CHECK_FALSE(IsRetryable(HttpError(403, "", "", "x")));
}

TEST_CASE("ETags lose their quotes and weak marker") {
  CHECK(StripETag("\"abc\"") == "abc");
  CHECK(StripETag("W/\"abc-2\"") == "abc-2");
  CHECK(StripETag("abc") == "abc");
}

TEST_CASE("digests match known vectors and Content-MD5 is base64 of the raw MD5") {
  const std::string abc = "abc";
  const Digests d = DigestOf(std::as_bytes(std::span(abc)));
  CHECK(Hex(d.sha256) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Hex(d.md5) == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(Base64(d.md5) == "kAFQmDzST7DWlj99KOF/cg==");
  const Digests empty = DigestOf({});
  CHECK(Hex(empty.md5) == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(Base64(std::span<const std::uint8_t>()) == "");
  const std::uint8_t two[] = {'h', 'i'};
  CHECK(Base64(two) == "aGk=");
  CHECK(IsSha256Hex(Hex(d.sha256)));
  CHECK_FALSE(IsSha256Hex("ABC"));
}

TEST_CASE("sink keys: Hive-style keys pass, escapes and odd characters do not") {
  CHECK(ValidateSinkKey("site=a/gateway=g/date=2025-11-25/hour=20/x-0001.slp").ok());
  for (const char* bad : {"", "/a", "a/", "a//b", "..", "a/../b", "a/./b", "a b", "a?b", "a#b",
                          "a%2Fb", "a+b"}) {
    INFO("key: " << bad);
    CHECK(ValidateSinkKey(bad).code() == StatusCode::kInvalidArgument);
  }
  CHECK_FALSE(ValidateSinkKey(std::string(1025, 'a')).ok());
}

TEST_CASE("outcome names are stable for logs") {
  CHECK(PutOutcomeName(PutOutcome::kCreated) == "created");
  CHECK(PutOutcomeName(PutOutcome::kAlreadyIdentical) == "already-identical");
}

}  // namespace
}  // namespace sluice::sync
