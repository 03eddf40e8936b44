# Board profiles (board/) and `sluice doctor` (doctor/), compiled into the
# gateway library so that unit tests reach them without the binary.
target_sources(sluice_gateway PRIVATE
  src/board/detect.cc
  src/board/profile.cc
  src/doctor/checks.cc
  src/doctor/probes.cc
  src/doctor/doctor.cc
)
# Where a build-tree binary finds profiles when /usr/share/sluice/boards is
# absent: the source tree's boards/. An installed binary never needs it.
target_compile_definitions(sluice_gateway PRIVATE
  SLUICE_SOURCE_BOARDS_DIR="${PROJECT_SOURCE_DIR}/boards")
# `sluice doctor` lives in main.cc and calls doctor/doctor.h (internal).
target_include_directories(sluice PRIVATE src)
