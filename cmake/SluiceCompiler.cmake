# Compiler settings shared by every Sluice target.

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_C_COMPILER_LAUNCHER "${CCACHE_PROGRAM}")
  # The test targets share a precompiled header (tests/CMakeLists.txt), which
  # ccache caches only with these settings (and g++'s -fpch-preprocess).
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env
      CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
      ${CCACHE_PROGRAM})
endif()

# Applied to Sluice's own targets only (sluice_target_defaults), never to
# generated protobuf code or third-party headers, which are included as SYSTEM.
set(SLUICE_WARNINGS -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wold-style-cast
    -Wcast-align -Wunused -Woverloaded-virtual -Wimplicit-fallthrough)
# g++ 12 at -O3 reports -Wrestrict on ordinary std::string concatenation
# inside libstdc++ (GCC bug 105329, fixed in g++ 13): a false positive.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  list(APPEND SLUICE_WARNINGS -Wno-restrict)
endif()
# Clang checks the locking annotations of base/thread_annotations.h.
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  list(APPEND SLUICE_WARNINGS -Wthread-safety)
endif()
if(SLUICE_WERROR)
  list(APPEND SLUICE_WARNINGS -Werror)
endif()

if(SLUICE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

if(SLUICE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SLUICE_FUZZ needs clang: -DCMAKE_CXX_COMPILER=clang++")
  endif()
  # Everything is instrumented for coverage; only fuzz targets link the driver.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

function(sluice_target_defaults target)
  target_compile_options(${target} PRIVATE ${SLUICE_WARNINGS})
endfunction()

# Test code (test executables, their support libraries and drivers) builds
# at -O1 in the release configuration. The code under test keeps the
# release flags: it comes from the libraries as shipped. The tests' own
# translation units, mostly doctest's expansions, build about 30% faster.
function(sluice_test_code_defaults target)
  sluice_target_defaults(${target})
  target_compile_options(${target} PRIVATE $<$<CONFIG:Release>:-O1>)
  if(CCACHE_PROGRAM AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -fpch-preprocess)
  endif()
endfunction()
