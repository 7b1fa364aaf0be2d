/*
 * cli_serve.c - "dronex serve": the queue service schedulers feed through
 * a spool directory (SPEC section 7; spool.h for the directory, request.h
 * for the request format, serve.h for the parts of the daemon).
 *
 * Start-up: the options (exec's, as every request's defaults, plus the
 * serve-only ones), the spool opened (created if missing) and refused if
 * unsafe (exit 2), DIR/lock taken (one serve per spool), the inventory
 * loaded, running/ recovered from the journals (serve_journal.c), then
 * the warm pool and the one queue started.
 *
 * The main loop is one thread in poll(2) on: an inotify descriptor
 * watching requested/, aborting/ and control/; a signalfd (SIGTERM and
 * SIGINT drain, SIGHUP reloads the inventory); and an eventfd the done
 * callback writes when a request has every drone's result.  Its timeout
 * is the next status.json write (at most ~5 a second while things
 * change, and every 5 s).  Nothing spins: every wait is on a descriptor.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli.h"
#include "cli_int.h"
#include "conn.h"
#include "serve.h"

#define SERVE_STATUS_MIN_MS	200	/* at most ~5 writes a second */
#define SERVE_STATUS_MAX_MS	5000	/* and at least one every 5 s */

void
serve_log(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* One write per line, so lines of several threads never mix. */
	fprintf(stderr, "dronex serve: %s\n", buf);
}

void
serve_crash(struct serve *s, const char *name)
{
	if (s->crash_name[0] == '\0' || strcmp(s->crash_name, name) != 0)
		return;
	if (atomic_fetch_add(&s->crash_seen, 1) + 1 == s->crash_n)
		raise(SIGKILL);
}

static void
serve_crash_init(struct serve *s)
{
	const char *v = getenv("DRONEX_CRASH_POINT");
	char *colon;

	s->crash_n = 1;
	if (v == NULL || v[0] == '\0')
		return;
	snprintf(s->crash_name, sizeof(s->crash_name), "%s", v);
	if ((colon = strchr(s->crash_name, ':')) != NULL) {
		*colon = '\0';
		s->crash_n = strtol(colon + 1, NULL, 10);
		if (s->crash_n < 1)
			s->crash_n = 1;
	}
}

/* The serve-only options, taken out of argv before exec's parser. */
struct serve_args {
	const char	*spool;
	int64_t		 idle_ms;
	long long	 max_sessions;	/* -1: the inventory's size */
	long long	 throttle_failures;
	int64_t		 throttle_ms;
};

static int
serve_num(const char *opt, const char *v, double min, double max, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	if (v[0] == '\0' || *end != '\0' || errno != 0 || *out < min || *out > max) {
		cli_fail("option '%s': '%s' is not a number from %g to %g", opt, v,
		    min, max);
		return -1;
	}
	return 0;
}

static int
serve_take_args(int *argc, char **argv, struct serve_args *a)
{
	static const char *const names[] = { "--spool", "--idle-timeout",
	    "--max-sessions", "--throttle-failures", "--throttle-window" };
	int in, out = 1;
	double v;

	a->spool = getenv("DRONEX_SPOOL");
	a->idle_ms = DX_POOL_IDLE_TIMEOUT_MS;
	a->max_sessions = -1;
	a->throttle_failures = DX_POOL_THROTTLE_FAILURES;
	a->throttle_ms = DX_POOL_THROTTLE_WINDOW_MS;
	for (in = 1; in < *argc; in++) {
		const char *arg = argv[in], *val = NULL;
		size_t k, len;

		if (strcmp(arg, "--") == 0) {
			while (in < *argc)
				argv[out++] = argv[in++];
			break;
		}
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			len = strlen(names[k]);
			if (strncmp(arg, names[k], len) == 0 &&
			    (arg[len] == '\0' || arg[len] == '='))
				break;
		}
		if (k == sizeof(names) / sizeof(names[0])) {
			argv[out++] = argv[in];
			continue;
		}
		if (arg[len] == '=')
			val = arg + len + 1;
		else if (in + 1 < *argc)
			val = argv[++in];
		else {
			cli_fail("option '%s' needs a value (try dronex --help)",
			    names[k]);
			return -1;
		}
		switch (k) {
		case 0:
			a->spool = val;
			break;
		case 1:
			if (serve_num(names[k], val, 0, 1e9, &v) == -1)
				return -1;
			a->idle_ms = (int64_t)(v * 1000.0 + 0.5);
			break;
		case 2:
			if (serve_num(names[k], val, 1, 1e7, &v) == -1)
				return -1;
			a->max_sessions = (long long)v;
			break;
		case 3:
			if (serve_num(names[k], val, 0, 1e6, &v) == -1)
				return -1;
			a->throttle_failures = (long long)v;
			break;
		case 4:
			if (serve_num(names[k], val, 0.001, 1e9, &v) == -1)
				return -1;
			a->throttle_ms = (int64_t)(v * 1000.0 + 0.5);
			break;
		}
	}
	argv[out] = NULL;
	*argc = out;
	if (a->spool == NULL || a->spool[0] == '\0') {
		cli_fail("serve needs a spool: give --spool DIR or set DRONEX_SPOOL");
		return -1;
	}
	return 0;
}

int
serve_req_opts(const struct serve *s, const struct dx_request *r,
    struct cli_opts *o, struct dx_err *err)
{
	*o = *s->o;
	if (r->ndrones > CLI_MAX_SETS || r->nexclude > CLI_MAX_SETS ||
	    r->nlabels > CLI_MAX_LABELS)
		return dx_err_set(err, DX_USAGE, "the selection has too many sets");
	for (size_t i = 0; i < r->ndrones; i++)
		o->drones[i] = r->drones[i];
	o->ndrones = r->ndrones;
	for (size_t i = 0; i < r->nexclude; i++)
		o->exclude[i] = r->exclude[i];
	o->nexclude = r->nexclude;
	for (size_t i = 0; i < r->nlabels; i++)
		o->labels[i] = r->labels[i];
	o->nlabels = r->nlabels;
	o->shard_k = r->shard_k;
	o->shard_n = r->shard_n;
	if (r->opts.user != NULL)
		o->user = r->opts.user;
	if (r->opts.port_given)
		o->port = r->opts.port;
	if (r->opts.host_key_check_given) {
		o->hostkey = r->opts.host_key_check;
		o->hostkey_given = true;
	}
	if (r->opts.connect_timeout_given) {
		o->connect_ms = r->opts.connect_timeout_ms;
		o->connect_given = true;
	}
	return 0;
}

static bool
serve_same_list(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

static bool
serve_same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Same connection settings: a warm session made with a stays valid for b. */
static bool
serve_target_same(const struct dx_target *a, const struct dx_target *b)
{
	return serve_same_str(a->host, b->host) && a->port == b->port &&
	    serve_same_str(a->user, b->user) &&
	    serve_same_list(a->identities, a->nidentities, b->identities,
	    b->nidentities) &&
	    serve_same_list(a->known_hosts, a->nknown_hosts, b->known_hosts,
	    b->nknown_hosts) &&
	    serve_same_list(a->global_known_hosts, a->nglobal_known_hosts,
	    b->global_known_hosts, b->nglobal_known_hosts) &&
	    a->hostkey_policy == b->hostkey_policy &&
	    a->connect_timeout_ms == b->connect_timeout_ms &&
	    a->keepalive_s == b->keepalive_s && serve_same_str(a->jump, b->jump);
}

static void
serve_retire(struct serve *s, struct dx_target *t)
{
	struct dx_target **nr;

	if (t == NULL)
		return;
	/* A job may still read it: kept until serve exits. */
	if ((nr = realloc(s->retired, (s->nretired + 1) * sizeof(*nr))) == NULL)
		return;	/* leaked rather than freed under a reader */
	s->retired = nr;
	s->retired[s->nretired++] = t;
}

/*
 * Loads path into a new inventory and makes it the drones' source: new
 * drones available, removed ones' sessions closed, changed ones'
 * sessions closed so that their next take reconnects.  The old inventory
 * stays in force when the new one cannot be loaded.
 */
static int
serve_load(struct serve *s, bool first)
{
	struct dx_inventory inv = { 0 };
	struct dx_err err = { 0 };
	struct cli_opts o = *s->o;
	struct dx_target *t = NULL;
	size_t *idx = NULL, n = 0, added = 0, removed = 0, changed = 0;
	bool *seen = NULL;

	if (dx_inventory_load(&inv, s->o->inventory, &err) == -1)
		goto fail;
	o.ndrones = o.nexclude = o.nlabels = 0;
	o.shard_n = 0;
	if (inv.n == 0) {
		idx = NULL;
		n = 0;
	} else if (cli_select(&o, &inv, &idx, &t, &n, &err) == -1)
		goto fail;
	pthread_mutex_lock(&s->mu);
	for (size_t h = 0; h < SERVE_HASH; h++)
		for (struct serve_drone *d = s->hash[h]; d != NULL; d = d->hnext)
			if (d->target != NULL && dx_inventory_find(&inv, d->name) == NULL) {
				serve_retire(s, d->target);
				d->target = NULL;
				removed++;
				if (s->pool != NULL)
					dx_pool_forget(s->pool, d->name);
			}
	for (size_t i = 0; i < n; i++) {
		struct serve_drone *d = serve_drone_get(s, t[i].name, true);
		struct dx_target *nt;

		if (d == NULL)
			continue;
		if (d->target != NULL && serve_target_same(d->target, &t[i]))
			continue;
		if ((nt = malloc(sizeof(*nt))) == NULL)
			continue;
		*nt = t[i];
		memset(&t[i], 0, sizeof(t[i]));
		if (d->target == NULL)
			added++;
		else {
			changed++;
			serve_retire(s, d->target);
			if (s->pool != NULL)
				dx_pool_forget(s->pool, d->name);
		}
		d->target = nt;
	}
	pthread_mutex_unlock(&s->mu);
	cli_targets_free(t, n);
	free(idx);
	free(seen);
	if (!first)
		dx_inventory_release(&s->inv);
	s->inv = inv;
	if (!first)
		serve_log("inventory '%s' reloaded: %zu drones (%zu added, %zu "
		    "removed, %zu changed)", s->o->inventory, inv.n, added, removed,
		    changed);
	s->dirty = true;
	return 0;
fail:
	cli_targets_free(t, n);
	free(idx);
	dx_inventory_release(&inv);
	if (first)
		cli_fail("%s", err.msg);
	else
		serve_log("inventory reload failed, keeping the old one: %s", err.msg);
	return -1;
}

/* True while some admitted request has no result yet. */
static bool
serve_busy(const struct serve *s)
{
	for (struct serve_req *r = s->live; r != NULL; r = r->next)
		if (r->admitted)
			return true;
	return false;
}

static int
serve_watch(int ino, const struct dx_spool *sp, const char *sub)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dx_spool_path(sp), sub);
	return inotify_add_watch(ino, path, IN_MOVED_TO | IN_CLOSE_WRITE |
	    IN_CREATE | IN_ONLYDIR);
}

static int
serve_loop(struct serve *s, int ino, int sfd)
{
	int64_t last = 0;
	bool scan = true;

	for (;;) {
		struct pollfd p[3] = {
			{ .fd = ino, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = s->wake_fd, .events = POLLIN },
		};
		int64_t now, due;
		char buf[4096];
		int timeout, rc;

		serve_complete(s);
		if (scan) {
			serve_scan_requests(s, "requested");
			serve_scan_control(s);
			serve_scan_aborts(s);
			scan = false;
			serve_complete(s);
		}
		if (s->draining && !serve_busy(s))
			break;
		{
			struct dx_err rerr = { 0 };

			if (serve_recycle(s, &rerr) == -1)
				serve_log("keeping the queue: %s", rerr.msg);
		}
		now = dx_now_ms();
		due = last + (s->dirty ? SERVE_STATUS_MIN_MS : SERVE_STATUS_MAX_MS);
		if (now >= due) {
			serve_status_write(s);
			last = now;
			due = now + SERVE_STATUS_MAX_MS;
		}
		timeout = (int)(due - now > 0 ? due - now : 0);
		if ((rc = poll(p, 3, timeout)) == -1 && errno != EINTR) {
			serve_log("poll: %s", strerror(errno));
			return -1;
		}
		/* A quiet moment: look again, in case an event was lost. */
		if (rc == 0)
			scan = true;
		if (p[0].revents & POLLIN) {
			while (read(ino, buf, sizeof(buf)) > 0)
				;
			scan = true;
		}
		if (p[2].revents & POLLIN) {
			uint64_t v;

			(void)!read(s->wake_fd, &v, sizeof(v));
			s->dirty = true;
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP) {
					(void)serve_load(s, false);
					continue;
				}
				if (!s->draining)
					serve_log("draining on %s: no new request starts",
					    si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
				s->draining = true;
				s->dirty = true;
			}
		}
	}
	return 0;
}

int
cli_serve(int argc, char **argv)
{
	struct serve_args a;
	struct cli_opts o;
	struct serve *s = NULL;
	struct dx_err err = { 0 };
	struct dx_queue_opts qo;
	struct dx_pool_opts po;
	sigset_t set;
	int ino = -1, sfd = -1, rc = DX_EXIT_USAGE, r;
	bool ok = false;

	memset(&o, 0, sizeof(o));
	if (serve_take_args(&argc, argv, &a) == -1)
		return DX_EXIT_USAGE;
	if ((r = cli_parse(argc, argv, &o)) != 0) {
		rc = r == 1 ? DX_EXIT_OK : DX_EXIT_USAGE;
		goto out;
	}
	if (o.command != NULL) {
		cli_fail("serve takes no command: requests bring their calls");
		goto out;
	}
	if (o.ndrones || o.nexclude || o.nlabels || o.shard_n || o.explain ||
	    o.format != DX_FMT_JSON || o.pretty || o.quiet || o.progress != -1) {
		cli_fail("serve takes no selection or output options: requests "
		    "bring their selection, and results go to the spool");
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		cli_fail("out of memory");
		goto out;
	}
	s->o = &o;
	s->wake_fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	serve_crash_init(s);
	s->started_wall = serve_wall_ms();
	if (dx_global_init(&err) == -1 ||
	    dx_spool_open(&s->spool, a.spool, true, &err) == -1 ||
	    dx_spool_lock(s->spool, &err) == -1) {
		cli_fail("%s", err.msg);
		goto out;
	}
	if (serve_load(s, true) == -1)
		goto out;
	if (o.stdin_path != NULL) {
		cli_fail("option '--stdin': give it to each request (stdin_base64)");
		goto out;
	}
	{
		/* Warm sessions hold a socket each: take every descriptor allowed. */
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ||
			    rl.rlim_max > 1048576 ? 1048576 : rl.rlim_max;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	rc = DX_EXIT_FAILED;
	/* Every thread started from here on inherits the blocked signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    (s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1 ||
	    (ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1 ||
	    serve_watch(ino, s->spool, "requested") == -1 ||
	    serve_watch(ino, s->spool, "aborting") == -1 ||
	    serve_watch(ino, s->spool, "control") == -1) {
		cli_fail("cannot watch the spool: %s", strerror(errno));
		goto out;
	}
	if (serve_recover(s) == -1)
		goto out;
	s->fanout = o.fanout;
	s->max_sessions = a.max_sessions > 0 ? (size_t)a.max_sessions : s->inv.n;
	memset(&po, 0, sizeof(po));
	po.max_sessions = s->max_sessions;
	po.idle_timeout_ms = a.idle_ms;
	po.throttle_failures = (int)a.throttle_failures;
	po.throttle_window_ms = a.throttle_ms;
	memset(&qo, 0, sizeof(qo));
	qo.fanout = o.fanout;
	s->qopts = qo;
	if ((s->shared = dx_conn_shared_new(&err)) == NULL ||
	    (s->pool = dx_pool_new(&po, s->shared, &err)) == NULL ||
	    (s->q = dx_queue_new(&qo, serve_exec, s, &err)) == NULL ||
	    dx_queue_start(s->q, serve_done, s, &err) == -1) {
		cli_fail("%s", err.msg);
		goto out;
	}
	serve_log("serving spool '%s' (pid %ld): %zu drones, fan-out %zu",
	    dx_spool_path(s->spool), (long)getpid(), s->inv.n, s->fanout);
	/* Requests accepted before a stop run first, in arrival order. */
	serve_scan_requests(s, "pending");
	ok = serve_loop(s, ino, sfd) == 0;
	serve_status_write(s);
	rc = ok ? DX_EXIT_OK : DX_EXIT_FAILED;
	if (ok)
		serve_log("drained: exiting");
out:
	if (s != NULL) {
		if (s->q != NULL) {
			dx_queue_stop(s->q, NULL);
			serve_complete(s);
			dx_queue_free(s->q);
		}
		while (s->live != NULL) {
			struct serve_req *lr = s->live;

			s->live = lr->next;
			serve_req_free(lr);
		}
		dx_pool_free(s->pool);
		dx_conn_shared_free(s->shared);
		for (size_t h = 0; h < SERVE_HASH; h++)
			while (s->hash[h] != NULL) {
				struct serve_drone *d = s->hash[h];

				s->hash[h] = d->hnext;
				if (d->target != NULL) {
					dx_target_release(d->target);
					free(d->target);
				}
				free(d->name);
				free(d);
			}
		for (size_t i = 0; i < s->nretired; i++) {
			dx_target_release(s->retired[i]);
			free(s->retired[i]);
		}
		free(s->retired);
		dx_inventory_release(&s->inv);
		dx_spool_close(s->spool);
		if (s->wake_fd != -1)
			close(s->wake_fd);
		pthread_mutex_destroy(&s->mu);
		free(s);
	}
	if (ino != -1)
		close(ino);
	if (sfd != -1)
		close(sfd);
	cli_opts_release(&o);
	return rc;
}
