# libFuzzer targets (clang): built and run by scripts/fuzz, not by make.
EXTRA_DIST += \
	tests/fuzz/fuzz_inventory.c \
	tests/fuzz/fuzz_jsonpos.c \
	tests/fuzz/fuzz_hostset.c \
	tests/fuzz/corpus
