/*
 * test_document.c - the results document is never lost (SPEC sections 4
 * and 5): bytes that are not UTF-8 in a command or a message cannot make
 * it fail, jsonl lines say what they are, every drone records where it
 * connected, a consolidated error stays one short line on a fleet, and a
 * document that cannot be written (a full disk, a reader that went away)
 * is exit status 3 with the system's reason on stderr.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

/* Runs dronex exec -i INV [opt] -- command on n drones of the test sshd. */
static void
doc_run(struct dxh_run *r, int n, const char *opt1, const char *opt2,
    const char *command)
{
	json_t *inv = dxh_inv_new(n);
	char *path = dxh_inv_write(inv);
	const char *argv[10];
	size_t k = 0;
	struct dxh_opts o = { .timeout = 40 };

	argv[k++] = "exec";
	argv[k++] = "-i";
	argv[k++] = path;
	if (opt1 != NULL)
		argv[k++] = opt1;
	if (opt2 != NULL)
		argv[k++] = opt2;
	argv[k++] = "--";
	argv[k++] = command;
	argv[k] = NULL;
	dxh_run_argv(r, argv, &o);
	json_decref(inv);
	free(path);
}

Test(document, a_command_that_is_not_utf8_goes_as_command_base64, .timeout = 40)
{
	/* printf 'caf\351' -- the byte \351 itself in argv, as a shell passes it. */
	static const char cmd[] = "printf 'caf\xe9'";
	struct dxh_run r;
	json_t *c;
	unsigned char *got;
	size_t len;

	doc_run(&r, 3, NULL, NULL, cmd);
	cr_assert_not_null(r.json, "stdout is not JSON (%s): exit %d, stderr %s",
	    r.json_error, r.status, r.err);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	for (int i = 1; i <= 3; i++) {
		char name[16];

		dxh_name(name, sizeof(name), i);
		cr_expect_str_eq(dxh_status(&r, name), "ok");
		c = dxh_call(&r, name, 0);
		cr_expect_null(json_object_get(c, "command"));
		got = dxh_base64_decode(json_string_value(json_object_get(c,
		    "command_base64")), &len);
		cr_assert_not_null(got, "no command_base64: %s", r.out);
		cr_expect(len == strlen(cmd) && memcmp(got, cmd, len) == 0);
		free(got);
		/* What it printed is not UTF-8 either: base64 too. */
		got = dxh_base64_decode(json_string_value(json_object_get(c,
		    "stdout_base64")), &len);
		cr_assert_not_null(got, "no stdout_base64: %s", r.out);
		cr_expect(len == 4 && memcmp(got, "caf\xe9", 4) == 0);
		free(got);
	}
	dxh_run_free(&r);
}

Test(document, a_failing_command_cut_inside_a_character_still_encodes, .timeout = 40)
{
	char cmd[200];
	struct dxh_run r;
	const char *msg;

	/* 59 'a', then "é" over bytes 60 and 61, then a failure. */
	memset(cmd, 'a', 59);
	strcpy(cmd + 59, "\xc3\xa9; false");
	doc_run(&r, 2, NULL, NULL, cmd);
	cr_assert_not_null(r.json, "stdout is not JSON (%s): exit %d, stderr %s",
	    r.json_error, r.status, r.err);
	cr_expect_eq(r.status, 1, "exit %d", r.status);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "nonzero_exit");
	cr_expect_str_eq(dxh_status(&r, "d-002"), "failed");
	msg = json_string_value(json_object_get(json_object_get(dxh_drone(&r, "d-001"),
	    "error"), "message"));
	cr_expect_not_null(msg);
	dxh_run_free(&r);

	/* The same with a command that is not UTF-8 at all. */
	doc_run(&r, 2, NULL, NULL, "printf 'caf\xe9'; false");
	cr_assert_not_null(r.json, "stdout is not JSON (%s): exit %d, stderr %s",
	    r.json_error, r.status, r.err);
	cr_expect_str_eq(dxh_kind(&r, "d-002"), "nonzero_exit");
	cr_expect(json_is_string(json_object_get(r.json, "error")));
	dxh_run_free(&r);
}

Test(document, every_drone_records_where_it_connected, .timeout = 40)
{
	struct dxh_run r;
	json_t *d;

	doc_run(&r, 1, NULL, NULL, "true");
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	d = dxh_drone(&r, "d-001");
	cr_expect_str_eq(json_string_value(json_object_get(d, "host")), "127.0.0.1");
	cr_expect_eq(json_integer_value(json_object_get(d, "port")),
	    atoi(dxh_env("DX_TEST_PORT")));
	cr_expect_str_eq(json_string_value(json_object_get(d, "user")),
	    dxh_env("DX_TEST_USER"), "%s", r.out);
	cr_expect_not_null(json_object_get(d, "hostkey_fingerprint"),
	    "no hostkey_fingerprint field: %s", r.out);
	cr_expect(json_is_null(json_object_get(d, "hostkey_fingerprint")) ||
	    strncmp(json_string_value(json_object_get(d, "hostkey_fingerprint")),
	    "SHA256:", 7) == 0, "%s", r.out);
	dxh_run_free(&r);
}

Test(document, jsonl_lines_say_whether_they_are_a_drone_or_the_summary, .timeout = 40)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(3), *j;
	char *path, *line, *save;
	int drones = 0, summaries = 0, n = 0;
	bool last_is_summary = false;

	dxh_inv_set(inv, "d-002", "port", json_integer(dxh_closed_port()));
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "--format", "jsonl", "--", "echo up", NULL);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	for (line = strtok_r(r.out, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save), n++) {
		const char *type;

		j = json_loads(line, 0, NULL);
		cr_assert_not_null(j, "line %d is not JSON: %s", n, line);
		type = json_string_value(json_object_get(j, "type"));
		cr_assert_not_null(type, "line %d has no type: %s", n, line);
		last_is_summary = strcmp(type, "summary") == 0;
		if (strcmp(type, "drone") == 0) {
			const char *name = json_string_value(json_object_get(j, "name"));

			drones++;
			cr_assert_not_null(name);
			if (strcmp(name, "d-002") == 0)
				cr_expect_str_eq(json_string_value(json_object_get(
				    json_object_get(j, "error"), "kind")), "connect_refused");
			else
				cr_expect(json_is_null(json_object_get(j, "error")));
		} else {
			cr_assert_str_eq(type, "summary", "line %d", n);
			summaries++;
			cr_expect_eq(json_integer_value(json_object_get(j, "dronex")), 1);
			cr_expect(json_is_string(json_object_get(j, "started")));
			cr_expect(json_is_integer(json_object_get(j, "elapsed_ms")));
			cr_expect_str_eq(json_string_value(json_object_get(j,
			    "host_key_check")), "strict");
			cr_expect_eq(json_integer_value(json_object_get(json_object_get(j,
			    "summary"), "failed")), 1);
			cr_expect(strstr(json_string_value(json_object_get(j, "error")),
			    "d-002 (connect_refused)") != NULL);
		}
		json_decref(j);
	}
	cr_expect_eq(drones, 3);
	cr_expect_eq(summaries, 1);
	cr_expect(last_is_summary, "the summary is not the last line");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(document, thirty_drones_failing_alike_fold_into_one_range, .timeout = 40)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(30);
	char *path, name[16];
	const char *error;
	int port = dxh_closed_port();

	for (int i = 1; i <= 30; i++) {
		dxh_name(name, sizeof(name), i);
		dxh_inv_set(inv, name, "port", json_integer(port));
	}
	/* One drone that works, in the middle, splits the range. */
	dxh_inv_set(inv, "d-017", "port", json_integer(atoi(dxh_env("DX_TEST_PORT"))));
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "--", "true", NULL);
	cr_expect_eq(r.status, 1, "exit %d", r.status);
	error = json_string_value(json_object_get(dxh_doc(&r), "error"));
	cr_assert_not_null(error);
	cr_expect_str_eq(error, "29 of 30 drones failed: d-[001-016,018-030] (connect_refused)");
	dxh_run_free(&r);

	dxh_run(&r, "exec", "-i", path, "--quiet", "--", "true", NULL);
	cr_expect_eq(dxh_count_lines(r.err, "dronex: 29 of 30 drones failed: "
	    "d-[001-016,018-030] (connect_refused)"), 1, "stderr: %s", r.err);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(document, the_error_counts_skipped_drones_apart, .timeout = 40)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(4);
	char *path;
	const char *error;

	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "-f", "1", "--max-failures", "1", "--", "false", NULL);
	error = json_string_value(json_object_get(dxh_doc(&r), "error"));
	cr_assert_not_null(error);
	cr_expect_eq(dxh_summary(&r, "failed"), 1);
	cr_expect_eq(dxh_summary(&r, "skipped"), 3);
	cr_expect_str_eq(error, "1 of 4 drones failed, 3 skipped: d-001 (nonzero_exit), "
	    "d-[002-004] (skipped: max_failures)");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

/*
 * Runs dronex with stdout on fd out (closed here afterwards); returns the
 * exit status (-1 for a signal) and the stderr text.
 */
static int
doc_spawn(const char *const *argv, int out, char **errtext)
{
	struct dxh_opts o = { .stdout_fd = out, .timeout = 40 };
	struct dxh_run r;
	int status;

	cr_assert(out > 0);
	dxh_run_argv(&r, argv, &o);
	close(out);
	status = r.status;
	*errtext = r.err;
	r.err = NULL;
	dxh_run_free(&r);
	return status;
}

static void
doc_expect_exit3(const char *what, const char *format, int out, const char *reason)
{
	json_t *inv = dxh_inv_new(2);
	char *path = dxh_inv_write(inv), *err = NULL;
	const char *argv[] = { "exec", "-i", path, "--format", format, "--", "echo hi", NULL };
	int rc;

	rc = doc_spawn(argv, out, &err);
	cr_expect_eq(rc, 3, "%s, %s: exit %d, stderr: %s", what, format, rc, err);
	cr_expect(strstr(err, "cannot write the results") != NULL &&
	    strstr(err, reason) != NULL, "%s, %s: stderr: %s", what, format, err);
	free(err);
	json_decref(inv);
	free(path);
}

Test(document, a_full_disk_is_exit_status_3_with_the_reason, .timeout = 60)
{
	const char *formats[] = { "json", "jsonl", "text" };

	for (size_t i = 0; i < 3; i++) {
		int fd = open("/dev/full", O_WRONLY);

		cr_assert(fd != -1, "/dev/full: %s", strerror(errno));
		doc_expect_exit3("/dev/full", formats[i], fd, strerror(ENOSPC));
	}
}

Test(document, a_reader_that_went_away_is_exit_status_3, .timeout = 60)
{
	const char *formats[] = { "json", "jsonl", "text" };

	for (size_t i = 0; i < 3; i++) {
		int p[2];

		/* The read end is closed before dronex starts: every write is EPIPE. */
		cr_assert(pipe(p) == 0);
		close(p[0]);
		doc_expect_exit3("closed pipe", formats[i], p[1], strerror(EPIPE));
	}
}
