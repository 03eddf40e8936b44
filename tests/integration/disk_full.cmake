# A full disk, the real thing: the `sluice` binary with its store on a small
# loop-mounted ext4 file system that QoS 1 publishers fill to 100%, killed
# with SIGKILL (and at its kill points) while filling, full and draining.
# Needs root for the mount (else skipped, exit 77). Release tree only: under
# the sanitizers the timing it depends on (runs of 0.3 to 1.5 s, a 3-minute
# budget) does not hold.
if(NOT SLUICE_SANITIZE)
  sluice_test(disk_full_kill_test integration
    SOURCES disk_full_kill_test.cc disk_full_rig.cc loop_fs.cc mqtt_test_util.cc
    LIBS sluice_app sluice_raw_mqtt_client)
  target_compile_definitions(disk_full_kill_test PRIVATE SLUICE_BIN="$<TARGET_FILE:sluice>")
  set_target_properties(disk_full_kill_test PROPERTIES DISABLE_PRECOMPILE_HEADERS ON)  # own definitions
  add_dependencies(disk_full_kill_test sluice)
endif()
