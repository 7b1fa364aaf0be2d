# Integration tests: the real dronex binary against a private sshd that
# tests/run-test starts on 127.0.0.1 for each program.

if HAVE_CRITERION
DX_INTEGRATION_TESTS = \
	tests/integration/test_exec \
	tests/integration/test_connect \
	tests/integration/test_hostkey \
	tests/integration/test_auth \
	tests/integration/test_timeout \
	tests/integration/test_output \
	tests/integration/test_document \
	tests/integration/test_cli \
	tests/integration/test_cli_options \
	tests/integration/test_resolve \
	tests/integration/test_agent \
	tests/integration/test_identities \
	tests/integration/test_conn
check_PROGRAMS += $(DX_INTEGRATION_TESTS)
TESTS += $(DX_INTEGRATION_TESTS)
DX_INTEGRATION_SOURCES = tests/integration/harness.c tests/integration/harness.h
DX_INTEGRATION_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
DX_INTEGRATION_LDADD = $(JANSSON_LIBS) $(CRITERION_LIBS)
tests_integration_test_exec_SOURCES = tests/integration/test_exec.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_exec_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_exec_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_connect_SOURCES = tests/integration/test_connect.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_connect_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_connect_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_hostkey_SOURCES = tests/integration/test_hostkey.c tests/integration/ns_util.h $(DX_INTEGRATION_SOURCES)
tests_integration_test_hostkey_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_hostkey_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_auth_SOURCES = tests/integration/test_auth.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_auth_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_auth_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_timeout_SOURCES = tests/integration/test_timeout.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_timeout_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_timeout_LDADD = $(DX_INTEGRATION_LDADD)
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
tests_integration_test_resolve_SOURCES = tests/integration/test_resolve.c tests/integration/ns_util.h $(DX_INTEGRATION_SOURCES)
tests_integration_test_resolve_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_resolve_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_agent_SOURCES = tests/integration/test_agent.c tests/integration/ns_util.h $(DX_INTEGRATION_SOURCES)
tests_integration_test_agent_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_agent_LDADD = $(DX_INTEGRATION_LDADD)
tests_integration_test_identities_SOURCES = tests/integration/test_identities.c $(DX_INTEGRATION_SOURCES)
tests_integration_test_identities_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_identities_LDADD = $(DX_LIBS) $(DX_INTEGRATION_LDADD)
tests_integration_test_conn_SOURCES = tests/integration/test_conn.c
tests_integration_test_conn_CFLAGS = $(DX_INTEGRATION_CFLAGS)
tests_integration_test_conn_LDADD = $(DX_LIBS) $(DX_INTEGRATION_LDADD)
endif

# A helper the host-key and resolver tests run dronex under (private mount
# and network namespaces).
if HAVE_CRITERION
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
