# Unit tests: criterion, no network.
if HAVE_CRITERION
DX_UNIT_TESTS = \
	tests/unit/test_hostset \
	tests/unit/test_inventory \
	tests/unit/test_select \
	tests/unit/test_target \
	tests/unit/test_hops \
	tests/unit/test_sshconf \
	tests/unit/test_jobs \
	tests/unit/test_knownhosts \
	tests/unit/test_queue \
	tests/unit/test_queue_retry \
	tests/unit/test_queue_live \
	tests/unit/test_result \
	tests/unit/test_queue_error \
	tests/unit/test_utf8 \
	tests/unit/test_output_doc \
	tests/unit/test_output_text \
	tests/unit/test_killscript \
	tests/unit/test_signame \
	tests/unit/test_fmt \
	tests/unit/test_spool \
	tests/unit/test_request
check_PROGRAMS += $(DX_UNIT_TESTS)
TESTS += $(DX_UNIT_TESTS)
DX_UNIT_CFLAGS = $(AM_CFLAGS) $(CRITERION_CFLAGS)
DX_UNIT_LDADD = $(DX_LIBS) $(CRITERION_LIBS)
tests_unit_test_hostset_CFLAGS = $(DX_UNIT_CFLAGS)
tests_unit_test_hostset_LDADD = $(DX_UNIT_LDADD)
tests_unit_test_inventory_CFLAGS = $(DX_UNIT_CFLAGS)
tests_unit_test_inventory_LDADD = $(DX_UNIT_LDADD)
tests_unit_test_select_CFLAGS = $(DX_UNIT_CFLAGS)
tests_unit_test_select_LDADD = $(DX_UNIT_LDADD)
tests_unit_test_sshconf_CFLAGS = $(DX_UNIT_CFLAGS)
tests_unit_test_sshconf_LDADD = $(DX_UNIT_LDADD)
tests_unit_test_target_CFLAGS = $(DX_UNIT_CFLAGS)
tests_unit_test_target_LDADD = $(DX_UNIT_LDADD)
tests_unit_test_hops_CFLAGS = $(DX_UNIT_CFLAGS)
tests_unit_test_hops_LDADD = $(DX_UNIT_LDADD)
tests_unit_test_jobs_CFLAGS = $(DX_UNIT_CFLAGS)
tests_unit_test_jobs_LDADD = $(DX_UNIT_LDADD)
tests_unit_test_knownhosts_CFLAGS = $(DX_UNIT_CFLAGS)
tests_unit_test_knownhosts_LDADD = $(DX_UNIT_LDADD)
# The queue's three programs share the fake executor (queue_fake.h).
tests_unit_test_queue_SOURCES = tests/unit/test_queue.c tests/unit/queue_fake.h
tests_unit_test_queue_CFLAGS = $(DX_UNIT_CFLAGS)
tests_unit_test_queue_LDADD = $(DX_UNIT_LDADD)
tests_unit_test_queue_retry_SOURCES = tests/unit/test_queue_retry.c tests/unit/queue_fake.h
tests_unit_test_queue_retry_CFLAGS = $(DX_UNIT_CFLAGS)
tests_unit_test_queue_retry_LDADD = $(DX_UNIT_LDADD)
tests_unit_test_queue_live_SOURCES = tests/unit/test_queue_live.c tests/unit/queue_fake.h
tests_unit_test_queue_live_CFLAGS = $(DX_UNIT_CFLAGS)
tests_unit_test_queue_live_LDADD = $(DX_UNIT_LDADD)
tests_unit_test_result_CFLAGS = $(DX_UNIT_CFLAGS)
tests_unit_test_result_LDADD = $(DX_UNIT_LDADD)
tests_unit_test_queue_error_CFLAGS = $(DX_UNIT_CFLAGS)
tests_unit_test_queue_error_LDADD = $(DX_UNIT_LDADD)
tests_unit_test_utf8_CFLAGS = $(DX_UNIT_CFLAGS)
tests_unit_test_utf8_LDADD = $(DX_UNIT_LDADD)
tests_unit_test_output_doc_SOURCES = tests/unit/test_output_doc.c src/output.c src/output_text.c
tests_unit_test_output_doc_CFLAGS = $(DX_UNIT_CFLAGS)
tests_unit_test_output_doc_LDADD = $(DX_UNIT_LDADD)
tests_unit_test_output_text_SOURCES = tests/unit/test_output_text.c src/output.c src/output_text.c
tests_unit_test_output_text_CFLAGS = $(DX_UNIT_CFLAGS)
tests_unit_test_output_text_LDADD = $(DX_UNIT_LDADD)
tests_unit_test_killscript_CFLAGS = $(DX_UNIT_CFLAGS)
tests_unit_test_killscript_LDADD = $(DX_UNIT_LDADD)
tests_unit_test_signame_CFLAGS = $(DX_UNIT_CFLAGS)
tests_unit_test_signame_LDADD = $(DX_UNIT_LDADD)
tests_unit_test_fmt_CFLAGS = $(DX_UNIT_CFLAGS)
tests_unit_test_fmt_LDADD = $(DX_UNIT_LDADD)
tests_unit_test_spool_CFLAGS = $(DX_UNIT_CFLAGS)
tests_unit_test_spool_LDADD = $(DX_UNIT_LDADD)
tests_unit_test_request_CFLAGS = $(DX_UNIT_CFLAGS)
tests_unit_test_request_LDADD = $(DX_UNIT_LDADD)
endif

# The queue tests again, compiled against tests/tsan/criterion/criterion.h
# (criterion itself cannot start under ThreadSanitizer); make
# check-sanitize runs these (DX_TSAN_TESTS) in its --enable-tsan build.
DX_TSAN_QUEUE = tests/tsan/test_queue tests/tsan/test_queue_retry \
	tests/tsan/test_queue_live
check_PROGRAMS += $(DX_TSAN_QUEUE)
tests_tsan_test_queue_SOURCES = tests/unit/test_queue.c tests/unit/queue_fake.h
tests_tsan_test_queue_CPPFLAGS = -I$(top_srcdir)/tests/tsan $(AM_CPPFLAGS)
tests_tsan_test_queue_LDADD = $(DX_LIBS)
tests_tsan_test_queue_retry_SOURCES = tests/unit/test_queue_retry.c tests/unit/queue_fake.h
tests_tsan_test_queue_retry_CPPFLAGS = -I$(top_srcdir)/tests/tsan $(AM_CPPFLAGS)
tests_tsan_test_queue_retry_LDADD = $(DX_LIBS)
tests_tsan_test_queue_live_SOURCES = tests/unit/test_queue_live.c tests/unit/queue_fake.h
tests_tsan_test_queue_live_CPPFLAGS = -I$(top_srcdir)/tests/tsan $(AM_CPPFLAGS)
tests_tsan_test_queue_live_LDADD = $(DX_LIBS)
if TSAN
TESTS += $(DX_TSAN_QUEUE)
endif
EXTRA_DIST += tests/tsan/criterion/criterion.h
