# Board profiles (detection from fake sysfs roots, precedence) and the
# `sluice doctor` checks that run without special hardware.
sluice_test(board_doctor_test unit
  SOURCES board_test.cc doctor_test.cc
  LIBS sluice_app)
target_include_directories(board_doctor_test PRIVATE ${PROJECT_SOURCE_DIR}/gateway/app/src)
