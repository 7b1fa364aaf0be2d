# completion/: bash completion for dronex, installed where bash-completion
# loads it on demand (configure: --with-bash-completion-dir), and tested by
# tests/integration/test_completion.sh (listed in tests/integration/local.mk).
dist_bashcompletion_DATA = completion/dronex
