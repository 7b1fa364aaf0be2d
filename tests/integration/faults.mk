# Integration tests of faults, scale and signals (issue: faults, scale and
# speed); same harness as local.mk, plus faults_util.[ch], which makes the
# faults for real (full accept queues, a cutting TCP relay, a stopped or
# killed sshd session) and runs dronex while the test acts on it.
# test_library links libdronex itself and drives the queue with the SSH
# executor, to check that runs leave no descriptor or thread behind.
if HAVE_CRITERION
DX_FAULT_TESTS = \
	tests/integration/test_faults \
	tests/integration/test_fleet \
	tests/integration/test_retries \
	tests/integration/test_signals \
	tests/integration/test_scale \
	tests/integration/test_library \
	tests/integration/test_cli_signals \
	tests/integration/test_chan
check_PROGRAMS += $(DX_FAULT_TESTS)
TESTS += $(DX_FAULT_TESTS)
DX_FAULT_SOURCES = tests/integration/harness.c tests/integration/harness.h \
	tests/integration/faults_util.c tests/integration/faults_util.h
DX_FAULT_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
DX_FAULT_LDADD = $(JANSSON_LIBS) $(CRITERION_LIBS)
tests_integration_test_faults_SOURCES = tests/integration/test_faults.c $(DX_FAULT_SOURCES)
tests_integration_test_faults_CFLAGS = $(DX_FAULT_CFLAGS)
tests_integration_test_faults_LDADD = $(DX_FAULT_LDADD)
tests_integration_test_fleet_SOURCES = tests/integration/test_fleet.c $(DX_FAULT_SOURCES)
tests_integration_test_fleet_CFLAGS = $(DX_FAULT_CFLAGS)
tests_integration_test_fleet_LDADD = $(DX_FAULT_LDADD)
tests_integration_test_retries_SOURCES = tests/integration/test_retries.c $(DX_FAULT_SOURCES)
tests_integration_test_retries_CFLAGS = $(DX_FAULT_CFLAGS)
tests_integration_test_retries_LDADD = $(DX_FAULT_LDADD)
tests_integration_test_signals_SOURCES = tests/integration/test_signals.c $(DX_FAULT_SOURCES)
tests_integration_test_signals_CFLAGS = $(DX_FAULT_CFLAGS)
tests_integration_test_signals_LDADD = $(DX_FAULT_LDADD)
tests_integration_test_scale_SOURCES = tests/integration/test_scale.c $(DX_FAULT_SOURCES)
tests_integration_test_scale_CFLAGS = $(DX_FAULT_CFLAGS)
tests_integration_test_scale_LDADD = $(DX_FAULT_LDADD)
tests_integration_test_library_SOURCES = tests/integration/test_library.c $(DX_FAULT_SOURCES)
tests_integration_test_library_CFLAGS = $(DX_FAULT_CFLAGS)
tests_integration_test_library_LDADD = $(DX_LIBS) $(DX_FAULT_LDADD)
tests_integration_test_cli_signals_SOURCES = tests/integration/test_cli_signals.c $(DX_FAULT_SOURCES)
tests_integration_test_cli_signals_CFLAGS = $(DX_FAULT_CFLAGS)
tests_integration_test_cli_signals_LDADD = $(DX_FAULT_LDADD)
# test_chan starts sshds of its own (ChannelTimeout, a BusyBox ps).
tests_integration_test_chan_SOURCES = tests/integration/test_chan.c $(DX_FAULT_SOURCES)
tests_integration_test_chan_CFLAGS = $(DX_FAULT_CFLAGS)
tests_integration_test_chan_CPPFLAGS = $(AM_CPPFLAGS) \
	-DDX_SSHD_TEST='"$(abs_top_srcdir)/tests/sshd-test"'
tests_integration_test_chan_LDADD = $(DX_LIBS) $(DX_FAULT_LDADD)
endif
