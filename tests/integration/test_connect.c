/*
 * test_connect.c - connecting (SPEC 1, 4, 6): each way a connection fails
 * before the first call fails only its own drone, with the kind the man
 * page names and on time, while the others in the same run succeed: a
 * refused port, a port whose accept queue is full (the SYN is never
 * answered), a listener that never speaks SSH, and a host name that does
 * not resolve.  (Retrying them is in test_retries.c; a connection lost
 * after it was made, in test_connection_lost.c.)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "faults_util.h"
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

/* The premise of the next test: the fault really is a silent SYN. */
Test(connect, a_full_backlog_port_leaves_a_new_connect_unanswered, .timeout = 20)
{
	struct fu_backlog b;

	fu_backlog_open(&b);
	cr_expect_not(fu_connect_completes(b.port, 1500),
	    "a connect to the full-backlog port completed (%d queued)", b.nfds);
	fu_backlog_close(&b);
}

Test(connect, a_syn_never_answered_is_connect_timeout_within_the_budget, .timeout = 30)
{
	struct fu_backlog b;
	struct dxh_run r;
	json_t *inv;
	char *path;

	fu_backlog_open(&b);
	inv = dxh_inv_new(3);
	dxh_inv_set(inv, "d-002", "port", json_integer(b.port));
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "--connect-timeout", "2",
		    "--", "echo", "up", NULL };

		dxh_run_argv(&r, av, &(struct dxh_opts){ .timed = true, .timeout = 20 });
	}
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-002"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-002"), "connect_timeout", "%s", r.out);
	cr_expect_eq(dxh_ncalls(&r, "d-002"), 0);
	cr_expect_geq(r.wall, 1.8, "gave up after %.2f s with --connect-timeout 2", r.wall);
	cr_expect_leq(r.wall, 3.0, "took %.2f s with --connect-timeout 2", r.wall);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "ok");
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "up\n");
	cr_expect_str_eq(dxh_status(&r, "d-003"), "ok");
	cr_expect_str_eq(dxh_call_str(&r, "d-003", 0, "stdout"), "up\n");
	cr_expect_eq(dxh_summary(&r, "ok"), 2);
	dxh_run_free(&r);
	fu_backlog_close(&b);
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
	cr_assert(fu_connect_completes(port, 1000), "the silent listener does not accept TCP");
	inv = dxh_inv_new(3);
	dxh_inv_set(inv, "d-003", "port", json_integer(port));
	path = dxh_inv_write(inv);
	{
		const char *av[] = { "exec", "-i", path, "--connect-timeout", "2",
		    "--", "echo", "up", NULL };

		dxh_run_argv(&r, av, &(struct dxh_opts){ .timed = true, .timeout = 20 });
	}
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_str_eq(dxh_status(&r, "d-003"), "failed");
	cr_expect_str_eq(dxh_kind(&r, "d-003"), "handshake", "%s", r.out);
	cr_expect_eq(dxh_ncalls(&r, "d-003"), 0);
	cr_expect_geq(r.wall, 1.8, "gave up after %.2f s with --connect-timeout 2", r.wall);
	cr_expect_leq(r.wall, 3.0, "took %.2f s with --connect-timeout 2", r.wall);
	cr_expect_str_eq(dxh_status(&r, "d-001"), "ok");
	cr_expect_str_eq(dxh_call_str(&r, "d-001", 0, "stdout"), "up\n");
	cr_expect_str_eq(dxh_status(&r, "d-002"), "ok");
	cr_expect_str_eq(dxh_call_str(&r, "d-002", 0, "stdout"), "up\n");
	dxh_run_free(&r);
	close(fd);
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

