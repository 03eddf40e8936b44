# sync decoders (partition objects): the whole reader, and the chunk decoders
# that chunk CRCs shield from the reader target's mutations.
sluice_fuzzer(partition_reader_fuzz sluice_sync)
sluice_fuzzer(partition_codec_fuzz sluice_sync)
# S3 listing responses (ListObjectsV2, ListMultipartUploads), as `sluice lake`
# reads them.
sluice_fuzzer(s3_list_fuzz sluice_sync)
# Watermark objects, as the sync engine reads its own at start.
sluice_fuzzer(watermark_fuzz sluice_sync)
