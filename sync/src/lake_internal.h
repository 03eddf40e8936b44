// Internals of `sluice lake` shared by its .cc files.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "sync/lake.h"

namespace sluice::sync::detail {

enum class LakePlaces : std::uint8_t { kApart = 1, kSame = 2 };
// kSame when both name one place (same bucket and prefix, or the same
// directory after resolving links); InvalidArgument when one lies inside
// the other (the listing of one would see the other's objects).
Result<LakePlaces> ComparePlaces(const LakeLocation& from, const LakeLocation& to);

Result<std::unique_ptr<Sink>> OpenLakeSink(const LakeOptions& options, const LakeLocation& loc);

// Creates a missing directory target (options.create_target_dir).
Status EnsureTargetDir(const LakeOptions& options, const LakeLocation& to);

}  // namespace sluice::sync::detail
