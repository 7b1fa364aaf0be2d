# libFuzzer targets (clang): built and run by scripts/fuzz, not by make.
