/*
 * pool_reopen.c - the warm pool's background re-opener: a session that
 * died while idle (a hang-up seen by the pool's thread, or a failed idle
 * keepalive) is opened again before any request needs it, so the tick
 * after a server restart finds it warm instead of paying the login.
 *
 * One thread at most, started at the first death and kept until the
 * pool is freed (asleep on a condition variable it costs nothing, and a
 * thread that never ends needs no hand-over between an ending thread and
 * a new death).  It works through a FIFO of dead drones, each not before
 * POOL_REOPEN_DELAY_MS after its death (the server was just restarted),
 * ONE attempt per death: a failure leaves the drone closed (the next take
 * opens it as before) and counts neither for throttling nor for a retry.
 * A success clears the drone's throttle failures, as a take's open does.
 *
 * While the open runs the entry is REOPEN: a take waits for it (p->cond)
 * and then finds the session warm, or the drone closed and opens it
 * itself; a take of a drone still waiting on the FIFO takes it off and
 * opens as usual.  A forget writes the open's abort eventfd and waits; a
 * pool free does the same, then joins.  The open in flight counts toward
 * max_sessions; it is skipped when the pool is full (no eviction for a
 * background open).  Sessions closed by idle timeout, the limit or a
 * forget are never queued.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "pool_int.h"

#define POOL_REOPEN_DELAY_MS	150	/* after a death, before the attempt */
#define POOL_REOPEN_BUDGET_MS	60000	/* the open's deadline, at most */

int
pool_reopen_init(struct dx_pool *p)
{
	pthread_condattr_t ca;

	if ((p->rabort = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		return -1;
	if (pthread_condattr_init(&ca) != 0)
		goto fail;
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_cond_init(&p->rcond, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		goto fail;
	}
	pthread_condattr_destroy(&ca);
	p->rctl.abort_fd = p->rabort;
	return 0;
fail:
	close(p->rabort);
	p->rabort = -1;
	return -1;
}

static void
reopen_signal(struct dx_pool *p)
{
	uint64_t one = 1;

	if (write(p->rabort, &one, sizeof(one)) == -1) {
		/* Full (never) or closed: nothing to do. */
	}
}

void
pool_reopen_abort(struct dx_pool *p)
{
	reopen_signal(p);
}

void
pool_reopen_stop(struct dx_pool *p)
{
	reopen_signal(p);
	pthread_cond_broadcast(&p->rcond);
}

void
pool_reopen_fini(struct dx_pool *p)
{
	bool started;

	pthread_mutex_lock(&p->lock);
	started = p->rstarted;
	pthread_mutex_unlock(&p->lock);
	if (started)
		pthread_join(p->rthread, NULL);
	pthread_cond_destroy(&p->rcond);
	close(p->rabort);
}

void
pool_reopen_dequeue(struct dx_pool *p, struct pool_entry *e)
{
	if (!e->queued)
		return;
	if (e->rprev != NULL)
		e->rprev->rnext = e->rnext;
	else
		p->rhead = e->rnext;
	if (e->rnext != NULL)
		e->rnext->rprev = e->rprev;
	else
		p->rtail = e->rprev;
	e->rprev = e->rnext = NULL;
	e->queued = false;
	e->rtarget = NULL;
}

/* Opens a new session for t on this thread; the connection or NULL. */
static struct dx_conn *
reopen_open(struct dx_pool *p, const struct dx_target *t)
{
	struct dx_err err = { 0 };
	struct dx_conn *c;
	int64_t budget = (int64_t)t->connect_timeout_ms * 4;

	if (budget <= 0 || budget > POOL_REOPEN_BUDGET_MS)
		budget = POOL_REOPEN_BUDGET_MS;
	p->rctl.deadline = dx_now_ms() + budget;
	if ((c = dx_conn_new(t, p->shared, &err)) == NULL)
		return NULL;
	if (dx_conn_attach(c, &err) == -1) {
		dx_conn_free(c);
		return NULL;
	}
	if (dx_conn_open(c, &p->rctl, &err) == -1) {
		dx_conn_detach(c, NULL);
		dx_conn_free(c);
		return NULL;
	}
	dx_conn_detach(c, NULL);
	return c;
}

/* The open's end, lock held: e warm again or closed; *drop to close. */
static void
reopen_done(struct dx_pool *p, struct pool_entry *e, struct dx_conn *c,
    struct dx_conn **drop)
{
	uint64_t v;

	if (read(p->rabort, &v, sizeof(v)) == -1) {
		/* EAGAIN: nobody cut it. */
	}
	p->nreopen--;
	*drop = NULL;
	if (c != NULL && !p->stop && !e->stale) {
		e->c = c;
		if (pool_park(p, e, dx_conn_fd(c)) == 0) {
			dx_throttle_reset(&e->th);
			p->reopened++;
			return;
		}
		e->c = NULL;
	}
	if (c == NULL)
		p->reopen_failed++;
	*drop = c;
	e->state = POOL_CLOSED;
	e->stale = false;
}

static void *
reopen_main(void *arg)
{
	struct dx_pool *p = arg;
	struct pool_entry *e;
	const struct dx_target *t;
	struct dx_conn *c, *drop;
	struct timespec ts;
	int64_t now;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		if ((e = p->rhead) == NULL) {
			pthread_cond_wait(&p->rcond, &p->lock);
			continue;
		}
		now = dx_now_ms();
		if (e->rdue > now) {
			ts.tv_sec = (time_t)(e->rdue / 1000);
			ts.tv_nsec = (long)(e->rdue % 1000) * 1000000;
			pthread_cond_timedwait(&p->rcond, &p->lock, &ts);
			continue;
		}
		t = e->rtarget;
		pool_reopen_dequeue(p, e);
		if (e->state != POOL_CLOSED || e->c != NULL || pool_full(p, 1))
			continue;	/* taken meanwhile, or no room */
		e->state = POOL_REOPEN;
		p->nreopen++;
		pthread_mutex_unlock(&p->lock);

		c = reopen_open(p, t);

		pthread_mutex_lock(&p->lock);
		reopen_done(p, e, c, &drop);
		pthread_cond_broadcast(&p->cond);
		if (drop != NULL) {
			pthread_mutex_unlock(&p->lock);
			pool_close(drop);
			pthread_mutex_lock(&p->lock);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

void
pool_reopen_queue(struct dx_pool *p, struct pool_entry *e,
    const struct dx_target *t)
{
	if (p->stop || e->queued || e->state != POOL_CLOSED ||
	    p->opts.reopen_delay_ms < 0)
		return;
	if (!p->rstarted) {
		if (pthread_create(&p->rthread, NULL, reopen_main, p) != 0)
			return;	/* no thread: the next take reconnects */
		p->rstarted = true;
	}
	e->rtarget = t;
	e->rdue = dx_now_ms() + (p->opts.reopen_delay_ms > 0 ?
	    p->opts.reopen_delay_ms : POOL_REOPEN_DELAY_MS);
	e->queued = true;
	e->rnext = NULL;
	e->rprev = p->rtail;
	if (p->rtail != NULL)
		p->rtail->rnext = e;
	else
		p->rhead = e;
	p->rtail = e;
	pthread_cond_signal(&p->rcond);
}
