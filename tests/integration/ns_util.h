/*
 * ns_util.h - run dronex under tests/integration/dx_nsexec (private mount
 * and network namespaces), through the normal harness: ns_wrap() writes a
 * small script that execs dx_nsexec with the given options and then the
 * real $DRONEX_BIN, and points DRONEX_BIN at it for this test process
 * (criterion runs each test in a process of its own).
 */
#ifndef DX_NS_UTIL_H
#define DX_NS_UTIL_H

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

/* opts: dx_nsexec options, e.g. "-b /tmp/x /etc/ssh" (no quotes needed). */
static inline void
ns_wrap(const char *dir, const char *opts)
{
	char exe[PATH_MAX], *script, *body, *real;
	ssize_t n;

	/* Namespaces and bind mounts need root (as in CI and the dev VM). */
	if (geteuid() != 0)
		cr_skip_test("needs root for mount and network namespaces");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	cr_assert(n > 0);
	exe[n] = '\0';
	real = strdup(dxh_env("DRONEX_BIN"));
	cr_assert_not_null(real);
	cr_assert(asprintf(&body, "#!/bin/sh\nexec %s/dx_nsexec %s -- %s \"$@\"\n",
	    dirname(exe), opts, real) > 0);
	script = dxh_write_file(dir, "dronex-ns", body);
	cr_assert(chmod(script, 0755) == 0);
	cr_assert(setenv("DRONEX_BIN", script, 1) == 0);
	free(body);
	free(script);
	free(real);
}

#endif
