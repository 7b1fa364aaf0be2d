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
 *
 * Two runs of the same fleet.  The test sshd spends about 110 ms of CPU
 * per session on this class of machine (bench/), so 900 sessions need
 * about 50 s of both cores: more than a 30 s deadline.  The first run
 * therefore uses a fan-out and budgets the server can serve and demands
 * every result exact; the second overloads the server on purpose (-f 256,
 * a 5 s connect budget, a 30 s deadline), where good drones may time out
 * for real, and demands what must hold however slow the server is: every
 * drone reported, the faults with their own kinds, the run on time, and
 * no command left running on the drone that the JSON does not own up to.
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

struct sc_fleet {
	struct fu_backlog	 b;
	int			 silent_fd;
	json_t			*inv;
	char			*path;
};

static void
sc_fleet_make(struct sc_fleet *f)
{
	json_t *d;
	char name[32];
	int closed, silent_port, i, counts[5] = { 0 };

	cr_assert_eq(dxh_count_procs("sleep 60.5"), 0, "a 'sleep 60.5' is already running");
	closed = dxh_closed_port();
	f->silent_fd = dxh_silent_listener(&silent_port);
	fu_backlog_open(&f->b);
	cr_assert((f->inv = json_pack("{s:[]}", "drones")) != NULL);
	for (i = 1; i <= SC_DRONES; i++) {
		snprintf(name, sizeof(name), "d-%04d", i);
		d = dxh_inv_add(f->inv, name);
		switch (sc_kind_of(i)) {
		case SC_REFUSED:
			json_object_set_new(d, "port", json_integer(closed));
			break;
		case SC_BACKLOG:
			json_object_set_new(d, "port", json_integer(f->b.port));
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
	f->path = dxh_inv_write(f->inv);
}

static void
sc_fleet_free(struct sc_fleet *f)
{
	fu_backlog_close(&f->b);
	close(f->silent_fd);
	json_decref(f->inv);
	free(f->path);
}

static bool
sc_is(const char *s, const char *a, const char *b)
{
	return s != NULL && (strcmp(s, a) == 0 || (b != NULL && strcmp(s, b) == 0));
}

static const char *const sc_want_kind[] = {
	[SC_GOOD] = NULL, [SC_REFUSED] = "connect_refused",
	[SC_BACKLOG] = "connect_timeout", [SC_SILENT] = "handshake",
	[SC_HANG] = "call_timeout",
};

static bool
sc_sanitized(void)
{
	const char *v = getenv("DRONEX_SANITIZED");

	return v != NULL && strcmp(v, "1") == 0;
}

/* Checks every drone; strict: each has exactly its expected result. */
static void
sc_check(const struct dxh_run *r, bool strict)
{
	char name[32], *left;
	int i, wrong = 0, good_ok = 0, hang_cut = 0, own_kind[8] = { 0 };
	int unconfirmed = 0, left_n;

	cr_assert_eq(json_object_size(json_object_get(dxh_doc(r), "drones")), SC_DRONES,
	    "not every drone is in the results");
	cr_expect_eq(dxh_summary(r, "drones"), SC_DRONES);
	for (i = 1; i <= SC_DRONES; i++) {
		enum sc_kind k = sc_kind_of(i);
		const char *st, *kind;
		bool right;

		snprintf(name, sizeof(name), "d-%04d", i);
		st = dxh_status(r, name);
		kind = dxh_kind(r, name);
		if (k == SC_GOOD && strcmp(st, "ok") == 0 && kind == NULL)
			good_ok++;
		if (k == SC_HANG && sc_is(kind, "call_timeout", NULL))
			hang_cut++;
		if (k == SC_HANG && fu_maybe_running(r, name))
			unconfirmed++;
		if (k == SC_GOOD)
			right = strcmp(st, "ok") == 0 && kind == NULL;
		else
			right = strcmp(st, "failed") == 0 && sc_is(kind, sc_want_kind[k], NULL);
		if (right && k != SC_GOOD)
			own_kind[k]++;
		/*
		 * An overloaded server may make good and hanging drones miss
		 * their connect budget, and the deadline may cut or skip any
		 * drone that started late; nothing else is allowed.
		 */
		if (!right && !strict && (k == SC_GOOD || k == SC_HANG))
			right = strcmp(st, "failed") == 0 &&
			    sc_is(kind, "connect_timeout", "handshake");
		if (!right && !strict)
			right = (strcmp(st, "failed") == 0 || strcmp(st, "skipped") == 0) &&
			    sc_is(kind, "deadline", NULL);
		if (!right) {
			wrong++;
			cr_expect_fail("%s: %s (%s)", name, st, kind != NULL ? kind : "no error");
		}
		/* Let a broken build fail in a few lines, not a thousand. */
		if (wrong > 20)
			cr_assert_fail("more than 20 drones have the wrong result");
	}
	cr_log_info("good drones ok: %d of 900; hanging drones cut by -t: %d of 25",
	    good_ok, hang_cut);
	fprintf(stderr, "test_scale: good drones ok: %d of 900; hanging drones cut by "
	    "-t: %d of 25\n", good_ok, hang_cut);
	/* Whatever the load, each kind of fault is told apart from the others. */
	for (i = SC_REFUSED; i <= SC_HANG; i++)
		cr_expect_gt(own_kind[i], 0, "no drone showed kind %s", sc_want_kind[i]);
	if (strict) {
		cr_expect_eq(dxh_summary(r, "ok"), 900);
		cr_expect_eq(dxh_summary(r, "failed"), 100);
		cr_expect_eq(dxh_summary(r, "skipped"), 0);
		cr_expect_eq(dxh_count_lines(r->err, "dronex: drone "), 100);
	}
	/*
	 * A served run ends every hung command.  An overloaded one may not
	 * get the kill through before the deadline's slack runs out; then
	 * dronex must say so: each command left running is one the JSON
	 * says "may still be running".
	 */
	usleep(1000 * 1000);
	left = fu_describe("sleep 60.5");
	left_n = dxh_count_procs("sleep 60.5");
	fprintf(stderr, "test_scale: hung commands left: %d; reported as maybe "
	    "running: %d\n", left_n, unconfirmed);
	if (strict)
		cr_expect_eq(left_n, 0,
		    "hung commands still run on the drone 1 s after the run:\n%.2000s", left);
	else
		cr_expect_leq(left_n, unconfirmed, "%d hung commands still run on the "
		    "drone 1 s after the run, but only %d drones say so:\n%.2000s",
		    left_n, unconfirmed, left);
	free(left);
	fu_kill_exact("sleep 60.5");
}

static void
sc_run(const char *const *av, double deadline, bool strict)
{
	struct sc_fleet f;
	struct dxh_run r;
	const char *args[32];
	long rss = 0;
	size_t n = 0;

	sc_fleet_make(&f);
	args[n++] = "exec";
	args[n++] = "-i";
	args[n++] = f.path;
	while (*av != NULL && n < 31)
		args[n++] = *av++;
	args[n] = NULL;
	dxh_run_argv(&r, args, &(struct dxh_opts){ .timed = true,
	    .timeout = deadline + 10 });
	rss = r.maxrss_kb;
	cr_log_info("1000 drones: exit %d in %.2f s, peak RSS %ld KiB", r.status, r.wall, rss);
	fprintf(stderr, "test_scale: 1000 drones (%s): exit %d in %.2f s wall, dronex "
	    "peak RSS %ld KiB\n", strict ? "served" : "overloaded", r.status, r.wall, rss);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %.2000s", r.status, r.err);
	/*
	 * The contract is deadline + 1 s, and the plain build is held to it.
	 * Under AddressSanitizer, tearing down 256 drone threads on a
	 * saturated machine takes longer (the overloaded run ended 0.4-3.1 s
	 * after its deadline in CI runs here); that build is here for memory
	 * errors, so it gets 6 s.
	 */
	cr_expect_leq(r.wall, deadline + (sc_sanitized() ? 6 : 1),
	    "took %.2f s with --deadline %.0f", r.wall, deadline);
	sc_check(&r, strict);
	dxh_run_free(&r);
	sc_fleet_free(&f);
}

Test(scale, a_thousand_drones_with_four_kinds_of_fault_each_get_the_right_result,
    .timeout = 120)
{
	const char *av[] = { "-f", "64", "--connect-timeout", "15", "-t", "10",
	    "--deadline", "110", NULL };

	sc_run(av, 110, true);
}

Test(scale, an_overloaded_server_still_gets_every_drone_reported_on_time, .timeout = 60)
{
	const char *av[] = { "-f", "256", "--connect-timeout", "5", "-t", "10",
	    "--deadline", "30", NULL };

	sc_run(av, 30, false);
}
