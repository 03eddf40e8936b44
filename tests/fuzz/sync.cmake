# sync decoders (partition objects) land here.
