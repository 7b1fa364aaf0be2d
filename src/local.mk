# libdronex: everything but the CLI.
#
# src/libdronex_core.la is a libtool convenience library (an archive, never
# installed) holding every library source.  The binary and the tests link
# it, so they carry the library's code themselves, internal functions
# included: no shared library to find at run time, no PLT on the hot path.
# Its objects are compiled once, position-independent (disable-static), so
# that the installed libraries can be made of them, and without semantic
# interposition (configure.ac says why).
noinst_LTLIBRARIES += src/libdronex_core.la
src_libdronex_core_la_LIBTOOLFLAGS = --tag=disable-static
src_libdronex_core_la_CFLAGS = $(AM_CFLAGS) $(NOINTERPOSE_CFLAGS)
src_libdronex_core_la_SOURCES = \
	src/dronex.h \
	src/err.c \
	src/buf.c \
	src/utf8.c src/utf8.h \
	src/base64.c src/base64.h \
	src/result.c src/result.h \
	src/queue.c src/queue.h src/queue_dispatch.c src/queue_order.c src/queue_error.c src/queue_error.h \
	src/hostset.c src/hostset.h \
	src/inventory.c src/inventory.h src/inventory_int.h src/inventory_check.c \
	src/jsonpos.c src/jsonpos.h src/home.c src/home.h \
	src/target.c src/jobs.c src/jobs.h \
	src/sshconf.c src/sshconf.h \
	src/select.c src/select.h \
	src/target.h \
	src/fileio.c src/fileio.h \
	src/fdwait.c src/fdwait.h \
	src/agent.c src/agent.h \
	src/resolve.c src/resolve.h \
	src/knownhosts.c src/knownhosts.h src/khstore.c \
	src/identity.c src/identity.h \
	src/killscript.c src/killscript.h \
	src/signame.c src/signame.h \
	src/fmt.c src/fmt.h \
	src/transport.c src/transport.h \
	src/conn.c src/conn.h src/conn_int.h src/conn_auth.c \
	src/call.c src/call.h \
	src/ssh_exec.c src/ssh_exec.h \
	src/spool.c src/spool.h src/spool_int.h src/spool_lock.c src/spool_journal.c \
	src/request.c src/request.h \
	src/pool.c src/pool.h src/pool_int.h src/pool_reopen.c src/throttle.c src/throttle.h \
	src/hops.c src/hops.h \
	src/jump.c src/jump.h src/jump_int.h src/pump.c

# The installed libdronex (shared and static), made of the same objects.
# The shared one exports exactly the functions dronex.h declares, listed in
# src/libdronex.sym (libtool turns it into a version script); the install
# test (tests/integration/test_install.sh) fails on any difference between
# the two, either way.  A function added to dronex.h goes in the list too.
lib_LTLIBRARIES += src/libdronex.la
src_libdronex_la_SOURCES =
src_libdronex_la_LIBADD = src/libdronex_core.la $(DX_DEP_LIBS)
src_libdronex_la_LDFLAGS = -version-info 0:0:0 -no-undefined \
	-export-symbols $(srcdir)/src/libdronex.sym
EXTRA_src_libdronex_la_DEPENDENCIES = src/libdronex.sym
include_HEADERS += src/dronex.h
EXTRA_DIST += src/libdronex.sym

pkgconfig_DATA += dronex.pc
EXTRA_DIST += dronex.pc.in

bin_PROGRAMS += src/dronex
src_dronex_SOURCES = src/main.c src/cli.c src/cli.h src/cli_int.h src/cli_resolve.c src/cli_exec.c \
	src/cli_list.c src/cli_merge.c \
	src/cli_spool.c src/cli_spool_int.h src/cli_spool_out.c src/cli_spool_ctl.c \
	src/cli_serve.c src/serve.h src/serve_intake.c src/serve_sched.c src/serve_journal.c \
	src/serve_doc.c src/serve_status.c \
	src/output.c src/output.h src/output_int.h src/output_text.c
src_dronex_LDADD = $(DX_LIBS)
