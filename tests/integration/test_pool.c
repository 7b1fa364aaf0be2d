/*
 * test_pool.c - the warm session pool (pool.h) through the library,
 * against private sshds: each test starts its own (sshd -D, the suite's
 * keys, its own port, LogLevel VERBOSE so that its log counts the TCP
 * connections it accepted), which it may kill and restart on the same
 * port, with the same or another host key.  test_pool_tsan runs the same
 * file under ThreadSanitizer.
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "call.h"
#include "conn.h"
#include "dronex.h"
#include "pool.h"
#include "target.h"

/* No harness.h: this file is also built against tests/tsan's shim. */
static const char *
tp_env(const char *name)
{
	const char *v = getenv(name);

	cr_assert(v != NULL && *v != '\0', "%s is not set", name);
	return v;
}

static void
tp_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* A private sshd: its directory, port, pid (our child) and host key. */
struct tp_sshd {
	char		 dir[128];
	int		 port;
	pid_t		 pid;
};

static int
tp_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd, port;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* True once something on port answers with an SSH banner. */
static int
tp_banner(int port)
{
	struct sockaddr_in sa;
	char b[8] = "";
	int fd, ok = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    recv(fd, b, 7, MSG_WAITALL) == 7 && memcmp(b, "SSH-2.0", 7) == 0)
		ok = 1;
	close(fd);
	return ok;
}

/*
 * Starts sshd on s->port (0: a new one) with host key hostkey (a file of
 * the suite's DX_TEST_DIR), configured as the suite's otherwise.
 */
static void
tp_sshd_start(struct tp_sshd *s, const char *hostkey)
{
	char src[256], cfg[256], log[256], line[512], hk[256];
	FILE *in, *out;

	if (s->dir[0] == '\0') {
		snprintf(s->dir, sizeof(s->dir), "%s/pool-XXXXXX",
		    tp_env("DX_TEST_DIR"));
		cr_assert_not_null(mkdtemp(s->dir));
	}
	if (s->port == 0)
		s->port = tp_free_port();
	snprintf(src, sizeof(src), "%s/sshd_config", tp_env("DX_TEST_DIR"));
	snprintf(cfg, sizeof(cfg), "%s/sshd_config", s->dir);
	snprintf(log, sizeof(log), "%s/sshd.log", s->dir);
	snprintf(hk, sizeof(hk), "%s/%s", tp_env("DX_TEST_DIR"), hostkey);
	cr_assert_not_null(in = fopen(src, "r"));
	cr_assert_not_null(out = fopen(cfg, "w"));
	while (fgets(line, sizeof(line), in) != NULL) {
		if (strncmp(line, "Port ", 5) == 0)
			fprintf(out, "Port %d\n", s->port);
		else if (strncmp(line, "HostKey ", 8) == 0)
			fprintf(out, "HostKey %s\n", hk);
		else if (strncmp(line, "PidFile ", 8) == 0)
			fprintf(out, "PidFile none\n");
		else if (strncmp(line, "LogLevel ", 9) == 0)
			fprintf(out, "LogLevel VERBOSE\n");
		else
			fputs(line, out);
	}
	fclose(in);
	fclose(out);
	cr_assert((s->pid = fork()) >= 0);
	if (s->pid == 0) {
		execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-f", cfg, "-E", log,
		    (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200 && !tp_banner(s->port); i++)
		tp_sleep_ms(25);
	cr_assert(tp_banner(s->port), "sshd did not start on port %d", s->port);
}

/* Kills sshd and every session it serves (a crash or a reboot). */
static void
tp_sshd_kill(struct tp_sshd *s)
{
	char path[300], buf[512], *p;
	struct dirent *d;
	DIR *dir;
	FILE *f;
	long ppid;

	if (s->pid <= 0)
		return;
	cr_assert_not_null(dir = opendir("/proc"));
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", d->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    (p = strrchr(buf, ')')) != NULL &&
		    sscanf(p + 2, "%*c %ld", &ppid) == 1 && ppid == s->pid)
			kill((pid_t)atol(d->d_name), SIGKILL);
		fclose(f);
	}
	closedir(dir);
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
}

/*
 * Sessions sshd authenticated so far (its log's "Accepted publickey"; the
 * start-up probe connects without logging in).
 */
static int
tp_sshd_accepted(const struct tp_sshd *s)
{
	char path[256], line[1024];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "%s/sshd.log", s->dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "Accepted publickey for ") != NULL)
			n++;
	fclose(f);
	return n;
}

/* A drone of the private sshd; strings borrowed or owned by the struct. */
struct tp_target {
	struct dx_target	 t;
	char			 name[32];
	char			*ids[1];
	char			*kh[1];
	char			 khpath[256];
};

static void
tp_target(struct tp_target *tt, const struct tp_sshd *s, const char *name,
    int port)
{
	FILE *f;

	memset(tt, 0, sizeof(*tt));
	snprintf(tt->name, sizeof(tt->name), "%s", name);
	tt->t.name = tt->name;
	tt->t.host = "127.0.0.1";
	tt->t.port = port;
	tt->t.user = (char *)tp_env("DX_TEST_USER");
	tt->ids[0] = (char *)tp_env("DX_TEST_KEY");
	tt->t.identities = tt->ids;
	tt->t.nidentities = 1;
	snprintf(tt->khpath, sizeof(tt->khpath), "%s/known_hosts",
	    s != NULL ? s->dir : tp_env("DX_TEST_DIR"));
	if (s != NULL) {
		cr_assert_not_null(f = fopen(tt->khpath, "w"));
		fprintf(f, "[127.0.0.1]:%d %s\n", port,
		    tp_env("DX_TEST_HOSTKEY_PUB"));
		fclose(f);
	}
	tt->kh[0] = tt->khpath;
	tt->t.known_hosts = tt->kh;
	tt->t.nknown_hosts = 1;
	tt->t.hostkey_policy = DX_HKC_STRICT;
	tt->t.connect_timeout_ms = 10000;
	tt->t.keepalive_s = 15;
}

static const struct dx_ctl tp_ctl = { .deadline = 0, .abort_fd = -1 };

/* Runs cmd on c: it must print want and exit 0, sent exactly once. */
static void
tp_call(struct dx_conn *c, const char *cmd, const char *want)
{
	struct dx_call_opts co = { .timeout_ms = 20000 };
	struct dx_call_result call;
	size_t sent = 0;

	memset(&call, 0, sizeof(call));
	dx_buf_init(&call.out, 4096);
	dx_buf_init(&call.err, 4096);
	call.exit_status = -1;
	cr_assert_eq(dx_call_run(c, &tp_ctl, 0, cmd, &co, &call, &sent), 0,
	    "%s: %s", dx_kind_name(call.error.kind), call.error.msg);
	cr_assert_eq(sent, 1);
	cr_assert_eq(call.exit_status, 0);
	cr_assert_not_null(call.out.data);
	cr_assert_str_eq(call.out.data, want);
	dx_buf_release(&call.out);
	dx_buf_release(&call.err);
	free(call.signal);
}

static struct dx_pool *
tp_pool(struct dx_conn_shared **sh, size_t max, int64_t idle_ms, int k,
    int64_t window_ms)
{
	/* No background re-open here (the tests below that want it say so):
	 * these tests count the takes' own logins. */
	struct dx_pool_opts po = { .max_sessions = max, .idle_timeout_ms = idle_ms,
	    .throttle_failures = k, .throttle_window_ms = window_ms,
	    .reopen_delay_ms = -1 };
	struct dx_err err;
	struct dx_pool *p;

	dx_err_clear(&err);
	cr_assert_eq(dx_global_init(&err), 0, "%s", err.msg);
	cr_assert_not_null(*sh = dx_conn_shared_new(&err), "%s", err.msg);
	cr_assert_not_null(p = dx_pool_new(&po, *sh, &err), "%s", err.msg);
	return p;
}

/* Takes t, runs echo, gives it back. */
static void
tp_use(struct dx_pool *p, const struct dx_target *t)
{
	struct dx_err err;
	struct dx_conn *c;

	dx_err_clear(&err);
	c = dx_pool_take(p, t, &tp_ctl, &err);
	cr_assert_not_null(c, "take '%s': %s: %s", t->name,
	    dx_kind_name(err.kind), err.msg);
	tp_call(c, "echo warm", "warm\n");
	dx_pool_give(p, c);
}

static struct dx_pool_stats
tp_stats(struct dx_pool *p)
{
	struct dx_pool_stats st;

	dx_pool_stats(p, &st);
	return st;
}

Test(pool, reuses_one_tcp_connection_for_many_takes, .timeout = 60)
{
	struct dx_conn_shared *sh;
	struct tp_sshd s = { .port = 0 };
	struct tp_target tt;
	struct dx_pool *p;
	struct dx_err err;
	struct dx_conn *c;

	tp_sshd_start(&s, "host_ed25519");
	tp_target(&tt, &s, "web-01", s.port);
	p = tp_pool(&sh, 0, 0, 5, 600000);
	for (int i = 0; i < 10; i++)
		tp_use(p, &tt.t);
	cr_assert_eq(tp_sshd_accepted(&s), 1, "ten takes, one connection");
	cr_assert_eq(tp_stats(p).warm, 1);
	cr_assert_eq(tp_stats(p).busy, 0);
	dx_err_clear(&err);
	cr_assert_not_null(c = dx_pool_take(p, &tt.t, &tp_ctl, &err), "%s", err.msg);
	cr_assert_eq(tp_stats(p).warm, 0);
	cr_assert_eq(tp_stats(p).busy, 1);
	dx_pool_give(p, c);
	dx_pool_free(p);
	dx_conn_shared_free(sh);
	tp_sshd_kill(&s);
}

Test(pool, closes_sessions_idle_longer_than_the_idle_timeout, .timeout = 60)
{
	struct dx_conn_shared *sh;
	struct tp_sshd s = { .port = 0 };
	struct tp_target tt;
	struct dx_pool *p;
	int64_t t0;

	tp_sshd_start(&s, "host_ed25519");
	tp_target(&tt, &s, "web-01", s.port);
	p = tp_pool(&sh, 0, 500, 5, 600000);
	tp_use(p, &tt.t);
	t0 = dx_now_ms();
	cr_assert_eq(tp_stats(p).warm, 1);
	while (tp_stats(p).warm != 0 && dx_now_ms() - t0 < 10000)
		tp_sleep_ms(20);
	cr_assert_eq(tp_stats(p).warm, 0, "closed after its idle timeout");
	cr_assert_geq(dx_now_ms() - t0, 400, "not before its idle timeout");
	/* The next take connects again. */
	tp_use(p, &tt.t);
	cr_assert_eq(tp_sshd_accepted(&s), 2);
	dx_pool_free(p);
	dx_conn_shared_free(sh);
	tp_sshd_kill(&s);
}

Test(pool, evicts_the_least_recently_used_idle_session_at_the_limit,
    .timeout = 60)
{
	struct dx_conn_shared *sh;
	struct tp_sshd s = { .port = 0 };
	struct tp_target a, b, c;
	struct dx_pool *p;

	tp_sshd_start(&s, "host_ed25519");
	tp_target(&a, &s, "a", s.port);
	tp_target(&b, &s, "b", s.port);
	tp_target(&c, &s, "c", s.port);
	p = tp_pool(&sh, 2, 0, 5, 600000);
	tp_use(p, &a.t);
	tp_use(p, &b.t);
	tp_use(p, &a.t);	/* a is now more recent than b */
	cr_assert_eq(tp_sshd_accepted(&s), 2);
	tp_use(p, &c.t);	/* evicts b */
	cr_assert_eq(tp_sshd_accepted(&s), 3);
	cr_assert_eq(tp_stats(p).warm, 2);
	cr_assert_eq(tp_stats(p).max, 2);
	tp_use(p, &a.t);	/* still warm */
	tp_use(p, &c.t);	/* still warm */
	cr_assert_eq(tp_sshd_accepted(&s), 3, "a and c stayed warm");
	tp_use(p, &b.t);	/* was evicted: a new connection */
	cr_assert_eq(tp_sshd_accepted(&s), 4);
	/* A smaller limit closes idle sessions now. */
	cr_assert_eq(dx_pool_resize(p, 1), 0);
	cr_assert_eq(tp_stats(p).warm, 1);
	tp_use(p, &b.t);	/* the most recent one survived */
	cr_assert_eq(tp_sshd_accepted(&s), 4);
	dx_pool_free(p);
	dx_conn_shared_free(sh);
	tp_sshd_kill(&s);
}

Test(pool, reestablishes_a_warm_session_after_an_sshd_restart, .timeout = 60)
{
	struct dx_conn_shared *sh;
	struct tp_sshd s = { .port = 0 };
	struct tp_target tt;
	struct dx_pool *p;
	int64_t t0;

	tp_sshd_start(&s, "host_ed25519");
	tp_target(&tt, &s, "web-01", s.port);
	p = tp_pool(&sh, 0, 0, 5, 600000);
	tp_use(p, &tt.t);
	tp_sshd_kill(&s);
	/* The pool's thread sees the hang-up of the idle session. */
	t0 = dx_now_ms();
	while (tp_stats(p).warm != 0 && dx_now_ms() - t0 < 10000)
		tp_sleep_ms(10);
	cr_assert_eq(tp_stats(p).warm, 0, "a dead idle session is closed");
	tp_sshd_start(&s, "host_ed25519");
	tp_use(p, &tt.t);
	tp_use(p, &tt.t);
	cr_assert_eq(tp_sshd_accepted(&s), 2, "one new connection, then warm");

	/* Killed and restarted before the pool's thread can look: the take's
	 * own check finds the session dead and opens a new one. */
	tp_sshd_kill(&s);
	tp_sshd_start(&s, "host_ed25519");
	tp_use(p, &tt.t);
	cr_assert_eq(tp_sshd_accepted(&s), 3);
	dx_pool_free(p);
	dx_conn_shared_free(sh);
	tp_sshd_kill(&s);
}

Test(pool, refuses_a_drone_whose_host_key_changed_under_a_warm_session,
    .timeout = 60)
{
	struct dx_conn_shared *sh;
	struct tp_sshd s = { .port = 0 };
	struct tp_target tt;
	struct dx_pool *p;
	struct dx_err err;
	struct dx_conn *c;

	tp_sshd_start(&s, "host_ed25519");
	tp_target(&tt, &s, "web-01", s.port);
	p = tp_pool(&sh, 0, 0, 5, 600000);
	tp_use(p, &tt.t);
	tp_sshd_kill(&s);
	tp_sshd_start(&s, "other_host_ed25519");
	dx_err_clear(&err);
	c = dx_pool_take(p, &tt.t, &tp_ctl, &err);
	cr_assert_null(c, "no connection, so no call can run");
	cr_assert_eq(err.kind, DX_HOSTKEY_MISMATCH, "%s: %s",
	    dx_kind_name(err.kind), err.msg);
	cr_assert_eq(tp_stats(p).warm, 0);
	cr_assert_eq(tp_stats(p).busy, 0);
	/* Not a connect failure: no throttling however often. */
	for (int i = 0; i < 6; i++) {
		cr_assert_null(dx_pool_take(p, &tt.t, &tp_ctl, &err));
		cr_assert_eq(err.kind, DX_HOSTKEY_MISMATCH);
	}
	dx_pool_free(p);
	dx_conn_shared_free(sh);
	tp_sshd_kill(&s);
}

/* A pool that re-opens dead idle sessions delay_ms after their death. */
static struct dx_pool *
tp_pool_reopen(struct dx_conn_shared **sh, int k, int64_t delay_ms)
{
	struct dx_pool_opts po = { .throttle_failures = k,
	    .throttle_window_ms = 600000, .reopen_delay_ms = delay_ms };
	struct dx_err err;
	struct dx_pool *p;

	dx_err_clear(&err);
	cr_assert_eq(dx_global_init(&err), 0, "%s", err.msg);
	cr_assert_not_null(*sh = dx_conn_shared_new(&err), "%s", err.msg);
	cr_assert_not_null(p = dx_pool_new(&po, *sh, &err), "%s", err.msg);
	return p;
}

/* Waits up to ms for *field of the pool's stats to reach want. */
#define TP_WAIT_STAT(p, field, want, ms) do {				\
	int64_t t0_ = dx_now_ms();					\
	while (tp_stats(p).field != (want) && dx_now_ms() - t0_ < (ms))	\
		tp_sleep_ms(10);					\
	cr_assert_eq(tp_stats(p).field, (want), #field " = %zu, want %zu", \
	    tp_stats(p).field, (size_t)(want));				\
} while (0)

Test(pool, reopens_a_session_that_died_idle_before_any_take, .timeout = 90)
{
	struct dx_conn_shared *sh;
	struct tp_sshd s = { .port = 0 };
	struct tp_target tt;
	struct dx_pool *p;

	tp_sshd_start(&s, "host_ed25519");
	tp_target(&tt, &s, "web-01", s.port);
	/* 2 s: room for the restart below on a loaded machine. */
	p = tp_pool_reopen(&sh, 5, 2000);
	tp_use(p, &tt.t);
	cr_assert_eq(tp_sshd_accepted(&s), 1);
	tp_sshd_kill(&s);
	TP_WAIT_STAT(p, warm, 0, 10000);
	tp_sshd_start(&s, "host_ed25519");
	/* No take: the pool logs in again by itself, once. */
	TP_WAIT_STAT(p, reopened, 1, 20000);
	cr_assert_eq(tp_stats(p).warm, 1, "warm again without a take");
	cr_assert_eq(tp_stats(p).reopen_failed, 0);
	cr_assert_eq(tp_sshd_accepted(&s), 2, "one background login");
	/* The first take after the restart is warm: no login of its own. */
	tp_use(p, &tt.t);
	tp_use(p, &tt.t);
	cr_assert_eq(tp_sshd_accepted(&s), 2, "the takes found it warm");

	/* The host key is checked again: a changed key is not re-opened,
	 * and the take then says why. */
	tp_sshd_kill(&s);
	TP_WAIT_STAT(p, warm, 0, 10000);
	tp_sshd_start(&s, "other_host_ed25519");
	TP_WAIT_STAT(p, reopen_failed, 1, 20000);
	cr_assert_eq(tp_stats(p).warm, 0);
	{
		struct dx_err err;

		dx_err_clear(&err);
		cr_assert_null(dx_pool_take(p, &tt.t, &tp_ctl, &err));
		cr_assert_eq(err.kind, DX_HOSTKEY_MISMATCH, "%s: %s",
		    dx_kind_name(err.kind), err.msg);
	}
	dx_pool_free(p);
	dx_conn_shared_free(sh);
	tp_sshd_kill(&s);
}

Test(pool, a_failed_background_reopen_is_not_throttled_nor_retried,
    .timeout = 90)
{
	struct dx_conn_shared *sh;
	struct tp_sshd s = { .port = 0 };
	struct tp_target tt;
	struct dx_pool *p;
	struct dx_err err;

	tp_sshd_start(&s, "host_ed25519");
	tp_target(&tt, &s, "web-01", s.port);
	/* Two counted failures cool the drone down. */
	p = tp_pool_reopen(&sh, 2, 200);
	tp_use(p, &tt.t);
	tp_sshd_kill(&s);	/* and it stays down */
	TP_WAIT_STAT(p, reopen_failed, 1, 20000);
	tp_sleep_ms(1500);
	cr_assert_eq(tp_stats(p).reopen_failed, 1, "one attempt per death");
	cr_assert_eq(tp_stats(p).reopened, 0);
	cr_assert_eq(tp_stats(p).warm, 0);
	/* Up again: the next take reconnects as without the re-opener. */
	tp_sshd_start(&s, "host_ed25519");
	tp_use(p, &tt.t);
	cr_assert_eq(tp_sshd_accepted(&s), 2, "the take's own login");

	/* Down for good: another background failure, then the takes' own
	 * two failures, which alone cool it down. */
	tp_sshd_kill(&s);
	TP_WAIT_STAT(p, reopen_failed, 2, 20000);
	for (int i = 0; i < 2; i++) {
		dx_err_clear(&err);
		cr_assert_null(dx_pool_take(p, &tt.t, &tp_ctl, &err));
		cr_assert_eq(err.kind, DX_CONNECT_REFUSED, "take %d: %s: %s", i,
		    dx_kind_name(err.kind), err.msg);
	}
	dx_err_clear(&err);
	cr_assert_null(dx_pool_take(p, &tt.t, &tp_ctl, &err));
	cr_assert_eq(err.kind, DX_THROTTLED, "%s: %s", dx_kind_name(err.kind),
	    err.msg);
	cr_assert_eq(tp_stats(p).reopen_failed, 2, "takes' failures: no re-open");
	dx_pool_free(p);
	dx_conn_shared_free(sh);
}

/* A restarted sshd that accepts TCP but never says its banner (stopped). */
static void
tp_sshd_restart_frozen(struct tp_sshd *s)
{
	tp_sshd_start(s, "host_ed25519");
	cr_assert_eq(kill(s->pid, SIGSTOP), 0);
}

static void
tp_sshd_thaw_kill(struct tp_sshd *s)
{
	if (s->pid > 0)
		kill(s->pid, SIGCONT);
	tp_sshd_kill(s);
}

Test(pool, a_forget_or_free_cuts_a_background_reopen_in_flight,
    .timeout = 90)
{
	struct dx_conn_shared *sh;
	struct tp_sshd s = { .port = 0 };
	struct tp_target tt;
	struct dx_pool *p;
	int64_t t0;

	tp_sshd_start(&s, "host_ed25519");
	tp_target(&tt, &s, "web-01", s.port);
	tt.t.connect_timeout_ms = 30000;	/* the open would wait this long */
	p = tp_pool_reopen(&sh, 5, 100);
	tp_use(p, &tt.t);
	tp_sshd_kill(&s);
	tp_sshd_restart_frozen(&s);
	TP_WAIT_STAT(p, reopening, 1, 20000);
	t0 = dx_now_ms();
	dx_pool_forget(p, "web-01");
	cr_assert_lt(dx_now_ms() - t0, 3000, "the forget cut the open");
	cr_assert_eq(tp_stats(p).reopening, 0);
	cr_assert_eq(tp_stats(p).warm, 0);
	cr_assert_eq(tp_stats(p).reopened, 0);

	/* Again, and this time the pool is freed under the open. */
	tp_sshd_thaw_kill(&s);
	tp_sshd_start(&s, "host_ed25519");
	tp_use(p, &tt.t);
	tp_sshd_kill(&s);
	tp_sshd_restart_frozen(&s);
	TP_WAIT_STAT(p, reopening, 1, 20000);
	t0 = dx_now_ms();
	dx_pool_free(p);
	cr_assert_lt(dx_now_ms() - t0, 3000, "the free cut the open");
	dx_conn_shared_free(sh);
	tp_sshd_thaw_kill(&s);
}

static void *
tp_thaw_later(void *arg)
{
	struct tp_sshd *s = arg;

	tp_sleep_ms(1000);
	kill(s->pid, SIGCONT);
	return NULL;
}

Test(pool, a_take_during_a_background_reopen_waits_and_gets_that_session,
    .timeout = 90)
{
	struct dx_conn_shared *sh;
	struct tp_sshd s = { .port = 0 };
	struct tp_target tt;
	struct dx_pool *p;
	struct dx_err err;
	struct dx_conn *c;
	pthread_t th;

	tp_sshd_start(&s, "host_ed25519");
	tp_target(&tt, &s, "web-01", s.port);
	tt.t.connect_timeout_ms = 30000;
	p = tp_pool_reopen(&sh, 5, 100);
	tp_use(p, &tt.t);
	tp_sshd_kill(&s);
	tp_sshd_restart_frozen(&s);
	TP_WAIT_STAT(p, reopening, 1, 20000);
	cr_assert_eq(pthread_create(&th, NULL, tp_thaw_later, &s), 0);
	dx_err_clear(&err);
	c = dx_pool_take(p, &tt.t, &tp_ctl, &err);
	cr_assert_not_null(c, "%s: %s", dx_kind_name(err.kind), err.msg);
	pthread_join(th, NULL);
	cr_assert_eq(tp_stats(p).reopened, 1, "the take got the re-opened one");
	tp_call(c, "echo warm", "warm\n");
	dx_pool_give(p, c);
	cr_assert_eq(tp_sshd_accepted(&s), 2, "no second session");
	dx_pool_free(p);
	dx_conn_shared_free(sh);
	tp_sshd_kill(&s);
}

struct tp_cooled {
	int		 n, failures;
	int64_t		 until;
	char		 name[32];
};

static void
tp_cooled_cb(void *arg, const char *name, int failures, int64_t until)
{
	struct tp_cooled *c = arg;

	c->n++;
	c->failures = failures;
	c->until = until;
	snprintf(c->name, sizeof(c->name), "%s", name);
}

static int64_t
tp_realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

Test(pool, throttles_a_drone_that_keeps_failing_to_connect, .timeout = 60)
{
	struct dx_conn_shared *sh;
	struct tp_sshd s = { .port = 0 };
	struct tp_target tt;
	struct tp_cooled cool = { 0 };
	struct dx_pool *p;
	struct dx_err err;
	int64_t t0, now;
	int port = tp_free_port();	/* nothing listens */

	tp_target(&tt, NULL, "down-01", port);
	p = tp_pool(&sh, 0, 0, 3, 2000);
	for (int i = 0; i < 3; i++) {
		dx_err_clear(&err);
		cr_assert_null(dx_pool_take(p, &tt.t, &tp_ctl, &err));
		cr_assert_eq(err.kind, DX_CONNECT_REFUSED, "%s: %s",
		    dx_kind_name(err.kind), err.msg);
	}
	t0 = dx_now_ms();
	now = tp_realtime_ms();
	dx_err_clear(&err);
	cr_assert_null(dx_pool_take(p, &tt.t, &tp_ctl, &err));
	cr_assert_eq(err.kind, DX_THROTTLED, "%s: %s", dx_kind_name(err.kind),
	    err.msg);
	cr_assert_not_null(strstr(err.msg, "until 20"), "%s", err.msg);
	cr_assert_lt(dx_now_ms() - t0, 100, "throttled at once");
	dx_pool_cooled(p, tp_cooled_cb, &cool);
	cr_assert_eq(cool.n, 1);
	cr_assert_str_eq(cool.name, "down-01");
	cr_assert_eq(cool.failures, 3);
	cr_assert_gt(cool.until, now, "until is ahead");
	cr_assert_leq(cool.until, now + 2500, "within the window");
	/* After the window the drone is tried again (and fails again). */
	while (tp_realtime_ms() < cool.until + 50)
		tp_sleep_ms(50);
	cool.n = 0;
	dx_pool_cooled(p, tp_cooled_cb, &cool);
	cr_assert_eq(cool.n, 0);
	dx_err_clear(&err);
	cr_assert_null(dx_pool_take(p, &tt.t, &tp_ctl, &err));
	cr_assert_eq(err.kind, DX_CONNECT_REFUSED, "%s", err.msg);
	/* A success clears the failures: up, it runs; down again, not cool. */
	s.port = port;
	tp_sshd_start(&s, "host_ed25519");
	tp_target(&tt, &s, "down-01", port);
	tp_use(p, &tt.t);
	tp_sshd_kill(&s);
	for (int i = 0; i < 2; i++) {
		struct dx_conn *c;

		dx_err_clear(&err);
		c = dx_pool_take(p, &tt.t, &tp_ctl, &err);
		cr_assert_null(c);
		cr_assert_eq(err.kind, DX_CONNECT_REFUSED, "%s: %s",
		    dx_kind_name(err.kind), err.msg);
	}
	dx_pool_free(p);
	dx_conn_shared_free(sh);
}

/* Threads of this process now. */
static int
tp_threads(void)
{
	struct dirent *d;
	DIR *dir;
	int n = 0;

	cr_assert_not_null(dir = opendir("/proc/self/task"));
	while ((d = readdir(dir)) != NULL)
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

static int64_t
tp_cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

#define TP_IDLE_N	100

Test(pool, holds_a_hundred_idle_sessions_on_one_thread_without_spinning,
    .timeout = 180)
{
	static struct tp_target tt[TP_IDLE_N];
	struct dx_conn_shared *sh;
	struct tp_sshd s = { .port = 0 };
	struct dx_pool *p;
	int64_t cpu;
	int base;
	char name[16];

	tp_sshd_start(&s, "host_ed25519");
	p = tp_pool(&sh, 0, 0, 5, 600000);
	base = tp_threads();
	for (int i = 0; i < TP_IDLE_N; i++) {
		snprintf(name, sizeof(name), "d-%03d", i);
		tp_target(&tt[i], &s, name, s.port);
		tt[i].t.keepalive_s = 1;	/* keepalives while we watch */
		tp_use(p, &tt[i].t);
	}
	cr_assert_eq(tp_stats(p).warm, TP_IDLE_N);
	cr_assert_eq(tp_threads(), base, "no thread per idle session");
	/* Idle for 2.5 s, a keepalive a second each: little CPU. */
	cpu = tp_cpu_ms();
	tp_sleep_ms(2500);
	cpu = tp_cpu_ms() - cpu;
	cr_assert_lt(cpu, 100, "idle pool used %lld ms of CPU in 2.5 s",
	    (long long)cpu);
	/* Keepalives kept them, and they are still warm. */
	cr_assert_eq(tp_stats(p).warm, TP_IDLE_N);
	for (int i = 0; i < TP_IDLE_N; i += 10)
		tp_use(p, &tt[i].t);
	cr_assert_eq(tp_sshd_accepted(&s), TP_IDLE_N, "still the same sessions");
	dx_pool_free(p);
	dx_conn_shared_free(sh);
	tp_sshd_kill(&s);
}

/* Two threads taking one drone: one session, used by one at a time. */
struct tp_worker {
	struct dx_pool		*p;
	const struct dx_target	*t;
	int			 n;
};

static void *
tp_worker_main(void *arg)
{
	struct tp_worker *w = arg;

	for (int i = 0; i < w->n; i++)
		tp_use(w->p, w->t);
	return NULL;
}

Test(pool, hands_one_drone_between_threads_one_at_a_time, .timeout = 60)
{
	struct dx_conn_shared *sh;
	struct tp_sshd s = { .port = 0 };
	struct tp_target tt;
	struct tp_worker w;
	struct dx_pool *p;
	pthread_t th[3];

	tp_sshd_start(&s, "host_ed25519");
	tp_target(&tt, &s, "web-01", s.port);
	p = tp_pool(&sh, 0, 0, 5, 600000);
	w.p = p;
	w.t = &tt.t;
	w.n = 5;
	for (int i = 0; i < 3; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, tp_worker_main, &w), 0);
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	cr_assert_eq(tp_sshd_accepted(&s), 1);
	cr_assert_eq(tp_stats(p).warm, 1);
	dx_pool_forget(p, "web-01");
	cr_assert_eq(tp_stats(p).warm, 0, "forget closes the idle session");
	dx_pool_free(p);
	dx_conn_shared_free(sh);
	tp_sshd_kill(&s);
}
