# The appliance: the hardened systemd unit analysed offline, and the Debian
# package built, linted, installed into a scratch root, upgraded, removed and
# purged. Both run as plain scripts; see their headers for what they need.
add_test(NAME "systemd: unit exposure <= 2.0 (systemd-analyze security --offline)"
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/systemd_security_test.sh ${PROJECT_SOURCE_DIR})
set_tests_properties("systemd: unit exposure <= 2.0 (systemd-analyze security --offline)"
  PROPERTIES LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 60)

# The package is a release artefact: not built from the sanitizer tree (its
# binary would depend on libasan). cpack runs in this build tree from the
# already-built `sluice`.
if(NOT SLUICE_SANITIZE)
  add_test(NAME "packaging: Debian package builds, lints, installs, upgrades, purges"
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/packaging_test.sh ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
  set_tests_properties("packaging: Debian package builds, lints, installs, upgrades, purges"
    PROPERTIES LABELS integration TIMEOUT 300 RUN_SERIAL TRUE)
endif()
