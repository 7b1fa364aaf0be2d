/*
 * test_jump_lib.c - the jump registry as a long-lived part of the shared
 * state (jump.h), driven through the library the way a warm-session
 * service drives it: connections on many threads share one jump session
 * (one TCP connection, counted at a relay in front of the jump host); the
 * session closes when its last connection is gone and the next open makes
 * a new one; a jump session that dies fails the call in flight with
 * connection_lost, and the next open re-establishes it.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "call.h"
#include "conn.h"
#include "conn_int.h"
#include "dronex.h"
#include "faults_util.h"
#include "harness.h"
#include "target.h"

#define TJL_THREADS	8

/* The drone and its one hop, both the test sshd; the hop via the relay. */
struct tjl_target {
	struct dx_target	 t, hop;
	char			*ids[1];
	char			*kh[1], *hopkh[1];
	char			*hopkh_path;
};

static void
tjl_target(struct tjl_target *tt, int relay_port)
{
	char *dir, *line;

	memset(tt, 0, sizeof(*tt));
	tt->t.name = "drone";
	tt->t.host = "127.0.0.1";
	tt->t.port = atoi(dxh_env("DX_TEST_PORT"));
	tt->t.user = (char *)dxh_env("DX_TEST_USER");
	tt->ids[0] = (char *)dxh_env("DX_TEST_KEY");
	tt->t.identities = tt->ids;
	tt->t.nidentities = 1;
	tt->kh[0] = (char *)dxh_env("DX_TEST_KNOWN_HOSTS");
	tt->t.known_hosts = tt->kh;
	tt->t.nknown_hosts = 1;
	tt->t.hostkey_policy = DX_HKC_STRICT;
	tt->t.connect_timeout_ms = 10000;
	tt->t.keepalive_s = 15;
	tt->hop = tt->t;
	tt->hop.name = "bastion";
	tt->hop.port = relay_port;
	cr_assert(asprintf(&line, "[127.0.0.1]:%d %s\n", relay_port,
	    dxh_env("DX_TEST_HOSTKEY_PUB")) > 0);
	dir = dxh_tmpdir();
	tt->hopkh_path = dxh_write_file(dir, "known_hosts", line);
	tt->hopkh[0] = tt->hopkh_path;
	tt->hop.known_hosts = tt->hopkh;
	tt->t.hops = &tt->hop;
	tt->t.nhops = 1;
	free(dir);
	free(line);
}

static const struct dx_ctl tjl_ctl = { .deadline = 0, .abort_fd = -1 };

/* Runs cmd on c; returns the call's kind, its stdout in out (if given). */
static enum dx_kind
tjl_call(struct dx_conn *c, const char *cmd, char *out, size_t outsz)
{
	struct dx_call_opts co = { .timeout_ms = 20000 };
	struct dx_call_result call;
	size_t sent = 0;

	memset(&call, 0, sizeof(call));
	dx_buf_init(&call.out, 4096);
	dx_buf_init(&call.err, 4096);
	call.exit_status = -1;
	dx_call_run(c, &tjl_ctl, 0, cmd, &co, &call, &sent);
	if (out != NULL)
		snprintf(out, outsz, "%s", call.out.data ? call.out.data : "");
	dx_buf_release(&call.out);
	dx_buf_release(&call.err);
	free(call.signal);
	return call.error.kind;
}

/* Waits (bounded) until the registry runs no jump session. */
static bool
tjl_sessions_gone(struct dx_conn_shared *sh)
{
	for (int i = 0; i < 200; i++) {
		if (dx_jump_reg_sessions(sh->jumps) == 0)
			return true;
		usleep(50 * 1000);
	}
	return false;
}

struct tjl_worker {
	const struct dx_target	*t;
	struct dx_conn_shared	*sh;
	pthread_barrier_t	*bar;
	char			 out[64];
	enum dx_kind		 kind;
	struct dx_err		 err;
};

static void *
tjl_worker_main(void *arg)
{
	struct tjl_worker *w = arg;
	struct dx_conn *c;

	w->kind = DX_INTERNAL;
	if ((c = dx_conn_new(w->t, w->sh, &w->err)) != NULL &&
	    dx_conn_attach(c, &w->err) == 0) {
		pthread_barrier_wait(w->bar);
		if (dx_conn_open(c, &tjl_ctl, &w->err) == 0) {
			w->kind = tjl_call(c, "echo warm", w->out, sizeof(w->out));
			/* Everybody is open at once before anybody closes. */
			pthread_barrier_wait(w->bar);
			dx_conn_close(c, NULL);
		} else
			pthread_barrier_wait(w->bar);
		dx_conn_detach(c, NULL);
	} else {
		pthread_barrier_wait(w->bar);
		pthread_barrier_wait(w->bar);
	}
	dx_conn_free(c);
	return NULL;
}

Test(jump_lib, threads_share_one_session_which_closes_and_opens_again,
    .timeout = 90)
{
	struct tjl_worker w[TJL_THREADS];
	pthread_t th[TJL_THREADS];
	pthread_barrier_t bar;
	struct dx_conn_shared *sh;
	struct tjl_target tt;
	struct fu_proxy *px;
	struct dx_err err;
	struct dx_conn *c;
	char out[64];

	px = fu_proxy_start(atoi(dxh_env("DX_TEST_PORT")), 0, 0);
	tjl_target(&tt, fu_proxy_port(px));
	cr_assert_not_null(sh = dx_conn_shared_new(&err), "%s", err.msg);
	pthread_barrier_init(&bar, NULL, TJL_THREADS);
	for (int i = 0; i < TJL_THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].t = &tt.t;
		w[i].sh = sh;
		w[i].bar = &bar;
		cr_assert_eq(pthread_create(&th[i], NULL, tjl_worker_main, &w[i]), 0);
	}
	for (int i = 0; i < TJL_THREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < TJL_THREADS; i++) {
		cr_expect_eq(w[i].kind, DX_OK, "thread %d: %s: %s", i,
		    dx_kind_name(w[i].kind), w[i].err.msg);
		cr_expect_str_eq(w[i].out, "warm\n", "thread %d", i);
	}
	cr_expect_eq(fu_proxy_accepted(px), 1, "%d connections to the jump host "
	    "for %d connections behind it", fu_proxy_accepted(px), TJL_THREADS);
	/* The last one closed: the jump session goes too. */
	cr_expect(tjl_sessions_gone(sh), "the jump session outlived its users");
	/* A later open makes a new one. */
	cr_assert_not_null(c = dx_conn_new(&tt.t, sh, &err));
	cr_assert_eq(dx_conn_attach(c, &err), 0);
	cr_assert_eq(dx_conn_open(c, &tjl_ctl, &err), 0, "%s", err.msg);
	cr_expect_eq(tjl_call(c, "echo again", out, sizeof(out)), DX_OK);
	cr_expect_str_eq(out, "again\n");
	cr_expect_eq(fu_proxy_accepted(px), 2, "%d connections", fu_proxy_accepted(px));
	dx_conn_close(c, NULL);
	dx_conn_detach(c, NULL);
	dx_conn_free(c);
	pthread_barrier_destroy(&bar);
	dx_conn_shared_free(sh);
	fu_proxy_stop(px);
	free(tt.hopkh_path);
}

Test(jump_lib, a_dead_jump_fails_the_call_in_flight_and_is_opened_again,
    .timeout = 90)
{
	struct dx_conn_shared *sh;
	struct tjl_target tt;
	struct fu_proxy *px;
	struct dx_conn *c, *d;
	struct dx_err err;
	char out[64];
	double t0;

	/* The relay cuts the first jump connection 1.5 s after accepting it. */
	px = fu_proxy_start(atoi(dxh_env("DX_TEST_PORT")), 0, 1500);
	tjl_target(&tt, fu_proxy_port(px));
	cr_assert_not_null(sh = dx_conn_shared_new(&err), "%s", err.msg);
	cr_assert_not_null(c = dx_conn_new(&tt.t, sh, &err));
	cr_assert_eq(dx_conn_attach(c, &err), 0);
	cr_assert_eq(dx_conn_open(c, &tjl_ctl, &err), 0, "%s", err.msg);
	t0 = dxh_now();
	cr_expect_eq(tjl_call(c, "sleep 20.37", NULL, 0), DX_CONNECTION_LOST);
	cr_expect_leq(dxh_now() - t0, 10.0, "the lost jump took %.2f s to notice",
	    dxh_now() - t0);
	cr_expect_not(dx_conn_healthy(c));
	dx_conn_close(c, NULL);
	/* The next open through the same registry gets a new jump session. */
	cr_assert_not_null(d = dx_conn_new(&tt.t, sh, &err));
	cr_assert_eq(dx_conn_attach(d, &err), 0);
	cr_assert_eq(dx_conn_open(d, &tjl_ctl, &err), 0, "%s", err.msg);
	cr_expect_eq(tjl_call(d, "echo back", out, sizeof(out)), DX_OK);
	cr_expect_str_eq(out, "back\n");
	cr_expect_eq(fu_proxy_accepted(px), 2, "%d connections", fu_proxy_accepted(px));
	/* The first connection opens again too, on the new session. */
	cr_assert_eq(dx_conn_open(c, &tjl_ctl, &err), 0, "%s", err.msg);
	cr_expect_eq(tjl_call(c, "echo also", out, sizeof(out)), DX_OK);
	cr_expect_str_eq(out, "also\n");
	cr_expect_eq(fu_proxy_accepted(px), 2, "%d connections", fu_proxy_accepted(px));
	dx_conn_close(c, NULL);
	dx_conn_close(d, NULL);
	dx_conn_detach(c, NULL);
	dx_conn_detach(d, NULL);
	dx_conn_free(c);
	dx_conn_free(d);
	dx_conn_shared_free(sh);
	fu_proxy_stop(px);
	free(tt.hopkh_path);
}
