#include "s3_source.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace sluice::sync {

std::string_view PutOutcomeName(PutOutcome outcome) {
  switch (outcome) {
    case PutOutcome::kCreated: return "created";
    case PutOutcome::kAlreadyIdentical: return "already-identical";
  }
  return "unknown";
}

namespace {
bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-' || c == '~' || c == '=';
}
}  // namespace

Status ValidateSinkKey(std::string_view key) {
  if (key.empty()) return InvalidArgument("object key is empty");
  if (key.size() > 1024) return InvalidArgument("object key is longer than 1024 bytes");
  std::string_view rest = key;
  while (true) {
    const auto slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    if (seg.empty() || seg == "." || seg == "..") {
      return InvalidArgument("object key '" + std::string(key) +
                             "' has an empty, '.' or '..' segment");
    }
    for (char c : seg) {
      if (!IsKeyChar(c)) {
        return InvalidArgument("object key '" + std::string(key) +
                               "' has a character outside [A-Za-z0-9._~=-/]");
      }
    }
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return Status::Ok();
}

namespace detail {
namespace {

class MemorySource final : public ObjectSource {
 public:
  explicit MemorySource(std::span<const std::byte> bytes) : bytes_(bytes) {}
  std::uint64_t size() const override { return bytes_.size(); }
  Status ReadAt(std::uint64_t offset, std::span<std::byte> out) override {
    SLUICE_CHECK(offset + out.size() <= bytes_.size());
    std::copy_n(bytes_.data() + offset, out.size(), out.data());
    return Status::Ok();
  }
  std::string name() const override { return "memory"; }

 private:
  std::span<const std::byte> bytes_;
};

class FileSource final : public ObjectSource {
 public:
  FileSource(std::string path, int fd, std::uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~FileSource() override { ::close(fd_); }
  std::uint64_t size() const override { return size_; }
  Status ReadAt(std::uint64_t offset, std::span<std::byte> out) override {
    std::size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done,
                                static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoStatus("read " + path_, errno);
      if (n == 0) return IoError("read " + path_ + ": file shrank while being uploaded");
      done += static_cast<std::size_t>(n);
    }
    return Status::Ok();
  }
  std::string name() const override { return "file " + path_; }

 private:
  std::string path_;
  int fd_;
  std::uint64_t size_;
};

}  // namespace

Result<std::unique_ptr<ObjectSource>> OpenSource(const PutRequest& request) {
  if (request.file.empty()) return std::unique_ptr<ObjectSource>(new MemorySource(request.bytes));
  const int fd = ::open(request.file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + request.file, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoStatus("stat " + request.file, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgument(request.file + " is not a regular file");
  }
  return std::unique_ptr<ObjectSource>(
      new FileSource(request.file, fd, static_cast<std::uint64_t>(st.st_size)));
}

struct Hasher::Impl {
  EVP_MD_CTX* sha = EVP_MD_CTX_new();
  EVP_MD_CTX* md5 = EVP_MD_CTX_new();
  ~Impl() {
    EVP_MD_CTX_free(sha);
    EVP_MD_CTX_free(md5);
  }
};

// The EVP calls fail only on allocation failure or a broken OpenSSL setup
// (e.g. FIPS mode without MD5): an invariant, not an input error.
Hasher::Hasher() : impl_(std::make_unique<Impl>()) {
  SLUICE_CHECK(impl_->sha != nullptr && impl_->md5 != nullptr);
  SLUICE_CHECK(EVP_DigestInit_ex(impl_->sha, EVP_sha256(), nullptr) == 1);
  SLUICE_CHECK(EVP_DigestInit_ex(impl_->md5, EVP_md5(), nullptr) == 1);
}
Hasher::~Hasher() = default;

void Hasher::Update(std::span<const std::byte> data) {
  SLUICE_CHECK(EVP_DigestUpdate(impl_->sha, data.data(), data.size()) == 1);
  SLUICE_CHECK(EVP_DigestUpdate(impl_->md5, data.data(), data.size()) == 1);
}

Digests Hasher::Finish() {
  Digests d;
  unsigned int n = 0;
  SLUICE_CHECK(EVP_DigestFinal_ex(impl_->sha, d.sha256.data(), &n) == 1 && n == 32);
  SLUICE_CHECK(EVP_DigestFinal_ex(impl_->md5, d.md5.data(), &n) == 1 && n == 16);
  return d;
}

Digests DigestOf(std::span<const std::byte> data) {
  Hasher h;
  h.Update(data);
  return h.Finish();
}

Result<Digests> DigestRange(ObjectSource& source, std::uint64_t offset, std::uint64_t length) {
  Hasher h;
  std::vector<std::byte> buf(std::min<std::uint64_t>(length, 1u << 20));
  while (length > 0) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(length, buf.size()));
    SLUICE_RETURN_IF_ERROR(source.ReadAt(offset, std::span(buf).first(n)));
    h.Update(std::span(buf).first(n));
    offset += n;
    length -= n;
  }
  return h.Finish();
}

std::string Hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

std::string Base64(std::span<const std::uint8_t> bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  const std::size_t left = bytes.size() - i;
  if (left > 0) {
    std::uint32_t v = static_cast<std::uint32_t>(bytes[i]) << 16;
    if (left == 2) v |= static_cast<std::uint32_t>(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(left == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

bool IsSha256Hex(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace detail
}  // namespace sluice::sync
