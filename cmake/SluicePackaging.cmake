# Install rules and the Debian package (CPack DEB). Included last from the
# root CMakeLists.txt. Build the package from a release tree:
#   cmake -S . -B build/pkg-release -G Ninja -DCMAKE_BUILD_TYPE=Release \
#         -DSLUICE_TESTS=OFF -DSLUICE_BENCH=OFF
#   ninja -C build/pkg-release sluice && (cd build/pkg-release && cpack)
# or, with the unit tests and checks, also cross-built for arm64:
#   scripts/package [--arch amd64|arm64] [--out DIR]
# Layout of the package (Debian 12, unmerged paths as Debian's own packages):
#   /usr/bin/sluice                          the binary (stripped)
#   /lib/systemd/system/sluice.service       the hardened unit
#   /usr/lib/sysusers.d/sluice.conf          the `sluice` system user
#   /etc/sluice/sluice.toml                  default configuration (conffile)
#   /usr/share/sluice/boards/*.toml          board profiles (when present)
#   /usr/share/sluice/mosquitto/*.conf       on-box broker config to enable
#   /usr/share/doc/sluice/                   README, docs, copyright, changelog
# Maintainer scripts are in debian/ (systemd/README.md: what they do).

if(NOT TARGET sluice)
  return()
endif()

set(_sluice_pkg_src ${PROJECT_SOURCE_DIR})
set(_sluice_pkg_gen ${PROJECT_BINARY_DIR}/packaging)
file(MAKE_DIRECTORY ${_sluice_pkg_gen})
# Placeholder until the project has a real contact address: set
# -DSLUICE_PACKAGE_CONTACT="Name <mail>" when building a release.
set(SLUICE_PACKAGE_CONTACT "Sluice maintainers <maintainers@sluice.invalid>"
    CACHE STRING "Maintainer field of the Debian package")

# --- install rules -----------------------------------------------------------
# Relative destinations land under CPACK_PACKAGING_INSTALL_PREFIX (/usr).
install(TARGETS sluice RUNTIME DESTINATION bin)
install(FILES ${_sluice_pkg_src}/systemd/sluice.service
        DESTINATION /lib/systemd/system)
install(FILES ${_sluice_pkg_src}/systemd/sluice.sysusers
        DESTINATION lib/sysusers.d RENAME sluice.conf)
if(EXISTS ${_sluice_pkg_src}/systemd/sluice.tmpfiles)
  install(FILES ${_sluice_pkg_src}/systemd/sluice.tmpfiles
          DESTINATION lib/tmpfiles.d RENAME sluice.conf)
endif()
install(FILES ${_sluice_pkg_src}/config/sluice.toml DESTINATION /etc/sluice)

# Board profiles, when the boards/ work has landed them.
file(GLOB _sluice_boards ${_sluice_pkg_src}/boards/*.toml)
if(_sluice_boards)
  install(FILES ${_sluice_boards} DESTINATION share/sluice/boards)
endif()

# The on-box Mosquitto drop-in: shipped inactive, enabled by the operator with
# a symlink into /etc/mosquitto/conf.d (systemd/README.md). Not installed into
# /etc/mosquitto directly: that would reconfigure a broker the site may
# already run for other purposes.
if(EXISTS ${_sluice_pkg_src}/config/mosquitto/sluice-broker.conf)
  install(FILES ${_sluice_pkg_src}/config/mosquitto/sluice-broker.conf
          DESTINATION share/sluice/mosquitto)
elseif(EXISTS ${_sluice_pkg_src}/systemd/mosquitto-sluice.conf)
  install(FILES ${_sluice_pkg_src}/systemd/mosquitto-sluice.conf
          DESTINATION share/sluice/mosquitto RENAME sluice-broker.conf)
endif()

# Documentation.
set(_sluice_docdir share/doc/sluice)
install(FILES ${_sluice_pkg_src}/README.md DESTINATION ${_sluice_docdir})
install(FILES ${_sluice_pkg_src}/systemd/README.md DESTINATION ${_sluice_docdir}
        RENAME README.systemd.md)
install(DIRECTORY ${_sluice_pkg_src}/docs/ DESTINATION ${_sluice_docdir}/docs
        FILES_MATCHING PATTERN "*.md")

# copyright and changelog.gz (a native package: no Debian revision), as
# Debian policy wants them.
if(EXISTS ${_sluice_pkg_src}/LICENSE)
  file(READ ${_sluice_pkg_src}/LICENSE _sluice_license_text)
else()
  set(_sluice_license_text "No LICENSE file in the source tree yet.\n")
endif()
string(REGEX REPLACE "\n\n" "\n.\n" _sluice_license_body "${_sluice_license_text}")
string(REGEX REPLACE "\n([^\n])" "\n \\1" _sluice_license_body "${_sluice_license_body}")
string(TIMESTAMP _sluice_pkg_year "%Y" UTC)
file(WRITE ${_sluice_pkg_gen}/copyright
"Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: sluice

Files: *
Copyright: ${_sluice_pkg_year} The Sluice contributors
License: sluice
 ${_sluice_license_body}
")
install(FILES ${_sluice_pkg_gen}/copyright DESTINATION ${_sluice_docdir})

string(TIMESTAMP _sluice_pkg_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(WRITE ${_sluice_pkg_gen}/changelog.Debian
"sluice (${PROJECT_VERSION}) unstable; urgency=medium

  * Upstream release ${PROJECT_VERSION}, packaged with CPack.

 -- ${SLUICE_PACKAGE_CONTACT}  ${_sluice_pkg_date}
")
find_program(SLUICE_GZIP gzip REQUIRED)
add_custom_command(OUTPUT ${_sluice_pkg_gen}/changelog.gz
  COMMAND ${SLUICE_GZIP} -n -9 -c ${_sluice_pkg_gen}/changelog.Debian
          > ${_sluice_pkg_gen}/changelog.gz
  DEPENDS ${_sluice_pkg_gen}/changelog.Debian VERBATIM)
add_custom_target(sluice_pkg_changelog ALL DEPENDS ${_sluice_pkg_gen}/changelog.gz)
install(FILES ${_sluice_pkg_gen}/changelog.gz DESTINATION ${_sluice_docdir})

install(FILES ${_sluice_pkg_src}/debian/sluice.lintian-overrides
        DESTINATION share/lintian/overrides RENAME sluice)

# --- CPack DEB ---------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME sluice)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${SLUICE_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_VENDOR "Sluice")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)          # sluice_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE "")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "edge IIoT ingestion gateway: MQTT in, durable store, S3 upstream")
# CPack writes the summary as the synopsis and indents these lines; an empty
# line becomes the " ." paragraph separator.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
"Sluice takes MQTT sensor streams in at a high rate, keeps every
acknowledged record durably on the box (persistent memory or a
group-committed log, NVMe blocks written with io_uring), pushes back on
publishers instead of dropping data, and ships sealed, compressed,
columnar partitions upstream to S3-compatible object storage.

This package contains the sluice binary, a hardened systemd unit, the
default configuration and board profiles.")
if(NOT CPACK_DEBIAN_PACKAGE_ARCHITECTURE)
  if(CMAKE_CROSSCOMPILING AND CMAKE_LIBRARY_ARCHITECTURE)
    # Cross build (cmake/toolchain-*.cmake): the target's Debian architecture
    # (aarch64-linux-gnu -> arm64), not this machine's. dpkg-architecture
    # may warn that $CC does not build for -t: ignored.
    execute_process(COMMAND dpkg-architecture -t${CMAKE_LIBRARY_ARCHITECTURE} -qDEB_HOST_ARCH
      OUTPUT_VARIABLE CPACK_DEBIAN_PACKAGE_ARCHITECTURE OUTPUT_STRIP_TRAILING_WHITESPACE
      ERROR_QUIET)
  else()
    execute_process(COMMAND dpkg --print-architecture
      OUTPUT_VARIABLE CPACK_DEBIAN_PACKAGE_ARCHITECTURE OUTPUT_STRIP_TRAILING_WHITESPACE)
  endif()
endif()
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Beyond the shared libraries: the maintainer scripts use deb-systemd-helper
# when it is there (init-system-helpers, priority required) and
# systemd-sysusers or useradd (passwd) to create the user.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "init-system-helpers (>= 1.54~), passwd")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "mosquitto")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "mosquitto-clients")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${_sluice_pkg_src}/debian/conffiles
  ${_sluice_pkg_src}/debian/postinst
  ${_sluice_pkg_src}/debian/prerm
  ${_sluice_pkg_src}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_PACKAGE_DIRECTORY ${PROJECT_BINARY_DIR}/packages)
include(CPack)
