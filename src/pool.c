/*
 * pool.c - warm SSH sessions between requests, and the throttling of
 * drones that keep failing to connect (pool.h).
 *
 * Theory of operation.  The pool knows each drone by name (an entry, kept
 * until the pool is freed) with at most one connection.  An entry is
 * CLOSED (no open session), BUSY (taken by a worker, which is attached to
 * the connection and runs its calls; an open in progress is busy too),
 * IDLE (open, parked with the pool's thread) or KEEPALIVE (idle, the pool's
 * thread attached for a moment to send one keepalive).  A take waits while
 * its drone is BUSY or KEEPALIVE, so one thread at a time holds a session;
 * the connection's own attach/detach (conn.h) makes each hand-over
 * explicit, which is what keeps libssh2 and libcrypto race-free.
 *
 * Idle sessions sit on one list, least recently used first, and in one
 * epoll set that the pool's one thread waits on, with an eventfd to wake
 * it early (a stop, a new limit, a give whose deadline comes first).  A
 * socket joins the set when its session goes idle and leaves it when it
 * is taken, so a wake costs nothing per idle socket (poll() over 2,000
 * sockets cost about 4 ms a time).  It watches EPOLLRDHUP, EPOLLHUP and
 * EPOLLERR only: libssh2 reads nothing while no call runs, so an idle
 * socket may stay readable (a server's own messages) and EPOLLIN would
 * spin.  It wakes for the nearest idle deadline: a session idle longer
 * than idle_timeout_ms is closed; one whose keepalive is due gets one.
 * Keepalives due within POOL_KA_SLACK_MS go out in the same wake, so 2,000
 * sessions at 15 s cost about one wake a second, not 130.  Idle keepalives
 * ask for no reply: a reply would stay unread in the socket (and then in
 * libssh2's packet list) until the next call, growing without bound over
 * a long idle.  They keep the TCP path and firewalls alive; a dead server
 * shows up as EPOLLRDHUP at once (a frozen one only at the next call, whose
 * timeout bounds it).
 *
 * A take of a warm session checks it without blocking: healthy, and no
 * hang-up or error pending on the socket (poll with timeout 0).  A dead
 * one is closed and a new one opened, before the caller's first call;
 * the open checks the host key again.  The pool itself never sends a
 * call.  Opening, closing and keepalives are done outside the pool's
 * lock: the lock guards only the entries' states, the idle list and the
 * counts; a connection leaving an entry to be closed is first taken out
 * of it, so nobody else can reach it.
 *
 * The limit: sessions open (idle + busy) stay within max_sessions by
 * closing the least recently used idle session when a take needs a new
 * one; busy sessions are never cut, so while every session is busy a take
 * opens one more, and the surplus is closed at its give.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "pool_int.h"

#define POOL_KA_SLACK_MS	1000	/* keepalives due this soon: same wake */
#define POOL_POLL_MAX_MS	60000	/* longest single poll, for sanity */
#define POOL_EVENTS_MAX		64	/* epoll events taken per wait */
#define POOL_DEAD_EVENTS	(POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)


static uint64_t
pool_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The entry for name, or NULL; lock held. */
static struct pool_entry *
pool_find(struct dx_pool *p, const char *name)
{
	size_t i, mask = p->tabsize - 1;

	if (p->tabsize == 0)
		return NULL;
	for (i = pool_hash(name) & mask; p->tab[i] != NULL; i = (i + 1) & mask)
		if (strcmp(p->tab[i]->name, name) == 0)
			return p->tab[i];
	return NULL;
}

/* Inserts e into a table of size size (free slots guaranteed). */
static void
pool_place(struct pool_entry **tab, size_t size, struct pool_entry *e)
{
	size_t i, mask = size - 1;

	for (i = pool_hash(e->name) & mask; tab[i] != NULL; i = (i + 1) & mask)
		;
	tab[i] = e;
}

/* The entry for name, made if new; NULL when out of memory.  Lock held. */
static struct pool_entry *
pool_entry_get(struct dx_pool *p, const char *name)
{
	struct pool_entry *e, **tab;
	size_t size;

	if ((e = pool_find(p, name)) != NULL)
		return e;
	if ((p->nent + 1) * 2 > p->tabsize) {
		size = p->tabsize ? p->tabsize * 2 : 64;
		if ((tab = calloc(size, sizeof(*tab))) == NULL)
			return NULL;
		for (size_t i = 0; i < p->tabsize; i++)
			if (p->tab[i] != NULL)
				pool_place(tab, size, p->tab[i]);
		free(p->tab);
		p->tab = tab;
		p->tabsize = size;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->name = strdup(name)) == NULL) {
		free(e);
		return NULL;
	}
	e->fd = -1;
	dx_throttle_init(&e->th);
	pool_place(p->tab, p->tabsize, e);
	p->nent++;
	return e;
}

/*
 * Wakes the thread unless it wakes by `by` anyway (0: now; a give passes
 * its new idle session's first deadline, so a busy tick's gives wake it
 * rarely); lock held.
 */
static void
pool_wake(struct dx_pool *p, int64_t by)
{
	uint64_t one = 1;

	if (p->woken || (by != 0 && p->sleep_until <= by))
		return;
	p->woken = true;
	if (write(p->efd, &one, sizeof(one)) == -1) {
		/* Full (never, with one write per read) or closed: nothing to do. */
	}
}

/* Takes e off the idle list (it is IDLE or KEEPALIVE); lock held. */
static void
pool_unlink(struct dx_pool *p, struct pool_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		p->lru = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		p->mru = e->prev;
	e->prev = e->next = NULL;
	/* Before anyone can close it: a closed descriptor leaves by itself. */
	if (e->fd >= 0)
		epoll_ctl(p->epfd, EPOLL_CTL_DEL, e->fd, NULL);
	e->fd = -1;
	p->nwarm--;
}

/*
 * Takes an idle session out of e for closing: e is CLOSED after, and the
 * connection returned is nobody else's.  Lock held.
 */
static struct dx_conn *
pool_unidle(struct dx_pool *p, struct pool_entry *e)
{
	struct dx_conn *c = e->c;

	pool_unlink(p, e);
	e->c = NULL;
	e->state = POOL_CLOSED;
	return c;
}

void
pool_close(struct dx_conn *c)
{
	if (c == NULL)
		return;
	if (dx_conn_attach(c, NULL) == 0) {
		dx_conn_close(c, NULL);
		dx_conn_detach(c, NULL);
	}
	dx_conn_free(c);
}

/* The least recently used IDLE entry (not one in a keepalive), or NULL. */
static struct pool_entry *
pool_lru_idle(struct dx_pool *p)
{
	struct pool_entry *e;

	for (e = p->lru; e != NULL && e->state != POOL_IDLE; e = e->next)
		;
	return e;
}

bool
pool_full(const struct dx_pool *p, size_t extra)
{
	return p->opts.max_sessions != 0 &&
	    p->nwarm + p->nbusy + p->nreopen + extra > p->opts.max_sessions;
}

/* A wall-clock time for monotonic ms mono (now: dx_now_ms()). */
static int64_t
pool_realtime(int64_t mono)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
	    (mono - dx_now_ms());
}

static void
pool_iso(char *buf, size_t size, int64_t realtime_ms)
{
	time_t s = (time_t)(realtime_ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Milliseconds until the nearest idle deadline (-1: none); lock held. */
static int
pool_next_ms(struct dx_pool *p, int64_t now)
{
	struct pool_entry *e;
	int64_t t = now + POOL_POLL_MAX_MS, d;

	for (e = p->lru; e != NULL; e = e->next) {
		if (e->state != POOL_IDLE)
			continue;
		if (p->opts.idle_timeout_ms > 0 &&
		    (d = e->idle_since + p->opts.idle_timeout_ms) < t)
			t = d;
		if (e->ka_due != 0 && e->ka_due < t)
			t = e->ka_due;
	}
	return t <= now ? 0 : (int)(t - now);
}

/* A growable list of connections to close, or entries to keep alive. */
struct pool_list {
	void			**v;
	size_t			 n, cap;
};

static int
pool_list_add(struct pool_list *l, void *x)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		void **v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = x;
	return 0;
}

/* Closes every connection of l; lock not held. */
static void
pool_list_close(struct pool_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		pool_close(l->v[i]);
	l->n = 0;
}

/* True when fd has a hang-up or an error pending (no waiting). */
static bool
pool_hung_up(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POOL_DEAD_EVENTS) != 0;
}

/*
 * One pass of the thread over what epoll saw and the idle deadlines: dead
 * and expired sessions go to dead, due keepalives to ka (their entries
 * made KEEPALIVE).  Lock held.
 */
static void
pool_scan(struct dx_pool *p, const struct epoll_event *ev, int nev,
    int64_t now, struct pool_list *dead, struct pool_list *ka)
{
	struct pool_entry *e, *next;
	struct dx_conn *c;

	for (int i = 0; i < nev; i++) {
		/*
		 * The event may be older than the entry's current idle
		 * session (taken and given back meanwhile): its own socket
		 * is asked again.
		 */
		if ((e = ev[i].data.ptr) == NULL || e->state != POOL_IDLE ||
		    !pool_hung_up(e->fd))
			continue;
		c = pool_unidle(p, e);
		pool_reopen_queue(p, e, dx_conn_target(c));	/* died idle */
		if (pool_list_add(dead, c) == -1)
			pool_close(c);	/* out of memory: close it here */
	}
	for (e = p->lru; e != NULL; e = next) {
		next = e->next;
		if (e->state != POOL_IDLE)
			continue;
		if (p->opts.idle_timeout_ms > 0 &&
		    now - e->idle_since >= p->opts.idle_timeout_ms) {
			c = pool_unidle(p, e);
			if (pool_list_add(dead, c) == -1)
				pool_close(c);
		} else if (e->ka_due != 0 && e->ka_due <= now + POOL_KA_SLACK_MS &&
		    pool_list_add(ka, e) == 0)
			e->state = POOL_KEEPALIVE;
	}
}

/* Sends the keepalives of ka (KEEPALIVE entries); lock not held. */
static void
pool_keepalives(struct pool_list *ka, bool *ok)
{
	for (size_t i = 0; i < ka->n; i++) {
		struct pool_entry *e = ka->v[i];
		struct dx_conn *c = e->c;	/* stable while KEEPALIVE */

		ok[i] = false;
		if (dx_conn_attach(c, NULL) == 0) {
			ok[i] = dx_conn_keepalive(c, false, NULL) == 0;
			dx_conn_detach(c, NULL);
		}
	}
}

static void *
pool_main(void *arg)
{
	struct dx_pool *p = arg;
	struct epoll_event ev[POOL_EVENTS_MAX];
	struct pool_list dead = { 0 }, ka = { 0 };
	bool *ok = NULL;
	size_t okcap = 0;
	uint64_t v;
	int64_t now;
	int ms, nev;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		now = dx_now_ms();
		ms = pool_next_ms(p, now);
		p->sleep_until = now + ms;
		pthread_mutex_unlock(&p->lock);

		if ((nev = epoll_wait(p->epfd, ev, POOL_EVENTS_MAX, ms)) == -1)
			nev = 0;	/* EINTR: look again */
		for (int i = 0; i < nev; i++)
			if (ev[i].data.ptr == NULL &&
			    read(p->efd, &v, sizeof(v)) == -1) {
				/* EAGAIN: another wake was read already. */
			}

		pthread_mutex_lock(&p->lock);
		for (int i = 0; i < nev; i++)
			if (ev[i].data.ptr == NULL)
				p->woken = false;
		now = dx_now_ms();
		pool_scan(p, ev, nev, now, &dead, &ka);
		if (dead.n > 0 || ka.n > 0) {
			pthread_mutex_unlock(&p->lock);
			pool_list_close(&dead);
			if (ka.n > okcap) {
				bool *o = realloc(ok, ka.n * sizeof(*o));

				if (o != NULL) {
					ok = o;
					okcap = ka.n;
				}
			}
			if (ka.n <= okcap)
				pool_keepalives(&ka, ok);
			pthread_mutex_lock(&p->lock);
			now = dx_now_ms();
			for (size_t i = 0; i < ka.n; i++) {
				struct pool_entry *e = ka.v[i];
				int every = dx_conn_target(e->c)->keepalive_s;

				e->state = POOL_IDLE;
				e->ka_due = now + (int64_t)every * 1000;
				if (ka.n <= okcap && !ok[i]) {
					struct dx_conn *c = pool_unidle(p, e);

					pool_reopen_queue(p, e, dx_conn_target(c));
					if (pool_list_add(&dead, c) == -1)
						pool_close(c);
				}
			}
			ka.n = 0;
			pthread_cond_broadcast(&p->cond);
			if (dead.n > 0) {
				pthread_mutex_unlock(&p->lock);
				pool_list_close(&dead);
				pthread_mutex_lock(&p->lock);
			}
		}
	}
	pthread_mutex_unlock(&p->lock);
	free(dead.v);
	free(ka.v);
	free(ok);
	return NULL;
}

struct dx_pool *
dx_pool_new(const struct dx_pool_opts *opts, struct dx_conn_shared *shared,
    struct dx_err *err)
{
	struct dx_pool *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto oom;
	p->opts = *opts;
	p->shared = shared;
	p->epfd = -1;
	if ((p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1 ||
	    (p->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->efd, &(struct epoll_event){
	    .events = EPOLLIN, .data.ptr = NULL }) == -1) {
		dx_err_set(err, DX_INTERNAL, "cannot make the session pool's "
		    "epoll set: %s", strerror(errno));
		if (p->efd >= 0)
			close(p->efd);
		if (p->epfd >= 0)
			close(p->epfd);
		free(p);
		return NULL;
	}
	if (pthread_mutex_init(&p->lock, NULL) != 0)
		goto oom_fd;
	if (pthread_cond_init(&p->cond, NULL) != 0) {
		pthread_mutex_destroy(&p->lock);
		goto oom_fd;
	}
	if (pool_reopen_init(p) == -1) {
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->lock);
		goto oom_fd;
	}
	if (pthread_create(&p->thread, NULL, pool_main, p) != 0) {
		pool_reopen_fini(p);
		pthread_cond_destroy(&p->cond);
		pthread_mutex_destroy(&p->lock);
		dx_err_set(err, DX_INTERNAL, "cannot start the session pool's "
		    "thread");
		close(p->efd);
		close(p->epfd);
		free(p);
		return NULL;
	}
	return p;
oom_fd:
	close(p->efd);
	close(p->epfd);
	free(p);
oom:
	dx_err_set(err, DX_INTERNAL, "out of memory making the session pool");
	return NULL;
}

void
dx_pool_free(struct dx_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	p->woken = false;
	pool_wake(p, 0);
	pool_reopen_stop(p);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pool_reopen_fini(p);	/* after: the pool's thread starts it */
	for (size_t i = 0; i < p->tabsize; i++) {
		struct pool_entry *e = p->tab[i];

		if (e == NULL)
			continue;
		pool_close(e->c);
		dx_throttle_release(&e->th);
		free(e->name);
		free(e);
	}
	free(p->tab);
	close(p->efd);
	close(p->epfd);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* True when a warm session looks usable: no blocking, no bytes read. */
static bool
pool_alive(struct dx_conn *c)
{
	struct pollfd pfd;

	if (!dx_conn_healthy(c) || (pfd.fd = dx_conn_fd(c)) < 0)
		return false;
	pfd.events = POLLRDHUP;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) == -1)
		return errno == EINTR;
	return (pfd.revents & POOL_DEAD_EVENTS) == 0;
}

/* Ends a take that failed: e back to CLOSED, waiters woken; lock held. */
static void
pool_take_failed(struct dx_pool *p, struct pool_entry *e)
{
	e->state = POOL_CLOSED;
	p->nbusy--;
	pthread_cond_broadcast(&p->cond);
}

/*
 * Reserves e for this thread (BUSY) with a connection for t: its warm one
 * when *warm comes back true, else a closed one to open.  *evict: an idle
 * session closed to stay within the limit; *old: a connection for another
 * target.  Both are the caller's to close after unlocking.  Lock held;
 * returns 0 or -1 + err.
 */
static int
pool_reserve(struct dx_pool *p, struct pool_entry *e, const struct dx_target *t,
    bool *warm, struct dx_conn **evict, struct dx_conn **old,
    struct dx_err *err)
{
	struct pool_entry *v;

	*warm = false;
	if (e->state == POOL_IDLE) {
		pool_unlink(p, e);
		e->state = POOL_BUSY;
		p->nbusy++;
		if (dx_conn_target(e->c) == t) {
			*warm = true;
			return 0;
		}
		*old = e->c;
		e->c = NULL;
	} else {
		if (pool_full(p, 1) && (v = pool_lru_idle(p)) != NULL)
			*evict = pool_unidle(p, v);
		e->state = POOL_BUSY;
		p->nbusy++;
	}
	if (e->c != NULL && dx_conn_target(e->c) != t) {
		*old = e->c;
		e->c = NULL;
	}
	if (e->c == NULL && (e->c = dx_conn_new(t, p->shared, err)) == NULL) {
		pool_take_failed(p, e);
		return -1;
	}
	return 0;
}

struct dx_conn *
dx_pool_take(struct dx_pool *p, const struct dx_target *t,
    const struct dx_ctl *ctl, struct dx_err *err)
{
	struct pool_entry *e;
	struct dx_conn *c, *evict = NULL, *old = NULL;
	int64_t now, until;
	char when[32];
	bool warm;
	int n;

	pthread_mutex_lock(&p->lock);
	if ((e = pool_entry_get(p, t->name)) == NULL) {
		pthread_mutex_unlock(&p->lock);
		dx_err_set(err, DX_INTERNAL, "out of memory taking a session "
		    "to '%s'", t->name);
		return NULL;
	}
	while (e->state == POOL_BUSY || e->state == POOL_KEEPALIVE ||
	    e->state == POOL_REOPEN)
		pthread_cond_wait(&p->cond, &p->lock);
	now = dx_now_ms();
	if ((until = dx_throttle_until(&e->th, p->opts.throttle_failures,
	    p->opts.throttle_window_ms, now)) != 0) {
		n = dx_throttle_count(&e->th, p->opts.throttle_window_ms, now);
		pthread_mutex_unlock(&p->lock);
		pool_iso(when, sizeof(when), pool_realtime(until));
		dx_err_set(err, DX_THROTTLED, "drone '%s' is throttled until %s: "
		    "%d failures to connect within %lld s", t->name, when, n,
		    (long long)(p->opts.throttle_window_ms / 1000));
		return NULL;
	}
	e->stale = false;
	pool_reopen_dequeue(p, e);	/* this take opens it, if closed */
	if (pool_reserve(p, e, t, &warm, &evict, &old, err) == -1) {
		pthread_mutex_unlock(&p->lock);
		pool_close(evict);
		pool_close(old);
		return NULL;
	}
	c = e->c;	/* ours while BUSY */
	pthread_mutex_unlock(&p->lock);
	pool_close(evict);
	pool_close(old);

	if (dx_conn_attach(c, err) == -1)
		goto fail;
	if (warm && pool_alive(c))
		return c;
	if (warm)
		dx_conn_close(c, NULL);	/* dead while idle: open a new one */
	if (dx_conn_open(c, ctl, err) == 0) {
		pthread_mutex_lock(&p->lock);
		dx_throttle_reset(&e->th);
		pthread_mutex_unlock(&p->lock);
		return c;
	}
	dx_conn_detach(c, NULL);
fail:
	pthread_mutex_lock(&p->lock);
	if (dx_kind_unreached(err->kind) && p->opts.throttle_failures > 0)
		dx_throttle_fail(&e->th, p->opts.throttle_failures, dx_now_ms());
	pool_take_failed(p, e);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int
pool_park(struct dx_pool *p, struct pool_entry *e, int fd)
{
	const struct dx_target *t = dx_conn_target(e->c);
	int64_t by;

	if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, fd, &(struct epoll_event){
	    .events = EPOLLRDHUP, .data.ptr = e }) == -1)
		return -1;
	e->state = POOL_IDLE;
	e->fd = fd;
	e->idle_since = dx_now_ms();
	e->ka_due = t->keepalive_s > 0 ?
	    e->idle_since + (int64_t)t->keepalive_s * 1000 : 0;
	e->prev = p->mru;
	e->next = NULL;
	if (p->mru != NULL)
		p->mru->next = e;
	else
		p->lru = e;
	p->mru = e;
	p->nwarm++;
	by = e->idle_since + POOL_POLL_MAX_MS;
	if (e->ka_due != 0 && e->ka_due < by)
		by = e->ka_due;
	if (p->opts.idle_timeout_ms > 0 &&
	    e->idle_since + p->opts.idle_timeout_ms < by)
		by = e->idle_since + p->opts.idle_timeout_ms;
	pool_wake(p, by);
	return 0;
}

void
dx_pool_give(struct dx_pool *p, struct dx_conn *c)
{
	const struct dx_target *t = dx_conn_target(c);
	struct pool_entry *e;
	bool keep = dx_conn_healthy(c);
	int fd = dx_conn_fd(c);

	if (!keep)
		dx_conn_close(c, NULL);
	dx_conn_detach(c, NULL);
	pthread_mutex_lock(&p->lock);
	e = pool_find(p, t->name);
	if (e == NULL || e->c != c || e->state != POOL_BUSY) {
		/* Not the pool's: nothing is tracked for it. */
		pthread_mutex_unlock(&p->lock);
		return;
	}
	p->nbusy--;
	if (keep && !e->stale && !pool_full(p, 1) && pool_park(p, e, fd) == 0) {
		c = NULL;
	} else {
		e->state = POOL_CLOSED;
		e->c = NULL;
	}
	e->stale = false;
	pthread_mutex_unlock(&p->lock);
	pthread_cond_broadcast(&p->cond);
	pool_close(c);
}

void
dx_pool_forget(struct dx_pool *p, const char *name)
{
	struct pool_entry *e;
	struct dx_conn *c = NULL;

	pthread_mutex_lock(&p->lock);
	if ((e = pool_find(p, name)) != NULL) {
		/*
		 * A keepalive in flight: wait for it, it is short.  A
		 * background open: cut it (stale: dropped) and wait, since
		 * the target may go once this returns.
		 */
		pool_reopen_dequeue(p, e);
		while (e->state == POOL_KEEPALIVE || e->state == POOL_REOPEN) {
			if (e->state == POOL_REOPEN) {
				e->stale = true;
				pool_reopen_abort(p);
			}
			pthread_cond_wait(&p->cond, &p->lock);
		}
		if (e->state == POOL_IDLE)
			c = pool_unidle(p, e);
		else if (e->state == POOL_BUSY)
			e->stale = true;
		else {
			c = e->c;
			e->c = NULL;
		}
		dx_throttle_reset(&e->th);
	}
	pthread_mutex_unlock(&p->lock);
	pool_close(c);
}

int
dx_pool_resize(struct dx_pool *p, size_t max_sessions)
{
	struct pool_list dead = { 0 };
	struct pool_entry *e;
	struct dx_conn *c;

	pthread_mutex_lock(&p->lock);
	p->opts.max_sessions = max_sessions;
	while (pool_full(p, 0) && (e = pool_lru_idle(p)) != NULL) {
		c = pool_unidle(p, e);
		if (pool_list_add(&dead, c) == -1) {
			pthread_mutex_unlock(&p->lock);
			pool_close(c);
			pthread_mutex_lock(&p->lock);
		}
	}
	pool_wake(p, 0);
	pthread_mutex_unlock(&p->lock);
	pool_list_close(&dead);
	free(dead.v);
	return 0;
}

void
dx_pool_stats(struct dx_pool *p, struct dx_pool_stats *st)
{
	pthread_mutex_lock(&p->lock);
	st->warm = p->nwarm;
	st->busy = p->nbusy;
	st->max = p->opts.max_sessions;
	st->reopening = p->nreopen;
	st->reopened = p->reopened;
	st->reopen_failed = p->reopen_failed;
	pthread_mutex_unlock(&p->lock);
}

void
dx_pool_cooled(struct dx_pool *p, void (*cb)(void *, const char *, int, int64_t),
    void *arg)
{
	int64_t now = dx_now_ms(), until;
	struct pool_entry *e;

	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->tabsize; i++) {
		if ((e = p->tab[i]) == NULL)
			continue;
		if ((until = dx_throttle_until(&e->th, p->opts.throttle_failures,
		    p->opts.throttle_window_ms, now)) == 0)
			continue;
		cb(arg, e->name, dx_throttle_count(&e->th,
		    p->opts.throttle_window_ms, now), pool_realtime(until));
	}
	pthread_mutex_unlock(&p->lock);
}
