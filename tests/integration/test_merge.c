/*
 * test_merge.c - "dronex merge" (SPEC section 8): the shards of one run
 * (exec --shard K/N against the suite's sshd) joined into the document one
 * unsharded run prints, drone for drone, with its summary, its
 * consolidated error, its failure lines and its exit status; and every
 * input merge must refuse (exit 2, nothing on stdout, the files named):
 * a file that is not a result, bad JSON, overlapping shards or drones,
 * shards of different runs, a missing shard.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define MG_DRONES	8

/*
 * d-001..d-008 at the suite's sshd; d-003 runs "exit 3" first (fails with
 * nonzero_exit), d-006 points at a closed port (connect_refused).
 */
static char *
mg_inventory(void)
{
	json_t *inv = dxh_inv_new(MG_DRONES);
	char *path;

	dxh_inv_calls(inv, "d-003", "exit 3", NULL);
	dxh_inv_set(inv, "d-006", "port", json_integer(dxh_closed_port()));
	path = dxh_inv_write(inv);
	json_decref(inv);
	return path;
}

/* Runs dronex with argv and writes its stdout to dir/name; returns the path. */
static char *
mg_save(const char *dir, const char *name, const char *const *argv, int want)
{
	struct dxh_run r;
	char *path;

	dxh_run_argv(&r, argv, NULL);
	cr_assert_eq(r.status, want, "%s: exit %d, stderr: %s", name, r.status, r.err);
	path = dxh_write_file(dir, name, r.out);
	dxh_run_free(&r);
	return path;
}

/* exec --shard k/n of inv with the command, into dir/shard-K.json. */
static char *
mg_shard(const char *dir, const char *inv, unsigned k, unsigned n,
    const char *format, const char *cmd)
{
	char shard[32], name[64];
	const char *argv[] = { "exec", "-i", inv, "--shard", shard, "--format",
	    format, "--", cmd, NULL };

	snprintf(shard, sizeof(shard), "%u/%u", k, n);
	snprintf(name, sizeof(name), "shard-%u.%s", k, format);
	/* The shards split the failures; exit 0 or 1 is a finished run. */
	{
		struct dxh_run r;

		dxh_run_argv(&r, argv, NULL);
		cr_assert(r.status == 0 || r.status == 1, "%s: exit %d, stderr: %s",
		    shard, r.status, r.err);
		cr_assert(r.outlen > 0, "%s printed nothing", shard);
		if (strcmp(format, "json") == 0) {
			json_t *s = json_object_get(dxh_doc(&r), "shard");

			cr_expect_str_eq(json_string_value(s), shard);
			cr_expect(json_is_string(json_object_get(dxh_doc(&r), "run")),
			    "no run digest: %s", r.out);
		}
		{
			char *p = dxh_write_file(dir, name, r.out);

			dxh_run_free(&r);
			return p;
		}
	}
}

/* Equal values, or both absent. */
static bool
mg_same(json_t *a, json_t *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && json_equal(a, b));
}

/* The drones of two documents are the same: names, status, kind, stdout. */
static void
mg_same_drones(json_t *a, json_t *b)
{
	json_t *da = json_object_get(a, "drones"), *db = json_object_get(b, "drones");
	json_t *x, *y;
	const char *name;

	cr_assert_eq(json_object_size(da), json_object_size(db));
	json_object_foreach(da, name, x) {
		y = json_object_get(db, name);
		cr_assert_not_null(y, "drone %s missing from the merge", name);
		cr_expect_str_eq(json_string_value(json_object_get(x, "status")),
		    json_string_value(json_object_get(y, "status")), "drone %s", name);
		cr_expect(mg_same(json_object_get(json_object_get(x, "error"), "kind"),
		    json_object_get(json_object_get(y, "error"), "kind")), "drone %s", name);
		cr_expect_eq(json_array_size(json_object_get(x, "calls")),
		    json_array_size(json_object_get(y, "calls")), "drone %s", name);
		for (size_t i = 0; i < json_array_size(json_object_get(x, "calls")); i++) {
			json_t *cx = json_array_get(json_object_get(x, "calls"), i);
			json_t *cy = json_array_get(json_object_get(y, "calls"), i);

			cr_expect(mg_same(json_object_get(cx, "stdout"),
			    json_object_get(cy, "stdout")), "drone %s call %zu", name, i);
			cr_expect(mg_same(json_object_get(cx, "exit_status"),
			    json_object_get(cy, "exit_status")), "drone %s call %zu", name, i);
		}
	}
}

/* A merge that must be refused: exit 2, nothing on stdout, needles on stderr. */
static void
mg_refused(const char *const *argv, const char *n1, const char *n2)
{
	struct dxh_run r;

	dxh_run_argv(&r, argv, NULL);
	cr_expect_eq(r.status, 2, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_eq(r.outlen, 0, "stdout: %s", r.out);
	cr_expect(strstr(r.err, n1) != NULL, "'%s' not in: %s", n1, r.err);
	if (n2 != NULL)
		cr_expect(strstr(r.err, n2) != NULL, "'%s' not in: %s", n2, r.err);
	dxh_run_free(&r);
}

Test(merge, three_shards_make_the_document_of_one_run, .timeout = 90)
{
	char *dir = dxh_tmpdir(), *inv = mg_inventory(), *s[3];
	struct dxh_run one, m, rev;
	const char *cmd = "echo hello from $((6 * 7))";

	dxh_run(&one, "exec", "-i", inv, "--", cmd, NULL);
	cr_assert_eq(one.status, 1, "exit %d, stderr: %s", one.status, one.err);
	for (unsigned k = 1; k <= 3; k++)
		s[k - 1] = mg_shard(dir, inv, k, 3, "json", cmd);
	dxh_run(&m, "merge", s[0], s[1], s[2], NULL);
	cr_assert_eq(m.status, 1, "exit %d, stderr: %s", m.status, m.err);
	mg_same_drones(dxh_doc(&one), dxh_doc(&m));
	cr_expect(json_equal(json_object_get(dxh_doc(&one), "summary"),
	    json_object_get(dxh_doc(&m), "summary")), "%s", m.out);
	cr_expect_eq(dxh_summary(&m, "drones"), MG_DRONES);
	cr_expect_eq(dxh_summary(&m, "ok"), MG_DRONES - 2);
	cr_expect_eq(dxh_summary(&m, "failed"), 2);
	cr_expect_str_eq(json_string_value(json_object_get(dxh_doc(&m), "error")),
	    json_string_value(json_object_get(dxh_doc(&one), "error")));
	cr_expect_str_eq(json_string_value(json_object_get(dxh_doc(&m), "error")),
	    "2 of 8 drones failed: d-003 (nonzero_exit), d-006 (connect_refused)");
	cr_expect_str_eq(dxh_call_str(&m, "d-001", 0, "stdout"), "hello from 42\n");
	/* A merged run is not a shard, but it says which run it was. */
	cr_expect_null(json_object_get(dxh_doc(&m), "shard"), "%s", m.out);
	cr_expect(json_is_string(json_object_get(dxh_doc(&m), "run")), "%s", m.out);
	cr_expect_str_eq(json_string_value(json_object_get(dxh_doc(&m), "host_key_check")),
	    "strict");
	cr_expect(json_is_string(json_object_get(dxh_doc(&m), "started")), "%s", m.out);
	cr_expect(json_integer_value(json_object_get(dxh_doc(&m), "elapsed_ms")) >= 0);
	/* The failure lines as exec prints them, one per drone. */
	cr_expect_eq(dxh_count_lines(m.err, "dronex: drone d-003 failed: nonzero_exit: "), 1,
	    "%s", m.err);
	cr_expect_eq(dxh_count_lines(m.err, "dronex: drone d-006 failed: connect_refused: "), 1,
	    "%s", m.err);
	cr_expect_eq(dxh_count_lines(m.err, "dronex: "), 2, "%s", m.err);
	/* The order of the files does not change a byte. */
	dxh_run(&rev, "merge", s[2], s[0], s[1], NULL);
	cr_expect_eq(rev.status, 1);
	cr_expect_str_eq(rev.out, m.out);
	dxh_run_free(&rev);
	/* -q: only the one-line error. */
	dxh_run(&rev, "merge", "-q", s[2], s[0], s[1], NULL);
	cr_expect_eq(rev.status, 1);
	cr_expect_eq(dxh_count_lines(rev.err, "dronex: "), 1, "%s", rev.err);
	cr_expect(strstr(rev.err, "2 of 8 drones failed") != NULL, "%s", rev.err);
	dxh_run_free(&rev);
	dxh_run_free(&m);
	dxh_run_free(&one);
	for (int i = 0; i < 3; i++)
		free(s[i]);
	free(inv);
	free(dir);
}

Test(merge, all_ok_shards_exit_0_with_no_error, .timeout = 60)
{
	json_t *j = dxh_inv_new(5);
	char *dir = dxh_tmpdir(), *inv = dxh_inv_write(j), *s1, *s2;
	struct dxh_run m;

	json_decref(j);
	s1 = mg_shard(dir, inv, 1, 2, "json", "true");
	s2 = mg_shard(dir, inv, 2, 2, "json", "true");
	dxh_run(&m, "merge", "--pretty", s1, s2, NULL);
	cr_assert_eq(m.status, 0, "exit %d, stderr: %s", m.status, m.err);
	cr_expect_eq(dxh_summary(&m, "ok"), 5);
	cr_expect(json_is_null(json_object_get(dxh_doc(&m), "error")), "%s", m.out);
	cr_expect_eq(m.errlen, 0, "%s", m.err);
	cr_expect(strchr(m.out, '\n') < m.out + m.outlen - 1, "not pretty: %s", m.out);
	dxh_run_free(&m);
	free(s1);
	free(s2);
	free(inv);
	free(dir);
}

Test(merge, jsonl_shards_merge_like_documents, .timeout = 60)
{
	char *dir = dxh_tmpdir(), *inv = mg_inventory(), *s1, *s2, *j1, *j2;
	struct dxh_run a, b;

	s1 = mg_shard(dir, inv, 1, 2, "json", "echo same");
	s2 = mg_shard(dir, inv, 2, 2, "json", "echo same");
	j1 = mg_shard(dir, inv, 1, 2, "jsonl", "echo same");
	j2 = mg_shard(dir, inv, 2, 2, "jsonl", "echo same");
	dxh_run(&a, "merge", s1, s2, NULL);
	dxh_run(&b, "merge", j1, s2, NULL);
	cr_assert_eq(a.status, 1, "exit %d, stderr: %s", a.status, a.err);
	cr_assert_eq(b.status, 1, "exit %d, stderr: %s", b.status, b.err);
	mg_same_drones(dxh_doc(&a), dxh_doc(&b));
	cr_expect(json_equal(json_object_get(dxh_doc(&a), "error"),
	    json_object_get(dxh_doc(&b), "error")));
	cr_expect(json_equal(json_object_get(dxh_doc(&a), "run"),
	    json_object_get(dxh_doc(&b), "run")));
	dxh_run_free(&b);
	dxh_run(&b, "merge", j1, j2, NULL);
	cr_assert_eq(b.status, 1, "exit %d, stderr: %s", b.status, b.err);
	mg_same_drones(dxh_doc(&a), dxh_doc(&b));
	dxh_run_free(&a);
	dxh_run_free(&b);
	free(s1);
	free(s2);
	free(j1);
	free(j2);
	free(inv);
	free(dir);
}

Test(merge, the_run_digest_ignores_machine_and_order_but_not_calls, .timeout = 60)
{
	json_t *j = dxh_inv_new(4), *rev = json_object(), *arr = json_array();
	char *dir = dxh_tmpdir(), *inv, *inv2, *a, *b, *c;
	struct dxh_run ra, rb, rc;

	/* The same drones in the other order, in another file. */
	for (int i = 3; i >= 0; i--)
		json_array_append(arr, json_array_get(json_object_get(j, "drones"), (size_t)i));
	json_object_set_new(rev, "drones", arr);
	inv = dxh_inv_write(j);
	inv2 = dxh_inv_write(rev);
	a = mg_save(dir, "a.json", (const char *[]){ "exec", "-i", inv, "--shard",
	    "1/2", "--", "true", NULL }, 0);
	b = mg_save(dir, "b.json", (const char *[]){ "exec", "-i", inv2, "--shard",
	    "1/2", "--", "true", NULL }, 0);
	c = mg_save(dir, "c.json", (const char *[]){ "exec", "-i", inv, "--shard",
	    "1/2", "--", "false", NULL }, 1);
	dxh_run(&ra, "merge", a, NULL);
	dxh_run(&rb, "merge", b, NULL);
	dxh_run(&rc, "merge", c, NULL);
	/* One shard of two is not a run: each merge is refused ... */
	cr_expect_eq(ra.status, 2);
	dxh_run_free(&ra);
	dxh_run_free(&rb);
	dxh_run_free(&rc);
	/* ... but the documents say which run they belong to. */
	{
		json_t *da = json_load_file(a, 0, NULL), *db = json_load_file(b, 0, NULL);
		json_t *dc = json_load_file(c, 0, NULL);

		cr_assert(da && db && dc);
		cr_expect_str_eq(json_string_value(json_object_get(da, "run")),
		    json_string_value(json_object_get(db, "run")));
		cr_expect_str_neq(json_string_value(json_object_get(da, "run")),
		    json_string_value(json_object_get(dc, "run")));
		cr_expect_eq(strlen(json_string_value(json_object_get(da, "run"))), 16);
		json_decref(da);
		json_decref(db);
		json_decref(dc);
	}
	json_decref(j);
	json_decref(rev);
	free(a);
	free(b);
	free(c);
	free(inv);
	free(inv2);
	free(dir);
}

Test(merge, refuses_shards_of_different_runs, .timeout = 60)
{
	char *dir = dxh_tmpdir(), *inv = mg_inventory(), *s1, *s2, *o2, *d3;
	char *dir2 = dxh_tmpdir();

	s1 = mg_shard(dir, inv, 1, 2, "json", "echo one");
	s2 = mg_shard(dir, inv, 2, 2, "json", "echo one");
	o2 = mg_shard(dir2, inv, 2, 2, "json", "echo other");
	mg_refused((const char *[]){ "merge", s1, o2, NULL }, s1, o2);
	mg_refused((const char *[]){ "merge", s1, o2, NULL }, "different runs", NULL);
	/* Another N is another run. */
	d3 = mg_shard(dir2, inv, 3, 3, "json", "echo one");
	mg_refused((const char *[]){ "merge", s1, s2, d3, NULL }, d3, "different runs");
	free(d3);
	/* A shard and an unsharded document. */
	d3 = mg_save(dir2, "all.json", (const char *[]){ "exec", "-i", inv, "--",
	    "echo one", NULL }, 1);
	mg_refused((const char *[]){ "merge", s1, d3, NULL }, d3, s1);
	free(d3);
	free(s1);
	free(s2);
	free(o2);
	free(inv);
	free(dir);
	free(dir2);
}

Test(merge, refuses_overlapping_and_missing_shards, .timeout = 60)
{
	char *dir = dxh_tmpdir(), *dir2 = dxh_tmpdir(), *inv = mg_inventory();
	char *s[3], *again;

	for (unsigned k = 1; k <= 3; k++)
		s[k - 1] = mg_shard(dir, inv, k, 3, "json", "true");
	again = mg_shard(dir2, inv, 2, 3, "json", "true");
	mg_refused((const char *[]){ "merge", s[0], s[1], again, s[2], NULL },
	    s[1], again);
	mg_refused((const char *[]){ "merge", s[0], s[1], again, s[2], NULL },
	    "overlapping", NULL);
	/* 2/3 missing: the message names it and the files given. */
	mg_refused((const char *[]){ "merge", s[0], s[2], NULL }, "2/3", s[0]);
	mg_refused((const char *[]){ "merge", s[0], s[2], NULL }, "missing", s[2]);
	for (int i = 0; i < 3; i++)
		free(s[i]);
	free(again);
	free(inv);
	free(dir);
	free(dir2);
}

Test(merge, refuses_what_is_not_a_result, .timeout = 60)
{
	char *dir = dxh_tmpdir(), *inv = mg_inventory(), *s1, *s2, *bad, *cut;
	char *text;

	s1 = mg_shard(dir, inv, 1, 2, "json", "true");
	s2 = mg_shard(dir, inv, 2, 2, "json", "true");
	/* An inventory is JSON, but not a result. */
	mg_refused((const char *[]){ "merge", s1, inv, s2, NULL }, inv,
	    "not a dronex result");
	/* Bad JSON: the file and the line. */
	bad = dxh_write_file(dir, "bad.json", "{\"dronex\": 1,\n \"drones\": {\n");
	mg_refused((const char *[]){ "merge", s1, bad, NULL }, bad, "not JSON: line");
	free(bad);
	/* A document cut short. */
	text = dxh_read_file(s2);
	text[strlen(text) / 2] = '\0';
	cut = dxh_write_file(dir, "cut.json", text);
	mg_refused((const char *[]){ "merge", s1, cut, NULL }, cut, NULL);
	free(text);
	free(cut);
	/* A drone whose status is not one dronex writes. */
	text = dxh_read_file(s2);
	{
		json_t *d = json_loads(text, 0, NULL), *v;
		const char *name;

		cr_assert_not_null(d);
		json_object_foreach(json_object_get(d, "drones"), name, v) {
			json_object_set_new(v, "status", json_string("great"));
			break;
		}
		free(text);
		text = json_dumps(d, 0);
		json_decref(d);
	}
	cut = dxh_write_file(dir, "odd.json", text);
	mg_refused((const char *[]){ "merge", s1, cut, NULL }, cut, "status");
	free(text);
	free(cut);
	/* Files that cannot be read, and no files at all. */
	mg_refused((const char *[]){ "merge", s1, "/nonexistent/shard.json", NULL },
	    "/nonexistent/shard.json", NULL);
	mg_refused((const char *[]){ "merge", NULL }, "merge", NULL);
	mg_refused((const char *[]){ "merge", "--fanout", "2", s1, NULL }, "--fanout", NULL);
	free(s1);
	free(s2);
	free(inv);
	free(dir);
}

Test(merge, joins_disjoint_unsharded_runs_but_not_the_same_drone_twice, .timeout = 60)
{
	char *dir = dxh_tmpdir(), *inv = mg_inventory(), *a, *b, *c;
	struct dxh_run m;

	a = mg_save(dir, "a.json", (const char *[]){ "exec", "-i", inv, "-w",
	    "d-00[1-4]", "--", "true", NULL }, 1);
	b = mg_save(dir, "b.json", (const char *[]){ "exec", "-i", inv, "-w",
	    "d-00[5-8]", "--", "true", NULL }, 1);
	c = mg_save(dir, "c.json", (const char *[]){ "exec", "-i", inv, "-w",
	    "d-00[4-5]", "--", "true", NULL }, 0);
	dxh_run(&m, "merge", b, a, NULL);
	cr_assert_eq(m.status, 1, "exit %d, stderr: %s", m.status, m.err);
	cr_expect_eq(dxh_summary(&m, "drones"), 8);
	cr_expect_str_eq(json_string_value(json_object_get(dxh_doc(&m), "error")),
	    "2 of 8 drones failed: d-003 (nonzero_exit), d-006 (connect_refused)");
	cr_expect_null(json_object_get(dxh_doc(&m), "run"));
	dxh_run_free(&m);
	mg_refused((const char *[]){ "merge", a, c, NULL }, "d-004", c);
	free(a);
	free(b);
	free(c);
	free(inv);
	free(dir);
}

Test(merge, a_write_failure_is_exit_3, .timeout = 60)
{
	char *dir = dxh_tmpdir(), *inv = mg_inventory(), *s1, *s2;
	struct dxh_opts o = { 0 };
	struct dxh_run r;
	int fd = open("/dev/full", O_WRONLY);

	cr_assert(fd >= 0);
	s1 = mg_shard(dir, inv, 1, 2, "json", "true");
	s2 = mg_shard(dir, inv, 2, 2, "json", "true");
	o.stdout_fd = fd;
	dxh_run_argv(&r, (const char *[]){ "merge", s1, s2, NULL }, &o);
	cr_expect_eq(r.status, 3, "exit %d, stderr: %s", r.status, r.err);
	cr_expect(strstr(r.err, "cannot write") != NULL, "%s", r.err);
	dxh_run_free(&r);
	close(fd);
	free(s1);
	free(s2);
	free(inv);
	free(dir);
}

Test(merge, natural_name_order_stdin_and_the_least_strict_host_key_check, .timeout = 60)
{
	json_t *j = dxh_inv_new(1), *d, *v;
	char *dir = dxh_tmpdir(), *inv, *s1, *s2, *text;
	const char *want[] = { "d-001", "web-1", "web-9", "web-10" }, *name;
	struct dxh_opts o = { 0 };
	struct dxh_run m;
	size_t i = 0;

	dxh_inv_add(j, "web-10");
	dxh_inv_add(j, "web-9");
	dxh_inv_add(j, "web-1");
	inv = dxh_inv_write(j);
	json_decref(j);
	s1 = mg_save(dir, "s1.json", (const char *[]){ "exec", "-i", inv, "--shard",
	    "1/2", "--host-key-check", "off", "--", "true", NULL }, 0);
	s2 = mg_save(dir, "s2.json", (const char *[]){ "exec", "-i", inv, "--shard",
	    "2/2", "--", "true", NULL }, 0);
	text = dxh_read_file(s1);
	o.stdin_text = text;
	dxh_run_argv(&m, (const char *[]){ "merge", s2, "-", NULL }, &o);
	cr_assert_eq(m.status, 0, "exit %d, stderr: %s", m.status, m.err);
	d = json_object_get(dxh_doc(&m), "drones");
	json_object_foreach(d, name, v) {
		cr_assert_lt(i, 4, "%s", m.out);
		cr_expect_str_eq(name, want[i], "drone %zu: %s", i, m.out);
		i++;
	}
	cr_expect_eq(i, 4, "%s", m.out);
	/* One shard ran with "off": the merged run says so. */
	cr_expect_str_eq(json_string_value(json_object_get(dxh_doc(&m),
	    "host_key_check")), "off");
	dxh_run_free(&m);
	free(text);
	free(s1);
	free(s2);
	free(inv);
	free(dir);
}
