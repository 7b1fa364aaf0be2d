# libdronex: everything but the CLI, linked by the binary and the tests.
noinst_LIBRARIES += src/libdronex.a
src_libdronex_a_SOURCES = \
	src/dronex.h \
	src/err.c \
	src/buf.c \
	src/utf8.c src/utf8.h \
	src/base64.c src/base64.h \
	src/result.c src/result.h \
	src/queue.c src/queue.h src/queue_dispatch.c src/queue_order.c src/queue_error.c \
	src/hostset.c src/hostset.h \
	src/inventory.c src/inventory.h \
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
	src/ssh_exec.c src/ssh_exec.h

bin_PROGRAMS += src/dronex
src_dronex_SOURCES = src/main.c src/cli.c src/cli.h src/cli_int.h src/cli_exec.c \
	src/output.c src/output.h
src_dronex_LDADD = $(DX_LIBS)
