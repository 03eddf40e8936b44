sluice_fuzzer(batch_fuzz sluice_store)
sluice_fuzzer(registry_fuzz sluice_store)
sluice_fuzzer(block_fuzz sluice_store)
sluice_fuzzer(pmem_fuzz sluice_store)
