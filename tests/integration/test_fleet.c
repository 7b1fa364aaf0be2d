/*
 * test_fleet.c - behaviours of a whole run (SPEC 3, 4, 5): the circuit
 * breaker (--max-failures), --fail-fast, a small open-file limit, huge and
 * binary output under --max-output with bounded memory, and --format
 * jsonl streaming one line per drone as drones finish.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "faults_util.h"
#include "harness.h"

/* An inventory of n drones "<prefix>-NNN" added to inv (or a new one). */
static json_t *
fl_add(json_t *inv, const char *prefix, int n, int port, int priority, const char *call)
{
	char name[64];
	int i;

	if (inv == NULL)
		cr_assert((inv = json_pack("{s:[]}", "drones")) != NULL);
	for (i = 1; i <= n; i++) {
		fu_name(name, sizeof(name), prefix, i);
		dxh_inv_add(inv, name);
		if (port > 0)
			dxh_inv_set(inv, name, "port", json_integer(port));
		dxh_inv_set(inv, name, "priority", json_integer(priority));
		if (call != NULL)
			dxh_inv_calls(inv, name, call, NULL);
	}
	return inv;
}

/* Counts drones of the prefix with that status and kind (kind NULL: none). */
static int
fl_count(const struct dxh_run *r, const char *prefix, int n, const char *status,
    const char *kind)
{
	char name[64];
	const char *k;
	int i, c = 0;

	for (i = 1; i <= n; i++) {
		fu_name(name, sizeof(name), prefix, i);
		k = dxh_kind(r, name);
		if (strcmp(dxh_status(r, name), status) == 0 &&
		    (kind == NULL ? k == NULL : k != NULL && strcmp(k, kind) == 0))
			c++;
	}
	return c;
}

Test(fleet, max_failures_stops_starting_drones_after_n_failed, .timeout = 40)
{
	struct dxh_run r;
	json_t *inv;
	char *path;
	int closed = dxh_closed_port();

	/* The bad drones start first (higher priority), one at a time. */
	inv = fl_add(NULL, "bad", 10, closed, 10, "true");
	inv = fl_add(inv, "good", 10, 0, 0, "true");
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "-f", "1", "--max-failures", "3",
		    NULL };

		dxh_run_argv(&r, av, &(struct dxh_opts){ .timed = true, .timeout = 30 });
	}
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_eq(dxh_summary(&r, "drones"), 20);
	cr_expect_eq(dxh_summary(&r, "failed"), 3, "%s", r.out);
	cr_expect_eq(dxh_summary(&r, "skipped"), 17, "%s", r.out);
	cr_expect_eq(dxh_summary(&r, "ok"), 0);
	cr_expect_eq(fl_count(&r, "bad", 10, "failed", "connect_refused"), 3, "%s", r.out);
	cr_expect_eq(fl_count(&r, "bad", 10, "skipped", "max_failures"), 7, "%s", r.out);
	cr_expect_eq(fl_count(&r, "good", 10, "skipped", "max_failures"), 10, "%s", r.out);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(fleet, max_failures_lets_the_running_drones_finish, .timeout = 40)
{
	struct dxh_run r;
	json_t *inv;
	char *path, name[64];
	int closed = dxh_closed_port(), i;

	/*
	 * At -f 4 three slow drones take three slots first; the bad ones
	 * fail one after another in the fourth.  The breaker trips while
	 * the slow ones still run: they must finish ok.
	 */
	inv = fl_add(NULL, "slow", 3, 0, 20, "sleep 2; echo done");
	inv = fl_add(inv, "bad", 10, closed, 10, "true");
	inv = fl_add(inv, "good", 10, 0, 0, "true");
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "-f", "4", "--max-failures", "3",
		    NULL };

		dxh_run_argv(&r, av, &(struct dxh_opts){ .timed = true, .timeout = 30 });
	}
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_eq(dxh_summary(&r, "failed"), 3, "%s", r.out);
	cr_expect_eq(dxh_summary(&r, "ok"), 3, "%s", r.out);
	cr_expect_eq(dxh_summary(&r, "skipped"), 17, "%s", r.out);
	for (i = 1; i <= 3; i++) {
		fu_name(name, sizeof(name), "slow", i);
		cr_expect_str_eq(dxh_status(&r, name), "ok", "%s: %s", name, r.out);
		cr_expect_str_eq(dxh_call_str(&r, name, 0, "stdout"), "done\n", "%s", name);
	}
	cr_expect_eq(fl_count(&r, "bad", 10, "failed", "connect_refused"), 3, "%s", r.out);
	cr_expect_eq(fl_count(&r, "good", 10, "skipped", "max_failures"), 10, "%s", r.out);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

static void
fl_fail_fast(bool fail_fast)
{
	struct dxh_run r;
	json_t *inv;
	char *dir, *path, *marker, *touch;

	dir = dxh_tmpdir();
	cr_assert(asprintf(&marker, "%s/marker", dir) > 0);
	cr_assert(asprintf(&touch, "touch %s", marker) > 0);
	inv = dxh_inv_new(2);
	dxh_inv_calls(inv, "d-001", "false", touch, NULL);
	dxh_inv_calls(inv, "d-002", "echo up", NULL);
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, fail_fast ? "--fail-fast" : NULL,
		    NULL };

		dxh_run_argv(&r, av, &(struct dxh_opts){ .timed = true, .timeout = 30 });
	}
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "nonzero_exit", "%s", r.out);
	cr_expect_str_eq(dxh_call_kind(&r, "d-001", 0), "nonzero_exit");
	if (fail_fast) {
		cr_expect_not(dxh_exists(marker), "--fail-fast ran the call after a failed one");
		cr_expect_eq(dxh_ncalls(&r, "d-001"), 1, "%s", r.out);
	} else {
		cr_expect(dxh_exists(marker), "without --fail-fast the drone stopped its queue");
		cr_expect_eq(dxh_ncalls(&r, "d-001"), 2, "%s", r.out);
		cr_expect_null(dxh_call_kind(&r, "d-001", 1), "%s", r.out);
	}
	cr_expect_str_eq(dxh_status(&r, "d-002"), "ok");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
	free(dir);
	free(marker);
	free(touch);
}

Test(fleet, fail_fast_skips_the_calls_after_a_failed_one, .timeout = 30)
{
	fl_fail_fast(true);
}

Test(fleet, without_fail_fast_the_drone_goes_on_and_still_fails, .timeout = 30)
{
	fl_fail_fast(false);
}

Test(fleet, two_hundred_drones_at_fanout_16_fit_in_64_open_files, .timeout = 60)
{
	struct dxh_run r;
	json_t *inv;
	char *path;

	inv = dxh_inv_new(200);
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "-f", "16", "--", "true", NULL };

		dxh_run_argv(&r, av, &(struct dxh_opts){ .timed = true, .timeout = 50,
		    .nofile = 64 });
	}
	cr_log_info("200 drones at -f 16 under ulimit -n 64: %.2f s", r.wall);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %.2000s", r.status, r.err);
	cr_expect_eq(dxh_summary(&r, "drones"), 200);
	cr_expect_eq(dxh_summary(&r, "ok"), 200, "stderr: %.2000s", r.err);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(fleet, a_fanout_the_open_file_limit_cannot_serve_is_refused, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path;

	inv = dxh_inv_new(200);
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "-f", "200", "--", "true", NULL };

		dxh_run_argv(&r, av, &(struct dxh_opts){ .timed = true, .timeout = 20,
		    .nofile = 64 });
	}
	cr_expect_eq(r.status, 2, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_not_null(strstr(r.err, "64"), "the message does not name the limit: %s",
	    r.err);
	cr_expect_not_null(strstr(r.err, "limit"), "stderr: %s", r.err);
	cr_expect_eq(r.outlen, 0, "a refused run printed results: %.2000s", r.out);
	cr_expect_leq(r.wall, 3.0, "a refused run took %.2f s", r.wall);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

/*
 * Between "fits" and "refused": whatever fan-out dronex accepts under the
 * limit it must serve; running out of descriptors mid-run would fail
 * drones at random.
 */
Test(fleet, an_accepted_fanout_never_fails_drones_for_lack_of_descriptors, .timeout = 60)
{
	struct dxh_run r;
	json_t *inv;
	char *path;

	inv = dxh_inv_new(100);
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "-f", "48", "--", "true", NULL };

		dxh_run_argv(&r, av, &(struct dxh_opts){ .timed = true, .timeout = 50,
		    .nofile = 64 });
	}
	cr_log_info("-f 48 under ulimit -n 64: exit %d in %.2f s", r.status, r.wall);
	cr_expect(r.status == 0 || r.status == 2, "exit %d, stderr: %.2000s", r.status, r.err);
	if (r.status == 0)
		cr_expect_eq(dxh_summary(&r, "ok"), 100);
	else
		cr_expect_eq(r.outlen, 0, "a refused run printed results");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(fleet, fifty_mib_of_output_on_four_drones_is_cut_to_one_mib_in_bounded_memory,
    .timeout = 90)
{
	struct dxh_run r;
	json_t *inv, *c;
	char *path, name[32];
	unsigned char *bin;
	const char *text;
	size_t len;
	long rss = 0;
	int i;

	/* Two drones send random bytes (base64 in JSON), two send text. */
	inv = dxh_inv_new(4);
	dxh_inv_calls(inv, "d-001", "head -c 52428800 /dev/urandom", NULL);
	dxh_inv_calls(inv, "d-002", "head -c 52428800 /dev/urandom", NULL);
	dxh_inv_calls(inv, "d-003", "yes 0123456789abcdef | head -c 52428800", NULL);
	dxh_inv_calls(inv, "d-004", "yes 0123456789abcdef | head -c 52428800", NULL);
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "--max-output", "1M", NULL };

		dxh_run_argv(&r, av, &(struct dxh_opts){ .timed = true,
		    .timeout = 80 });
		rss = r.maxrss_kb;
	}
	cr_log_info("4 x 50 MiB: %.2f s, dronex peak RSS %ld KiB", r.wall, rss);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	for (i = 1; i <= 4; i++) {
		dxh_name(name, sizeof(name), i);
		cr_expect_str_eq(dxh_status(&r, name), "ok", "%s", name);
		c = dxh_call(&r, name, 0);
		cr_expect(json_is_true(json_object_get(c, "truncated")), "%s not truncated", name);
		if (i <= 2) {
			text = json_string_value(json_object_get(c, "stdout_base64"));
			cr_assert_not_null(text, "%s: random bytes are not in stdout_base64", name);
			cr_assert_not_null(bin = dxh_base64_decode(text, &len));
			cr_expect_eq(len, 1048576, "%s kept %zu bytes", name, len);
			free(bin);
		} else {
			text = json_string_value(json_object_get(c, "stdout"));
			cr_assert_not_null(text, "%s: text is not in stdout", name);
			cr_expect_eq(strlen(text), 1048576, "%s kept %zu bytes", name, strlen(text));
			cr_expect_eq(strncmp(text, "0123456789abcdef\n", 17), 0);
		}
	}
	cr_expect_gt(rss, 0);
	/* Under AddressSanitizer the shadow memory is not dronex's own. */
	if (strcmp(getenv("DRONEX_SANITIZED") ? getenv("DRONEX_SANITIZED") : "0", "1") != 0)
		cr_expect_lt(rss, 64 * 1024, "dronex peaked at %ld KiB", rss);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(fleet, jsonl_streams_one_line_per_drone_as_each_finishes, .timeout = 60)
{
	struct dxh_proc p;
	struct dxh_run r;
	json_t *inv, *j, *seen;
	char *path, *copy, *line, *save = NULL, name[32];
	double first_line, slow_line = -1, arrived[64];
	int nlines = 0, ndrones = 0, nseen = 0, i;
	bool summary_last = false;

	/* d-001 is slow; the other 49 finish seconds before it. */
	inv = dxh_inv_new(50);
	dxh_inv_calls(inv, "d-001", "sleep 4", NULL);
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "-f", "50", "--format", "jsonl",
		    "--", "true", NULL };

		dxh_start(&p, av, &(struct dxh_opts){ .timed = true, .timeout = 50 });
	}
	/* When each line arrived, in seconds from the start. */
	while (dxh_pump(&p, 20)) {
		double now = dxh_now() - p.start;
		const char *q;
		int n = 0;

		for (q = p.out; (q = strchr(q, '\n')) != NULL; q++)
			n++;
		while (nseen < n && nseen < 64)
			arrived[nseen++] = now;
		if (now > 40)
			break;
	}
	first_line = nseen > 0 ? arrived[0] : -1;
	dxh_finish(&p, &r);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_geq(first_line, 0, "no line at all");

	seen = json_object();
	copy = strdup(r.out);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		j = json_loads(line, 0, NULL);
		cr_assert(json_is_object(j), "line %d is not a JSON object: %.300s",
		    nlines + 1, line);
		nlines++;
		summary_last = json_object_get(j, "summary") != NULL;
		if (json_object_get(j, "name") != NULL) {
			const char *n = json_string_value(json_object_get(j, "name"));

			cr_assert_not_null(n, "\"name\" is not a string: %.300s", line);
			cr_expect_null(json_object_get(seen, n), "%s printed twice", n);
			json_object_set_new(seen, n, json_true());
			cr_expect_str_eq(json_string_value(json_object_get(j, "status")), "ok",
			    "%s", n);
			if (strcmp(n, "d-001") == 0 && nlines <= nseen)
				slow_line = arrived[nlines - 1];
			ndrones++;
		} else {
			cr_expect(json_object_get(j, "summary") != NULL &&
			    json_object_get(j, "error") != NULL,
			    "a line without \"name\" is not the summary: %.300s", line);
			cr_expect_eq(json_integer_value(json_object_get(
			    json_object_get(j, "summary"), "ok")), 50);
		}
		json_decref(j);
	}
	cr_expect_eq(ndrones, 50, "%d drone lines", ndrones);
	cr_expect_eq(nlines, 51, "%d lines", nlines);
	cr_expect(summary_last, "the last line has no \"summary\"");
	/* Streamed: a fast drone's line was out well before the slow one's. */
	cr_log_info("jsonl: first line at %.2f s, d-001's at %.2f s, end at %.2f s",
	    first_line, slow_line, r.wall);
	cr_expect_geq(slow_line, 0, "no line for d-001 was seen arriving");
	cr_expect_lt(first_line, slow_line - 1.5,
	    "the first line came at %.2f s, the slow drone's at %.2f s: not streamed",
	    first_line, slow_line);
	for (i = 1; i <= 50; i++) {
		dxh_name(name, sizeof(name), i);
		cr_expect_not_null(json_object_get(seen, name), "no line for %s", name);
	}
	free(copy);
	json_decref(seen);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}
