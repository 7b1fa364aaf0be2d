# Integration tests: the real dronex binary against a private sshd that
# tests/run-test starts on 127.0.0.1 for each program.  Every program links
# the harness (harness.[ch]: the one process runner, inventories, result
# accessors) and faults_util.[ch] (faults made for real: full accept
# queues, a cutting TCP relay, the processes of a session on the drone).
# Programs that link libdronex itself add $(DX_LIBS); programs that run
# dronex in private namespaces add ns_util.h and use dx_nsexec.
#
# To add a program: append it to DX_INTEGRATION_TESTS and give it the
# three lines its neighbours have.

if HAVE_CRITERION
DX_INTEGRATION_TESTS = \
	tests/integration/test_exec \
	tests/integration/test_connect \
	tests/integration/test_connection_lost \
	tests/integration/test_jump \
	tests/integration/test_jump_lib \
	tests/integration/test_hostkey \
	tests/integration/test_auth \
	tests/integration/test_agent \
	tests/integration/test_identities \
	tests/integration/test_timeout \
	tests/integration/test_deadline \
	tests/integration/test_interrupt \
	tests/integration/test_retries \
	tests/integration/test_output \
	tests/integration/test_document \
	tests/integration/test_cli \
	tests/integration/test_cli_options \
	tests/integration/test_cli_signals \
	tests/integration/test_list \
	tests/integration/test_sshconf \
	tests/integration/test_resolve \
	tests/integration/test_fleet \
	tests/integration/test_library \
	tests/integration/test_chan \
	tests/integration/test_conn \
	tests/integration/test_merge \
	tests/integration/test_pool \
	tests/integration/test_scale \
	tests/integration/test_serve \
	tests/integration/test_serve_crash \
	tests/integration/test_serve_ssh \
	tests/integration/test_spool_cli \
	tests/integration/test_spool_serve \
	tests/integration/test_spool_attack
check_PROGRAMS += $(DX_INTEGRATION_TESTS)
TESTS += $(DX_INTEGRATION_TESTS)
DX_INTEGRATION_SOURCES = tests/integration/harness.c tests/integration/harness.h \
	tests/integration/faults_util.c tests/integration/faults_util.h
DX_INTEGRATION_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
DX_INTEGRATION_LDADD = $(JANSSON_LIBS) $(CRITERION_LIBS)

tests_integration_test_serve_SOURCES = tests/integration/test_serve.c tests/integration/serve_util.h $(DX_INTEGRATION_SOURCES)
tests_integration_test_serve_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_serve_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_serve_crash_SOURCES = tests/integration/test_serve_crash.c tests/integration/serve_util.h $(DX_INTEGRATION_SOURCES)
tests_integration_test_serve_crash_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_serve_crash_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_serve_ssh_SOURCES = tests/integration/test_serve_ssh.c tests/integration/serve_util.h $(DX_INTEGRATION_SOURCES)
tests_integration_test_serve_ssh_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_serve_ssh_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_exec_SOURCES = tests/integration/test_exec.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_exec_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_exec_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_connect_SOURCES = tests/integration/test_connect.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_connect_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_connect_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_jump_lib_SOURCES = tests/integration/test_jump_lib.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_jump_lib_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_jump_lib_LDADD = $(DX_LIBS) $(DX_INTEGRATION_LDADD)
tests_integration_test_jump_SOURCES = tests/integration/test_jump.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_jump_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_jump_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_connection_lost_SOURCES = tests/integration/test_connection_lost.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_connection_lost_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_connection_lost_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_hostkey_SOURCES = tests/integration/test_hostkey.c tests/integration/ns_util.h $(DX_INTEGRATION_SOURCES)
tests_integration_test_hostkey_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_hostkey_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_auth_SOURCES = tests/integration/test_auth.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_auth_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_auth_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_agent_SOURCES = tests/integration/test_agent.c tests/integration/ns_util.h $(DX_INTEGRATION_SOURCES)
tests_integration_test_agent_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_agent_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_identities_SOURCES = tests/integration/test_identities.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_identities_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_identities_LDADD = $(DX_LIBS) $(DX_INTEGRATION_LDADD)
tests_integration_test_timeout_SOURCES = tests/integration/test_timeout.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_timeout_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_timeout_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_deadline_SOURCES = tests/integration/test_deadline.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_deadline_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_deadline_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_interrupt_SOURCES = tests/integration/test_interrupt.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_interrupt_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_interrupt_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_retries_SOURCES = tests/integration/test_retries.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_retries_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_retries_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_output_SOURCES = tests/integration/test_output.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_output_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_output_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_document_SOURCES = tests/integration/test_document.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_document_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_document_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_cli_SOURCES = tests/integration/test_cli.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_cli_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_cli_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_cli_options_SOURCES = tests/integration/test_cli_options.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_cli_options_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_cli_options_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_cli_signals_SOURCES = tests/integration/test_cli_signals.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_cli_signals_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_cli_signals_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_spool_cli_SOURCES = tests/integration/test_spool_cli.c tests/integration/spool_util.h $(DX_INTEGRATION_SOURCES)
tests_integration_test_spool_cli_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_spool_cli_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_spool_serve_SOURCES = tests/integration/test_spool_serve.c tests/integration/spool_util.h $(DX_INTEGRATION_SOURCES)
tests_integration_test_spool_serve_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_spool_serve_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_spool_attack_SOURCES = tests/integration/test_spool_attack.c tests/integration/spool_util.h $(DX_INTEGRATION_SOURCES)
tests_integration_test_spool_attack_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_spool_attack_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_list_SOURCES = tests/integration/test_list.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_list_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_list_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_resolve_SOURCES = tests/integration/test_resolve.c tests/integration/ns_util.h $(DX_INTEGRATION_SOURCES)
tests_integration_test_resolve_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_resolve_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_fleet_SOURCES = tests/integration/test_fleet.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_fleet_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_fleet_LDADD = $(DX_INTEGRATION_LDADD)
# test_library links libdronex itself and drives the queue with the SSH
# executor, to check that runs leave no descriptor or thread behind.
tests_integration_test_library_SOURCES = tests/integration/test_library.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_library_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_library_LDADD = $(DX_LIBS) $(DX_INTEGRATION_LDADD)
# test_chan starts sshds of its own (ChannelTimeout, a BusyBox ps).
tests_integration_test_chan_SOURCES = tests/integration/test_chan.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_chan_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_chan_CPPFLAGS = $(AM_CPPFLAGS) \
	-DDX_SSHD_TEST='"$(abs_top_srcdir)/tests/sshd-test"'
tests_integration_test_chan_LDADD = $(DX_LIBS) $(DX_INTEGRATION_LDADD)
# test_sshconf starts an sshd of its own (MaxAuthTries).
tests_integration_test_sshconf_SOURCES = tests/integration/test_sshconf.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_sshconf_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_sshconf_CPPFLAGS = $(AM_CPPFLAGS) \
	-DDX_SSHD_TEST='"$(abs_top_srcdir)/tests/sshd-test"'
tests_integration_test_sshconf_LDADD = $(DX_INTEGRATION_LDADD)
# test_scale runs alone (tests/run-test takes the test lock exclusively).
tests_integration_test_scale_SOURCES = tests/integration/test_scale.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_scale_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_scale_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_merge_SOURCES = tests/integration/test_merge.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_merge_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_merge_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_conn_SOURCES = tests/integration/test_conn.c
tests_integration_test_conn_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_conn_LDADD = $(DX_LIBS) $(DX_INTEGRATION_LDADD)
tests_integration_test_pool_SOURCES = tests/integration/test_pool.c
tests_integration_test_pool_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_pool_LDADD = $(DX_LIBS) $(DX_INTEGRATION_LDADD)

# --format text, colour and the progress line, under a pseudo-terminal.
DX_INTEGRATION_TESTS += tests/integration/test_text
tests_integration_test_text_SOURCES = tests/integration/test_text.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_text_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_text_LDADD = $(DX_INTEGRATION_LDADD)

# A helper the host-key and resolver tests run dronex under (private mount
# and network namespaces).
check_PROGRAMS += tests/integration/dx_nsexec
tests_integration_dx_nsexec_SOURCES = tests/integration/dx_nsexec.c
endif

# test_conn again against tests/tsan's criterion shim: a connection handed
# between threads, under ThreadSanitizer in an --enable-tsan build (named
# under tests/integration/ so that tests/run-test starts its sshd).
check_PROGRAMS += tests/integration/test_conn_tsan
tests_integration_test_conn_tsan_SOURCES = tests/integration/test_conn.c
tests_integration_test_conn_tsan_CPPFLAGS = -I$(top_srcdir)/tests/tsan $(AM_CPPFLAGS)
tests_integration_test_conn_tsan_LDADD = $(DX_LIBS)
if TSAN
TESTS += tests/integration/test_conn_tsan
endif

# "Beyond one machine" (README, man page): the README's Slurm job array on
# a one-node Slurm started by the test itself (skipped only without the
# slurm-wlm and munge binaries), and the Kubernetes Indexed Job manifest
# run index by index as the Job controller would.  Both merge the shards
# and compare them with one unsharded run; both live here so that
# tests/run-test starts the suite's sshd for them.
TESTS += tests/integration/test_slurm.sh tests/integration/test_k8s_job.py
EXTRA_DIST += tests/integration/test_slurm.sh tests/integration/test_k8s_job.py

# Bash completion (completion/dronex) run in bash against this dronex.
TESTS += tests/integration/test_completion.sh
EXTRA_DIST += tests/integration/test_completion.sh

# ssh_config read as OpenSSH reads it: dronex list --explain against ssh -G
# for a set of configs and host names (no sshd needed; run-test starts one).
TESTS += tests/integration/test_sshconf_sshg.sh
EXTRA_DIST += tests/integration/test_sshconf_sshg.sh
# test_pool again under ThreadSanitizer (the pool's thread, takes and gives
# from several threads, hand-overs of one session).
check_PROGRAMS += tests/integration/test_pool_tsan
tests_integration_test_pool_tsan_SOURCES = tests/integration/test_pool.c
tests_integration_test_pool_tsan_CPPFLAGS = -I$(top_srcdir)/tests/tsan $(AM_CPPFLAGS)
tests_integration_test_pool_tsan_LDADD = $(DX_LIBS)
if TSAN
TESTS += tests/integration/test_pool_tsan
endif

# examples/dronex-serve.service: unit syntax, and systemd-analyze verify
# when systemd is installed.
TESTS += tests/integration/test_serve_unit.sh
EXTRA_DIST += tests/integration/test_serve_unit.sh

# status --format prometheus scraped from the real node_exporter's textfile
# collector (Debian's prometheus-node-exporter; skipped without it).
TESTS += tests/integration/test_serve_prometheus.sh
EXTRA_DIST += tests/integration/test_serve_prometheus.sh
