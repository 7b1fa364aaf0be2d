# Integration tests: the real dronex binary against a private sshd that
# tests/run-test starts on 127.0.0.1 for each program.
