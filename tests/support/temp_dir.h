// A private directory under $TMPDIR (or /tmp), removed with its contents.
#pragma once

#include <filesystem>
#include <string>

namespace sluice::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& tag = "sluice-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace sluice::testing
