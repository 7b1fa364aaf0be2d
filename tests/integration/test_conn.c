/*
 * test_conn.c - a connection as an object (conn.h, call.h), driven
 * through the library against the test sshd: opened over a transport that
 * is not a TCP socket of its own (one end of a socketpair that a relay
 * thread pumps to the sshd's port, the shape jump hosts will take), used
 * for calls on another thread than the one that opened it, opened again
 * after a close, and refusing a thread that is not attached to it.
 * test_conn_tsan runs the same file under ThreadSanitizer.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "call.h"
#include "conn.h"
#include "dronex.h"
#include "target.h"

/*
 * No harness.h: this file is also built against tests/tsan's criterion
 * shim (test_conn_tsan), to run the hand-over under ThreadSanitizer.
 */
static const char *
tc_env(const char *name)
{
	const char *v = getenv(name);

	cr_assert(v != NULL && *v != '\0', "%s is not set", name);
	return v;
}

static double
tc_now(void)
{
	return (double)dx_now_ms() / 1000.0;
}

/* A target for the test sshd on the stack, its strings borrowed. */
struct tc_target {
	struct dx_target	 t;
	char			*ids[1];
	char			*kh[1];
};

static void
tc_target(struct tc_target *tt)
{
	memset(tt, 0, sizeof(*tt));
	tt->t.name = "relayed";
	tt->t.host = "127.0.0.1";
	tt->t.port = atoi(tc_env("DX_TEST_PORT"));
	tt->t.user = (char *)tc_env("DX_TEST_USER");
	tt->ids[0] = (char *)tc_env("DX_TEST_KEY");
	tt->t.identities = tt->ids;
	tt->t.nidentities = 1;
	tt->kh[0] = (char *)tc_env("DX_TEST_KNOWN_HOSTS");
	tt->t.known_hosts = tt->kh;
	tt->t.nknown_hosts = 1;
	tt->t.hostkey_policy = DX_HKC_STRICT;
	tt->t.connect_timeout_ms = 10000;
}

static const struct dx_ctl tc_ctl = { .deadline = 0, .abort_fd = -1 };

/* Runs cmd on c and checks it printed want and exited with status. */
static void
tc_call(struct dx_conn *c, const char *cmd, const char *want, int status)
{
	struct dx_call_opts co = { .timeout_ms = 20000 };
	struct dx_call_result call;
	size_t sent = 0;

	memset(&call, 0, sizeof(call));
	dx_buf_init(&call.out, 4096);
	dx_buf_init(&call.err, 4096);
	call.exit_status = -1;
	cr_assert_eq(dx_call_run(c, &tc_ctl, 0, cmd, &co, &call, &sent), 0,
	    "%s: %s", dx_kind_name(call.error.kind), call.error.msg);
	cr_assert_eq(sent, 1);
	cr_assert_eq(call.exit_status, status, "exit %d: %s", call.exit_status,
	    call.error.msg);
	cr_assert_eq(call.error.kind, status == 0 ? DX_OK : DX_NONZERO_EXIT);
	cr_assert_not_null(call.out.data);
	cr_assert_str_eq(call.out.data, want);
	dx_buf_release(&call.out);
	dx_buf_release(&call.err);
	free(call.signal);
}

/* The relay: one end of a socketpair to the sshd's TCP port, both ways. */
struct tc_relay {
	int		 end;		/* the socketpair end the relay owns */
	int		 port;
	size_t		 bytes;		/* relayed, both ways */
};

static void *
tc_relay_main(void *arg)
{
	struct tc_relay *r = arg;
	struct sockaddr_in sa;
	struct pollfd p[2];
	char buf[16384];
	int tcp;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)r->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((tcp = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    connect(tcp, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(r->end);
		return NULL;
	}
	p[0].fd = r->end;
	p[1].fd = tcp;
	p[0].events = p[1].events = POLLIN;
	for (;;) {
		if (poll(p, 2, 30000) <= 0)
			break;
		for (int k = 0; k < 2; k++) {
			ssize_t n;

			if (p[k].revents == 0)
				continue;
			if ((n = read(p[k].fd, buf, sizeof(buf))) <= 0)
				goto out;
			if (write(p[1 - k].fd, buf, (size_t)n) != n)
				goto out;
			r->bytes += (size_t)n;
		}
	}
out:
	close(tcp);
	close(r->end);
	return NULL;
}

Test(conn, opens_over_a_socketpair_a_relay_pumps_to_sshd, .timeout = 60)
{
	struct dx_conn_shared *sh;
	struct dx_transport tr;
	struct tc_target tt;
	struct tc_relay relay;
	struct dx_conn *c;
	struct dx_err err;
	pthread_t th;
	int sp[2];

	dx_err_clear(&err);
	cr_assert_eq(dx_global_init(&err), 0, "%s", err.msg);
	tc_target(&tt);
	cr_assert_not_null(sh = dx_conn_shared_new(&err), "%s", err.msg);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	relay.end = sp[1];
	relay.port = tt.t.port;
	relay.bytes = 0;
	cr_assert_eq(pthread_create(&th, NULL, tc_relay_main, &relay), 0);

	cr_assert_not_null(c = dx_conn_new(&tt.t, sh, &err), "%s", err.msg);
	cr_assert_eq(dx_conn_attach(c, &err), 0, "%s", err.msg);
	cr_assert_eq(dx_transport_adopt(&tr, sp[0], &err), 0, "%s", err.msg);
	cr_assert_eq(dx_conn_open_over(c, &tr, &tc_ctl, &err), 0, "%s: %s",
	    dx_kind_name(err.kind), err.msg);
	cr_assert_eq(tr.fd, -1, "the connection took the transport over");
	cr_assert(dx_conn_healthy(c));
	cr_assert(dx_conn_hostkey_checked(c), "the key was checked against "
	    "known_hosts as for a TCP drone");
	cr_assert_not_null(dx_conn_kex(c));
	cr_assert_not_null(dx_conn_hostkey_fingerprint(c));
	cr_assert_eq(strncmp(dx_conn_hostkey_fingerprint(c), "SHA256:", 7), 0);
	/* Two calls on the one session, one channel each. */
	tc_call(c, "echo relayed", "relayed\n", 0);
	tc_call(c, "echo second; exit 3", "second\n", 3);
	cr_assert_eq(dx_conn_close(c, &err), 0, "%s", err.msg);
	cr_assert(!dx_conn_healthy(c));
	cr_assert_eq(dx_conn_detach(c, &err), 0, "%s", err.msg);
	dx_conn_free(c);
	/* The close shut the pair down: the relay sees the end and stops. */
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_gt(relay.bytes, 1000, "the session went through the relay");
	dx_conn_shared_free(sh);
}

/* A thread that opens the connection and hands it over. */
struct tc_opener {
	struct dx_conn	*c;
	struct dx_err	 err;
	int		 rc;
	int		 hold_ms;	/* keep it this long after opening */
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	bool		 opened;	/* lock */
};

static void *
tc_opener_main(void *arg)
{
	struct tc_opener *o = arg;

	dx_err_clear(&o->err);
	if ((o->rc = dx_conn_attach(o->c, &o->err)) == 0)
		o->rc = dx_conn_open(o->c, &tc_ctl, &o->err);
	pthread_mutex_lock(&o->lock);
	o->opened = true;
	pthread_mutex_unlock(&o->lock);
	pthread_cond_signal(&o->cond);
	usleep((useconds_t)o->hold_ms * 1000);
	if (o->rc == 0)
		o->rc = dx_conn_detach(o->c, &o->err);
	return NULL;
}

Test(conn, opened_on_one_thread_runs_calls_on_another, .timeout = 60)
{
	struct dx_call_opts co = { .timeout_ms = 20000 };
	struct dx_call_result call;
	struct dx_conn_shared *sh;
	struct tc_opener o;
	struct tc_target tt;
	struct dx_err err;
	pthread_t th;
	size_t sent = 0;
	double t0;

	dx_err_clear(&err);
	cr_assert_eq(dx_global_init(&err), 0, "%s", err.msg);
	tc_target(&tt);
	cr_assert_not_null(sh = dx_conn_shared_new(&err), "%s", err.msg);
	memset(&o, 0, sizeof(o));
	cr_assert_not_null(o.c = dx_conn_new(&tt.t, sh, &err), "%s", err.msg);
	o.hold_ms = 300;
	pthread_mutex_init(&o.lock, NULL);
	pthread_cond_init(&o.cond, NULL);
	cr_assert_eq(pthread_create(&th, NULL, tc_opener_main, &o), 0);
	pthread_mutex_lock(&o.lock);
	while (!o.opened)
		pthread_cond_wait(&o.cond, &o.lock);
	pthread_mutex_unlock(&o.lock);

	/* While the opener owns it, this thread's call is refused. */
	memset(&call, 0, sizeof(call));
	dx_buf_init(&call.out, 4096);
	dx_buf_init(&call.err, 4096);
	cr_assert_eq(dx_call_run(o.c, &tc_ctl, 0, "echo no", &co, &call, &sent),
	    -1);
	cr_assert_eq(call.error.kind, DX_INTERNAL, "%s", call.error.msg);
	cr_assert_eq(sent, 0, "nothing was sent for a refused call");
	cr_assert_eq(dx_conn_close(o.c, &err), -1);
	cr_assert_eq(err.kind, DX_INTERNAL);

	/* The attach waits for the opener's detach: the explicit hand-over. */
	t0 = tc_now();
	cr_assert_eq(dx_conn_attach(o.c, &err), 0, "%s", err.msg);
	cr_assert_eq(pthread_join(th, NULL), 0);
	cr_assert_eq(o.rc, 0, "opener: %s: %s", dx_kind_name(o.err.kind),
	    o.err.msg);
	cr_assert_gt(tc_now() - t0, 0.1, "attach waited for the detach");
	cr_assert(dx_conn_healthy(o.c));
	tc_call(o.c, "echo moved", "moved\n", 0);
	tc_call(o.c, "echo again", "again\n", 0);

	/* Closed, then opened again on this thread: a fresh session. */
	cr_assert_eq(dx_conn_close(o.c, &err), 0, "%s", err.msg);
	cr_assert_eq(dx_conn_open(o.c, &tc_ctl, &err), 0, "%s", err.msg);
	tc_call(o.c, "echo reopened", "reopened\n", 0);
	cr_assert_eq(dx_conn_detach(o.c, &err), 0, "%s", err.msg);
	dx_conn_free(o.c);
	dx_buf_release(&call.out);
	dx_buf_release(&call.err);
	pthread_cond_destroy(&o.cond);
	pthread_mutex_destroy(&o.lock);
	dx_conn_shared_free(sh);
}

Test(conn, refuses_a_thread_that_is_not_attached, .timeout = 30)
{
	struct dx_conn_shared *sh;
	struct tc_target tt;
	struct dx_conn *c;
	struct dx_err err;

	dx_err_clear(&err);
	cr_assert_eq(dx_global_init(&err), 0, "%s", err.msg);
	tc_target(&tt);
	cr_assert_not_null(sh = dx_conn_shared_new(&err), "%s", err.msg);
	cr_assert_not_null(c = dx_conn_new(&tt.t, sh, &err), "%s", err.msg);
	cr_assert_eq(dx_conn_open(c, &tc_ctl, &err), -1);
	cr_assert_eq(err.kind, DX_INTERNAL, "%s", err.msg);
	dx_err_clear(&err);
	cr_assert_eq(dx_conn_detach(c, &err), -1);
	cr_assert_eq(err.kind, DX_INTERNAL);
	cr_assert_eq(dx_conn_attach(c, &err), 0, "%s", err.msg);
	dx_err_clear(&err);
	cr_assert_eq(dx_conn_attach(c, &err), -1, "a second attach by the owner");
	cr_assert_eq(err.kind, DX_INTERNAL);
	cr_assert_eq(dx_conn_detach(c, &err), 0, "%s", err.msg);
	/* Freed open by nobody attached: it is closed on the way. */
	dx_conn_free(c);
	dx_conn_free(NULL);
	dx_conn_shared_free(sh);
}
