# examples/: C programs on libdronex's public API only (#include <dronex.h>),
# installed with the documentation ($(docdir)/examples).
dist_example_DATA += examples/scheduler.c
# Shards on many machines, joined by dronex merge: a Slurm job array script
# and a Kubernetes Indexed Job (tests/integration/test_slurm.sh and
# test_k8s_job.py run them).
dist_example_DATA += examples/slurm-array.sh examples/k8s-indexed-job.yaml

# The install test: make install DESTDIR=<tmp> of this build, the export
# list of the installed shared library against the installed dronex.h,
# then examples/scheduler.c compiled with pkg-config against the installed
# tree (shared, then static) and run against the suite's sshd.  It lives
# under tests/integration/ so that tests/run-test starts that sshd.
TESTS += tests/integration/test_install.sh
EXTRA_DIST += tests/integration/test_install.sh
# What the test needs to know of this build (the install directories are
# the configured ones; the test prefixes them with its DESTDIR).
DX_INSTALL_TEST_ENVIRONMENT = \
	DRONEX_BUILDDIR='$(abs_top_builddir)'; export DRONEX_BUILDDIR; \
	DRONEX_MAKE='$(MAKE)'; export DRONEX_MAKE; \
	DRONEX_CC='$(CC)'; export DRONEX_CC; \
	DRONEX_SAN_CFLAGS='$(SAN_CFLAGS)'; export DRONEX_SAN_CFLAGS; \
	DRONEX_PKG_CONFIG='$(PKG_CONFIG)'; export DRONEX_PKG_CONFIG; \
	DRONEX_LIBDIR='$(libdir)'; export DRONEX_LIBDIR; \
	DRONEX_INCLUDEDIR='$(includedir)'; export DRONEX_INCLUDEDIR; \
	DRONEX_PKGCONFIGDIR='$(pkgconfigdir)'; export DRONEX_PKGCONFIGDIR; \
	DRONEX_EXAMPLEDIR='$(exampledir)'; export DRONEX_EXAMPLEDIR;
