/*
 * test_exec.c - dronex exec runs calls on real drones and reports each
 * call's output, exit status and signal (SPEC sections 1, 4, 6).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "harness.h"

Test(exec, fifty_drones_at_fanout_8_all_ok, .timeout = 60)
{
	struct dxh_run r;
	json_t *inv, *doc;
	char *path, name[32];
	int i;

	inv = dxh_inv_new(50);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "-f", "8", "--", "echo", "hello", NULL);
	doc = dxh_doc(&r);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %.2000s", r.status, r.err);
	cr_expect_eq(r.errlen, 0, "stderr not empty: %.2000s", r.err);
	cr_expect_eq(json_integer_value(json_object_get(doc, "dronex")), 1);
	cr_expect(json_is_string(json_object_get(doc, "started")));
	cr_expect(json_is_integer(json_object_get(doc, "elapsed_ms")));
	cr_expect_str_eq(json_string_value(json_object_get(doc, "host_key_check")), "strict");
	cr_expect(json_is_null(json_object_get(doc, "error")),
	    "top-level error is not null: %.500s", r.out);
	cr_expect_eq(dxh_summary(&r, "drones"), 50);
	cr_expect_eq(dxh_summary(&r, "ok"), 50);
	cr_expect_eq(dxh_summary(&r, "failed"), 0);
	cr_expect_eq(dxh_summary(&r, "skipped"), 0);
	cr_expect_eq(json_object_size(json_object_get(doc, "drones")), 50);
	for (i = 1; i <= 50; i++) {
		json_t *d, *c;

		dxh_name(name, sizeof(name), i);
		d = dxh_drone(&r, name);
		cr_expect_str_eq(dxh_status(&r, name), "ok", "drone %s", name);
		cr_expect_null(dxh_kind(&r, name), "drone %s", name);
		cr_expect_str_eq(json_string_value(json_object_get(d, "host")), "127.0.0.1");
		cr_expect_eq(json_integer_value(json_object_get(d, "port")),
		    atoi(dxh_env("DX_TEST_PORT")));
		cr_expect_eq(json_integer_value(json_object_get(d, "attempts")), 1);
		cr_expect_str_eq(json_string_value(json_object_get(d, "hostkey_type")),
		    "ssh-ed25519", "drone %s", name);
		cr_expect(json_string_length(json_object_get(d, "kex")) > 0,
		    "drone %s has no kex", name);
		cr_assert_eq(dxh_ncalls(&r, name), 1, "drone %s", name);
		c = dxh_call(&r, name, 0);
		cr_expect_str_eq(dxh_call_str(&r, name, 0, "command"), "echo hello");
		cr_expect_str_eq(dxh_call_str(&r, name, 0, "stdout"), "hello\n", "drone %s", name);
		cr_expect_str_eq(dxh_call_str(&r, name, 0, "stderr"), "");
		cr_expect_eq(json_integer_value(json_object_get(c, "exit_status")), 0);
		cr_expect(json_is_integer(json_object_get(c, "exit_status")));
		cr_expect(json_is_null(json_object_get(c, "signal")));
		cr_expect(json_is_false(json_object_get(c, "truncated")));
		cr_expect(json_is_integer(json_object_get(c, "elapsed_ms")));
	}
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(exec, inventory_calls_run_before_the_cli_command_in_order, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path;

	inv = dxh_inv_new(2);
	dxh_inv_calls(inv, "d-001", "echo one", "echo two", NULL);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "--", "echo", "three", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %.2000s", r.status, r.err);
	cr_assert_eq(dxh_ncalls(&r, "d-001"), 3);
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "command"), "echo one");
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "one\n");
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 1, "command"), "echo two");
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 1, "stdout"), "two\n");
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 2, "command"), "echo three");
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 2, "stdout"), "three\n");
	/* The other drone has no calls of its own: only the CLI command. */
	cr_assert_eq(dxh_ncalls(&r, "d-002"), 1);
	cr_expect_str_eq(dxh_call_str(&r, "d-002", 0, "stdout"), "three\n");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(exec, calls_of_one_drone_run_in_order_in_one_session, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *dir, *path, *c1, *c2, *c3;

	/* Each call sees what the previous one left behind on the drone. */
	dir = dxh_tmpdir();
	cr_assert(asprintf(&c1, "echo 1 > %s/seq", dir) > 0);
	cr_assert(asprintf(&c2, "echo 2 >> %s/seq", dir) > 0);
	cr_assert(asprintf(&c3, "cat %s/seq", dir) > 0);
	inv = dxh_inv_new(1);
	dxh_inv_calls(inv, "d-001", c1, c2, NULL);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "--", c3, NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %.2000s", r.status, r.err);
	cr_assert_eq(dxh_ncalls(&r, "d-001"), 3);
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 2, "stdout"), "1\n2\n");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
	free(dir);
	free(c1);
	free(c2);
	free(c3);
}

Test(exec, nonzero_exit_fails_the_drone_with_its_status, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv, *c;
	char *path;

	inv = dxh_inv_new(2);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "--", "exit 3", NULL);
	cr_expect_eq(r.status, 1, "exit %d", r.status);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "nonzero_exit");
	c = dxh_call(&r, "d-001", 0);
	cr_expect(json_is_integer(json_object_get(c, "exit_status")));
	cr_expect_eq(json_integer_value(json_object_get(c, "exit_status")), 3);
	cr_expect(json_is_null(json_object_get(c, "signal")));
	cr_expect_str_eq(dxh_call_kind(&r, "d-001", 0), "nonzero_exit");
	cr_expect_eq(dxh_summary(&r, "failed"), 2);
	cr_expect_eq(dxh_count_lines(r.err, "dronex: drone d-001 failed: nonzero_exit: "), 1,
	    "stderr: %s", r.err);
	cr_expect_eq(dxh_count_lines(r.err, "dronex: drone d-002 failed: nonzero_exit: "), 1,
	    "stderr: %s", r.err);
	cr_expect_eq(dxh_count_lines(r.err, ""), 2, "stderr: %s", r.err);
	cr_expect(json_is_string(json_object_get(dxh_doc(&r), "error")));
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(exec, a_failed_call_does_not_stop_the_drone_queue_by_default, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path;

	inv = dxh_inv_new(1);
	dxh_inv_calls(inv, "d-001", "exit 4", NULL);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "--", "echo", "still", NULL);
	cr_expect_eq(r.status, 1);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "nonzero_exit");
	cr_assert_eq(dxh_ncalls(&r, "d-001"), 2, "%s", r.out);
	cr_expect_eq(json_integer_value(json_object_get(dxh_call(&r, "d-001", 0),
	    "exit_status")), 4);
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 1, "stdout"), "still\n");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(exec, fail_fast_stops_the_drone_queue_at_its_first_failed_call, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *dir, *path, *marker, *touch;

	dir = dxh_tmpdir();
	cr_assert(asprintf(&marker, "%s/marker", dir) > 0);
	cr_assert(asprintf(&touch, "touch %s", marker) > 0);
	inv = dxh_inv_new(1);
	dxh_inv_calls(inv, "d-001", "exit 4", NULL);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "--fail-fast", "--", touch, NULL);
	cr_expect_eq(r.status, 1);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "nonzero_exit");
	cr_expect_not(dxh_exists(marker), "the call after the failed one ran");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
	free(dir);
	free(marker);
	free(touch);
}

Test(exec, stderr_is_kept_apart_from_stdout, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path;

	inv = dxh_inv_new(1);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "--", "echo out; echo err >&2; echo out2", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %.2000s", r.status, r.err);
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "out\nout2\n");
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stderr"), "err\n");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(exec, one_quoted_word_runs_as_two_commands_on_the_drone, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path;

	inv = dxh_inv_new(1);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "--", "echo a; echo b", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %.2000s", r.status, r.err);
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "command"), "echo a; echo b");
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "a\nb\n");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(exec, words_are_joined_with_single_spaces_without_quoting, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path;

	/*
	 * As with ssh(1): "x  y" is not quoted, so the drone's shell splits
	 * it, and "$((1+1))" is expanded there.
	 */
	inv = dxh_inv_new(1);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "--", "echo", "x  y", "$((1+1))", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %.2000s", r.status, r.err);
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "command"), "echo x  y $((1+1))");
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "x y 2\n");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(exec, options_stop_at_the_first_command_word, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path;

	/* pdsh style: "-n" after "echo" belongs to the command, not to dronex. */
	inv = dxh_inv_new(1);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "echo", "-n", "hi", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %.2000s", r.status, r.err);
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "command"), "echo -n hi");
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "hi");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(exec, a_command_killed_by_a_signal_is_reported_with_its_name, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv, *c;
	char *path;

	inv = dxh_inv_new(1);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "--", "kill -TERM $$", NULL);
	cr_expect_eq(r.status, 1, "exit %d", r.status);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "signal");
	c = dxh_call(&r, "d-001", 0);
	cr_expect_str_eq(json_string_value(json_object_get(c, "signal")), "TERM",
	    "%s", r.out);
	cr_expect(json_is_null(json_object_get(c, "exit_status")),
	    "exit_status should be null for a signalled command: %s", r.out);
	cr_expect_str_eq(dxh_call_kind(&r, "d-001", 0), "signal");
	cr_expect_eq(dxh_count_lines(r.err, "dronex: drone d-001 failed: signal: "), 1,
	    "stderr: %s", r.err);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

/*
 * "ok" means reached: a drone with nothing to run (no command, no calls of
 * its own, while another drone has some) is still connected to and
 * authenticated.  One on a closed port fails; a reachable one is ok with
 * one attempt and no calls.
 */
Test(exec, a_drone_with_no_calls_is_reached_and_fails_when_it_cannot_be, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path;

	inv = dxh_inv_new(3);
	dxh_inv_set(inv, "d-001", "port", json_integer(dxh_closed_port()));
	dxh_inv_calls(inv, "d-002", "echo mine", NULL);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, NULL);
	cr_expect_eq(r.status, 1, "exit %d, stderr: %.2000s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed", "%s", r.out);
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "connect_refused", "%s", r.out);
	cr_expect_eq(dxh_ncalls(&r, "d-001"), 0);
	cr_expect_str_eq(dxh_status(&r, "d-002"), "ok");
	cr_assert_eq(dxh_ncalls(&r, "d-002"), 1);
	cr_expect_str_eq(dxh_call_str(&r, "d-002", 0, "stdout"), "mine\n");
	/* d-003 has no calls either, but is reachable. */
	cr_expect_str_eq(dxh_status(&r, "d-003"), "ok", "%s", r.out);
	cr_expect_null(dxh_kind(&r, "d-003"));
	cr_expect_eq(json_integer_value(json_object_get(dxh_drone(&r, "d-003"),
	    "attempts")), 1, "%s", r.out);
	cr_expect_eq(dxh_ncalls(&r, "d-003"), 0);
	cr_expect_str_eq(json_string_value(json_object_get(dxh_drone(&r, "d-003"),
	    "hostkey_type")), "ssh-ed25519", "%s", r.out);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(exec, higher_priority_starts_first_when_drones_wait_for_a_slot, .timeout = 30)
{
	static const char *names[] = { "d-001", "d-002", "d-003", "d-004" };
	struct dxh_run r;
	json_t *inv;
	char *dir, *path, *cmd, *order, *got;
	size_t i;

	/*
	 * At -f 1 the drones run one after another; each appends its own
	 * name to a file (the drones all share this machine).
	 */
	dir = dxh_tmpdir();
	cr_assert(asprintf(&order, "%s/order", dir) > 0);
	inv = dxh_inv_new(4);
	dxh_inv_set(inv, "d-003", "priority", json_integer(10));
	dxh_inv_set(inv, "d-004", "priority", json_integer(5));
	for (i = 0; i < 4; i++) {
		cr_assert(asprintf(&cmd, "echo %s >> %s", names[i], order) > 0);
		dxh_inv_calls(inv, names[i], cmd, NULL);
		free(cmd);
	}
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "-f", "1", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %.2000s", r.status, r.err);
	got = dxh_read_file(order);
	cr_assert_not_null(got, "no drone ran its call");
	cr_expect_str_eq(got, "d-003\nd-004\nd-001\nd-002\n");
	free(got);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
	free(order);
	free(dir);
}

/*
 * A call's label quotes its command cut at 60 bytes; the cut falls on a
 * character boundary, so the message carries no half character (which
 * the message scrubber would turn into '?').
 */
Test(exec, a_long_command_is_cut_on_a_character_boundary_in_messages, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char cmd[200], want[100];
	const char *msg;
	char *path;

	/* "echo " (5 bytes) then two-byte characters: byte 60 splits one. */
	strcpy(cmd, "echo ");
	for (int i = 0; i < 30; i++)
		strcat(cmd, "\xc3\xa9");
	strcat(cmd, " >/dev/null; exit 3");
	/* 5 + 27 * 2 = 59 bytes is the longest whole prefix within 60. */
	snprintf(want, sizeof(want), "'%.59s...'", cmd);
	inv = dxh_inv_new(1);
	dxh_inv_calls(inv, "d-001", cmd, NULL);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, NULL);
	cr_expect_eq(r.status, 1);
	cr_expect_str_eq(dxh_call_kind(&r, "d-001", 0), "nonzero_exit", "%s", r.out);
	msg = json_string_value(json_object_get(json_object_get(dxh_call(&r, "d-001", 0),
	    "error"), "message"));
	cr_assert_not_null(msg, "%s", r.out);
	cr_expect(strstr(msg, want) != NULL, "message '%s' does not quote %s", msg, want);
	cr_expect(strchr(msg, '?') == NULL, "message '%s' has a scrubbed byte", msg);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}
