/*
 * test_connect.c - connection failures belong to their own drone: a
 * refused port, a silent server or an unknown host fails that drone with
 * the right kind while the others in the same run succeed (SPEC 1, 4).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

Test(connect, a_refused_port_fails_only_its_drone, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path;

	inv = dxh_inv_new(3);
	dxh_inv_set(inv, "d-002", "port", json_integer(dxh_closed_port()));
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "--", "echo", "up", NULL);
	cr_expect_eq(r.status, 1, "exit %d", r.status);
	cr_expect_str_eq(dxh_status(&r, "d-002"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-002"), "connect_refused");
	cr_expect_eq(dxh_ncalls(&r, "d-002"), 0, "a refused drone ran calls: %s", r.out);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "ok");
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "up\n");
	cr_expect_str_eq(dxh_status(&r, "d-003"), "ok");
	cr_expect_str_eq(dxh_call_str(&r, "d-003", 0, "stdout"), "up\n");
	cr_expect_eq(dxh_summary(&r, "ok"), 2);
	cr_expect_eq(dxh_summary(&r, "failed"), 1);
	cr_expect_eq(dxh_count_lines(r.err, "dronex: drone d-002 failed: connect_refused: "), 1,
	    "stderr: %s", r.err);
	cr_expect_eq(dxh_count_lines(r.err, ""), 1, "stderr: %s", r.err);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(connect, retries_repeat_a_refused_connection, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path;

	inv = dxh_inv_new(2);
	dxh_inv_set(inv, "d-001", "port", json_integer(dxh_closed_port()));
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "--retries", "2", "--retry-delay", "0.2",
	    "--", "true", NULL);
	cr_expect_eq(r.status, 1, "exit %d", r.status);
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "connect_refused");
	cr_expect_eq(json_integer_value(json_object_get(dxh_drone(&r, "d-001"), "attempts")), 3,
	    "%s", r.out);
	/* A drone that connects first time needs one attempt. */
	cr_expect_eq(json_integer_value(json_object_get(dxh_drone(&r, "d-002"), "attempts")), 1);
	cr_expect_str_eq(dxh_status(&r, "d-002"), "ok");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(connect, a_server_that_never_speaks_ssh_fails_with_handshake_in_time, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path;
	int fd, port;

	fd = dxh_silent_listener(&port);
	inv = dxh_inv_new(2);
	dxh_inv_set(inv, "d-001", "port", json_integer(port));
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "--connect-timeout", "2", "--", "echo", "up", NULL);
	cr_expect_eq(r.status, 1, "exit %d", r.status);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "handshake");
	cr_expect_leq(r.wall, 3.0, "took %.2f s with --connect-timeout 2", r.wall);
	cr_expect_str_eq(dxh_status(&r, "d-002"), "ok");
	cr_expect_str_eq(dxh_call_str(&r, "d-002", 0, "stdout"), "up\n");
	close(fd);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(connect, an_unknown_host_name_fails_with_resolve, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *path;

	inv = dxh_inv_new(2);
	dxh_inv_set(inv, "d-001", "host", json_string("no-such-drone.invalid"));
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "--connect-timeout", "5", "--", "true", NULL);
	cr_expect_eq(r.status, 1, "exit %d", r.status);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "resolve");
	cr_expect_str_eq(dxh_status(&r, "d-002"), "ok");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(connect, many_refused_drones_do_not_disturb_the_good_ones, .timeout = 60)
{
	struct dxh_run r;
	json_t *inv;
	char *path, name[32];
	int i, closed;

	/* Half the fleet is down; every good drone must still be ok. */
	closed = dxh_closed_port();
	inv = dxh_inv_new(20);
	for (i = 1; i <= 20; i += 2) {
		dxh_name(name, sizeof(name), i);
		dxh_inv_set(inv, name, "port", json_integer(closed));
	}
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "-f", "6", "--", "echo", "up", NULL);
	cr_expect_eq(r.status, 1);
	for (i = 1; i <= 20; i++) {
		dxh_name(name, sizeof(name), i);
		if (i % 2 == 1) {
			cr_expect_str_eq(dxh_kind(&r, name), "connect_refused", "%s", name);
		} else {
			cr_expect_str_eq(dxh_status(&r, name), "ok", "%s", name);
			cr_expect_str_eq(dxh_call_str(&r, name, 0, "stdout"), "up\n", "%s", name);
		}
	}
	cr_expect_eq(dxh_summary(&r, "ok"), 10);
	cr_expect_eq(dxh_summary(&r, "failed"), 10);
	cr_expect_eq(dxh_count_lines(r.err, "dronex: drone "), 10, "stderr: %s", r.err);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
}

Test(connect, a_connection_lost_mid_call_fails_only_its_drone, .timeout = 30)
{
	struct dxh_run r;
	json_t *inv;
	char *dir, *path, *marker, *touch;

	/*
	 * The call kills the sshd process that serves its own connection.
	 * No retry may follow (a call was sent), so the next call never runs.
	 */
	dir = dxh_tmpdir();
	cr_assert(asprintf(&marker, "%s/marker", dir) > 0);
	cr_assert(asprintf(&touch, "touch %s", marker) > 0);
	inv = dxh_inv_new(2);
	dxh_inv_calls(inv, "d-001", "echo before; kill -KILL $PPID; sleep 1", touch, NULL);
	path = dxh_inv_write(inv);
	dxh_run(&r, "exec", "-i", path, "--retries", "2", "--", "echo", "up", NULL);
	cr_expect_eq(r.status, 1, "exit %d", r.status);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-001"), "connection_lost", "%s", r.out);
	cr_expect_eq(json_integer_value(json_object_get(dxh_drone(&r, "d-001"), "attempts")), 1,
	    "a drone was retried after its first call was sent: %s", r.out);
	cr_expect_not(dxh_exists(marker), "a call ran after the connection was lost");
	cr_expect_str_eq(dxh_status(&r, "d-002"), "ok");
	cr_expect_str_eq(dxh_call_str(&r, "d-002", 0, "stdout"), "up\n");
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
	free(dir);
	free(marker);
	free(touch);
}
