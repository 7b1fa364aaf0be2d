/*
 * test_scale.c - the whole picture at once (SPEC 1, 3, 4): a thousand
 * drones in one run, a tenth of them broken in four different ways, at
 * fan-out 256.  Every drone must be reported with the right status and
 * kind, the broken ones must not hold up or disturb the good ones, the run
 * must end on time, and the hung commands must be ended on the drone.
 *
 * The broken drones are spread through the inventory (every 40 drones:
 * one refused port, one port whose accept queue is full so the SYN is
 * never answered, one listener that never speaks SSH, one command that
 * hangs), so that they share fan-out slots with good drones all run long.
 * The wall time is logged (criterion --verbose) as a measure of speed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "faults_util.h"
#include "harness.h"

#define SC_DRONES	1000

enum sc_kind { SC_GOOD, SC_REFUSED, SC_BACKLOG, SC_SILENT, SC_HANG };

static enum sc_kind
sc_kind_of(int i)
{
	switch (i % 40) {
	case 1:
		return SC_REFUSED;
	case 2:
		return SC_BACKLOG;
	case 3:
		return SC_SILENT;
	case 4:
		return SC_HANG;
	default:
		return SC_GOOD;
	}
}

Test(scale, a_thousand_drones_with_four_kinds_of_fault_each_get_the_right_result,
    .timeout = 120)
{
	static const char *want_kind[] = {
		[SC_GOOD] = NULL, [SC_REFUSED] = "connect_refused",
		[SC_BACKLOG] = "connect_timeout", [SC_SILENT] = "handshake",
		[SC_HANG] = "call_timeout",
	};
	struct fu_backlog b;
	struct dxh_run r;
	json_t *inv, *d;
	char *path, name[32];
	int closed, silent_fd, silent_port, i, wrong = 0, counts[5] = { 0 };
	long rss = 0;

	cr_assert_eq(dxh_count_procs("sleep 60.5"), 0, "a 'sleep 60.5' is already running");
	closed = dxh_closed_port();
	silent_fd = dxh_silent_listener(&silent_port);
	fu_backlog_open(&b);
	cr_assert((inv = json_pack("{s:[]}", "drones")) != NULL);
	for (i = 1; i <= SC_DRONES; i++) {
		snprintf(name, sizeof(name), "d-%04d", i);
		d = dxh_inv_add(inv, name);
		switch (sc_kind_of(i)) {
		case SC_REFUSED:
			json_object_set_new(d, "port", json_integer(closed));
			break;
		case SC_BACKLOG:
			json_object_set_new(d, "port", json_integer(b.port));
			break;
		case SC_SILENT:
			json_object_set_new(d, "port", json_integer(silent_port));
			break;
		default:
			break;
		}
		json_object_set_new(d, "calls", json_pack("[s]",
		    sc_kind_of(i) == SC_HANG ? "sleep 60.5" : "true"));
		counts[sc_kind_of(i)]++;
	}
	cr_assert_eq(counts[SC_GOOD], 900);
	cr_assert_eq(counts[SC_HANG], 25);
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "-f", "256", "--connect-timeout", "5",
		    "-t", "10", "--deadline", "30", NULL };

		fu_run(&r, av, 0, 60, &rss);
	}
	cr_log_info("1000 drones at -f 256: exit %d in %.2f s, peak RSS %ld KiB",
	    r.status, r.wall, rss);
	fprintf(stderr, "test_scale: 1000 drones at -f 256: exit %d in %.2f s wall, "
	    "dronex peak RSS %ld KiB\n", r.status, r.wall, rss);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %.2000s", r.status, r.err);
	cr_expect_leq(r.wall, 31.0, "took %.2f s with --deadline 30", r.wall);
	cr_assert_eq(json_object_size(json_object_get(dxh_doc(&r), "drones")), SC_DRONES);
	cr_expect_eq(dxh_summary(&r, "drones"), SC_DRONES);
	for (i = 1; i <= SC_DRONES; i++) {
		enum sc_kind k = sc_kind_of(i);
		const char *st, *kind;

		snprintf(name, sizeof(name), "d-%04d", i);
		st = dxh_status(&r, name);
		kind = dxh_kind(&r, name);
		if (k == SC_GOOD) {
			if (strcmp(st, "ok") != 0 || kind != NULL)
				wrong++;
			cr_expect_str_eq(st, "ok", "%s: %s (%s)", name, st,
			    kind != NULL ? kind : "no error");
		} else {
			if (strcmp(st, "failed") != 0 || kind == NULL ||
			    strcmp(kind, want_kind[k]) != 0)
				wrong++;
			cr_expect_str_eq(st, "failed", "%s", name);
			cr_expect_str_eq(kind != NULL ? kind : "(null)", want_kind[k], "%s", name);
		}
		/* Let a broken build fail in a few lines, not a thousand. */
		if (wrong > 20)
			cr_assert_fail("more than 20 drones have the wrong result");
	}
	cr_expect_eq(dxh_summary(&r, "ok"), 900);
	cr_expect_eq(dxh_summary(&r, "failed"), 100);
	cr_expect_eq(dxh_summary(&r, "skipped"), 0);
	cr_expect_eq(dxh_count_lines(r.err, "dronex: drone "), 100);
	usleep(1000 * 1000);
	cr_expect_eq(dxh_count_procs("sleep 60.5"), 0,
	    "hung commands still run on the drone 1 s after the run");
	dxh_run_free(&r);
	fu_backlog_close(&b);
	close(silent_fd);
	json_decref(inv);
	free(path);
}
