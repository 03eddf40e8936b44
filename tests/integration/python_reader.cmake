# The Python reader (tools/python: the sluice_reader package) against the C++
# export on the same objects. Included from tests/integration/CMakeLists.txt.
#
# The build tree gets an importable copy of the package's Python files
# (PYTHONPATH=<build>/python), with the committed partition_pb2.py, so the
# tests there run the pure-Python decoders; the venv test below builds and
# installs the package the documented way, native decoders included, and
# runs the same comparisons on it.
set(SLUICE_PY_SRC ${PROJECT_SOURCE_DIR}/tools/python/sluice_reader)
set(SLUICE_PY_OUT ${PROJECT_BINARY_DIR}/python/sluice_reader)
file(GLOB SLUICE_PY_FILES CONFIGURE_DEPENDS ${SLUICE_PY_SRC}/*.py)
add_custom_command(
  OUTPUT ${SLUICE_PY_OUT}/partition_pb2.py ${SLUICE_PY_OUT}/__init__.py
  COMMAND ${CMAKE_COMMAND} -E make_directory ${SLUICE_PY_OUT}
  COMMAND ${CMAKE_COMMAND} -E copy ${SLUICE_PY_FILES} ${SLUICE_PY_OUT}
  DEPENDS ${SLUICE_PY_FILES}
  COMMENT "Python reader: copying sluice_reader"
  VERBATIM)
add_custom_target(sluice_python_reader ALL
  DEPENDS ${SLUICE_PY_OUT}/partition_pb2.py ${SLUICE_PY_OUT}/__init__.py)

# Writes objects (every codec, edge values, the real datasets) and runs the
# export library on them, standing in for `sluice export`.
add_executable(python_reader_driver python_reader_driver.cc
  ${PROJECT_SOURCE_DIR}/tests/sync/datasets.cc)
target_include_directories(python_reader_driver PRIVATE ${PROJECT_SOURCE_DIR}/tests/sync)
target_compile_definitions(python_reader_driver PRIVATE SLUICE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
target_link_libraries(python_reader_driver PRIVATE sluice_sync)
sluice_test_code_defaults(python_reader_driver)
add_dependencies(python_reader_driver sluice_python_reader)

# Debian's interpreter on purpose: the reader promises to need only Debian's
# python3-pandas, python3-zstandard and python3-protobuf.
add_test(NAME "python_reader: Python reader equals C++ export, bit for bit"
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/python_reader_test.py
          --driver $<TARGET_FILE:python_reader_driver> --pythonpath ${PROJECT_BINARY_DIR}/python
          --backend python)
set_tests_properties("python_reader: Python reader equals C++ export, bit for bit" PROPERTIES
  LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 900)

add_test(NAME "python_reader: codec and CRC unit tests"
  COMMAND /usr/bin/python3 ${PROJECT_SOURCE_DIR}/tools/python/tests/run_tests.py
          --pythonpath ${PROJECT_BINARY_DIR}/python)
set_tests_properties("python_reader: codec and CRC unit tests" PROPERTIES
  LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 300)

# The package ships partition_pb2.py so that users need no protoc; this
# fails when proto/partition.proto changed and the file was not regenerated.
add_test(NAME "python_reader: shipped partition_pb2.py is protoc's output for partition.proto"
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/python_reader_pb2_test.py
          --protoc $<TARGET_FILE:protobuf::protoc> --source-dir ${PROJECT_SOURCE_DIR})
set_tests_properties("python_reader: shipped partition_pb2.py is protoc's output for partition.proto"
  PROPERTIES LABELS integration TIMEOUT 60)

# README's install, exactly: a venv over Debian's packages, pip with no
# network and no build isolation, the native decoders built; then the unit
# tests and the comparison with `sluice export` run on the installed package.
add_test(NAME "python_reader: pip install into a venv, then equals sluice export"
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/python_reader_venv_test.py
          --source-dir ${PROJECT_SOURCE_DIR} --driver $<TARGET_FILE:python_reader_driver>
          --sluice $<TARGET_FILE:sluice>)
set_tests_properties("python_reader: pip install into a venv, then equals sluice export"
  PROPERTIES LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 900)
