# store_bench: Sluice against RocksDB and fio (see the comment atop the file).
find_package(RocksDB REQUIRED)
add_executable(store_bench store_bench.cc store_bench_store.cc store_bench_workloads.cc
                           store_bench_baselines.cc ${PROJECT_SOURCE_DIR}/tests/sync/datasets.cc)
target_include_directories(store_bench PRIVATE ${PROJECT_SOURCE_DIR}/tests/sync)
target_compile_definitions(store_bench PRIVATE SLUICE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
target_link_libraries(store_bench PRIVATE sluice_store RocksDB::rocksdb Threads::Threads)
sluice_target_defaults(store_bench)
