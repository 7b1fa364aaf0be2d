/*
 * jump.c - the jump registry (jump.h): requests, jump sessions and their
 * life cycle.
 *
 * Theory of operation.  The registry is a list of jump sessions (nodes),
 * each found by the key of its chain (hops.h) and run by one pump thread.  A request (one inner connection wanting a stream) is a small
 * struct handed to the node under the registry's lock; the requester then
 * waits on the request's own eventfd beside its abort pipe, so its wait
 * keeps the deadline and the abort of its drone.  The pump answers every
 * request exactly once: it opens the channel (libssh2 opens one
 * direct-tcpip channel at a time per session, so requests are opened in
 * turn), makes the channel a pipe relayed to the request's socketpair end,
 * and signals the eventfd; or it fails the request with the session's
 * error.  A requester that gives up marks its request abandoned; the pump
 * frees it (and a channel opened for it: the requester closed its end).
 *
 * Pump threads are joinable: one that ended puts itself on the registry's
 * list of ended pumps, which the next request (or dx_jump_reg_free())
 * joins, so that no thread outlives the registry, not even its exit.
 *
 * The references that keep a node alive are its requests and its pipes,
 * counted under the lock.  Requesters add them; only the pump drops them,
 * and the pump ends when the count is 0 after it took the node out of the
 * registry under the same lock, so nobody can find a node that is ending.
 *
 * The pump loop itself, which relays the channels, is pump.c.  When a
 * session dies (a fatal libssh2 error, a hang-up of its descriptor) every
 * pipe's end is shut down and closed, so the inner connections see the end
 * at once, every waiting request fails with the hop's error, and the node
 * leaves the registry: the next request for the chain starts a new one.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdwait.h"
#include "hops.h"
#include "jump_int.h"

static int jump_open_raw(struct dx_jump_reg *, const struct dx_target *,
    size_t, const char *, int, int64_t, const struct dx_ctl *, int *,
    struct dx_jump_fail *);

void
dx_jump_signal(int fd)
{
	uint64_t one = 1;
	ssize_t r;

	r = write(fd, &one, sizeof(one));
	(void)r;	/* a full counter is still readable: enough */
}

void
dx_jump_drain(int fd)
{
	uint64_t v;
	ssize_t r;

	r = read(fd, &v, sizeof(v));
	(void)r;
}

void
dx_jump_fail_set(struct dx_jump_fail *f, enum dx_kind kind, size_t hop,
    const char *name, bool channel, const char *fmt, ...)
{
	va_list ap;

	f->kind = kind;
	f->hop = hop;
	f->channel = channel;
	snprintf(f->name, sizeof(f->name), "%s", name);
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
}

/* Joins and frees a list of ended pumps. */
static void
jump_join(struct dx_jump_ended *e)
{
	struct dx_jump_ended *next;

	for (; e != NULL; e = next) {
		next = e->next;
		pthread_join(e->th, NULL);
		free(e);
	}
}

struct dx_jump_reg *
dx_jump_reg_new(struct dx_conn_shared *sh, struct dx_err *err)
{
	struct dx_jump_reg *reg;

	if ((reg = calloc(1, sizeof(*reg))) == NULL)
		goto oom;
	if (pthread_mutex_init(&reg->lock, NULL) != 0) {
		free(reg);
		goto oom;
	}
	if (pthread_cond_init(&reg->cond, NULL) != 0) {
		pthread_mutex_destroy(&reg->lock);
		free(reg);
		goto oom;
	}
	reg->sh = sh;
	return reg;
oom:
	dx_err_set(err, DX_INTERNAL, "out of memory starting the jump registry");
	return NULL;
}

void
dx_jump_reg_free(struct dx_jump_reg *reg)
{
	if (reg == NULL)
		return;
	pthread_mutex_lock(&reg->lock);
	reg->closing = true;
	for (struct dx_jump_node *j = reg->nodes; j != NULL; j = j->next) {
		dx_jump_signal(j->abortfd);
		dx_jump_signal(j->wake);
	}
	while (reg->npumps > 0)
		pthread_cond_wait(&reg->cond, &reg->lock);
	pthread_mutex_unlock(&reg->lock);
	jump_join(reg->ended);
	pthread_cond_destroy(&reg->cond);
	pthread_mutex_destroy(&reg->lock);
	free(reg);
}

size_t
dx_jump_reg_sessions(struct dx_jump_reg *reg)
{
	size_t n;

	pthread_mutex_lock(&reg->lock);
	n = reg->npumps;
	pthread_mutex_unlock(&reg->lock);
	return n;
}

/* Answers a request (lock held); frees it if its requester gave up. */
void
dx_jump_req_done(struct dx_jump_node *j, struct dx_jump_req *r, const struct dx_jump_fail *f)
{
	if (f != NULL && r->end != -1) {
		close(r->end);
		r->end = -1;
	}
	if (--j->refs == 0)
		dx_jump_signal(j->wake);
	if (f != NULL && r->state == JR_PENDING) {
		r->fail = *f;
	}
	if (r->state == JR_ABANDONED) {
		if (r->end != -1)
			close(r->end);
		close(r->evfd);
		free(r->host);
		free(r);
		return;
	}
	r->state = JR_DONE;
	dx_jump_signal(r->evfd);
}

/* The session is gone: everything behind it learns so now. */
void
dx_jump_die(struct dx_jump_node *j, const struct dx_jump_fail *f)
{
	struct dx_jump_reg *reg = j->reg;

	if (!j->dead) {
		j->dead = true;
		j->fail = *f;
	}
	if (j->c != NULL)
		dx_conn_mark_dead(j->c);
	pthread_mutex_lock(&reg->lock);
	j->findable = false;
	pthread_mutex_unlock(&reg->lock);
}

/* The hop's own failure as the requesters will see it. */
void
dx_jump_die_err(struct dx_jump_node *j, const struct dx_err *e)
{
	struct dx_jump_fail f;

	dx_jump_fail_set(&f, e->kind, j->n, j->hops[j->n - 1].name, false, "%s",
	    e->msg);
	dx_jump_die(j, &f);
}

void
dx_jump_die_lost(struct dx_jump_node *j, const char *why)
{
	struct dx_jump_fail f;

	dx_jump_fail_set(&f, DX_CONNECTION_LOST, j->n, j->hops[j->n - 1].name,
	    false, "connection to %s lost: %s", dx_conn_label(j->c), why);
	dx_jump_die(j, &f);
}

/* Opens the session to the last hop of the node's chain. */
static int
jump_connect(struct dx_jump_node *j)
{
	const struct dx_target *hop = &j->hops[j->n - 1];
	struct dx_transport tr;
	struct dx_jump_fail pf;
	struct dx_err e = { 0 };
	int fd;

	if ((j->c = dx_conn_new(hop, j->reg->sh, &e)) == NULL ||
	    dx_conn_attach(j->c, &e) == -1) {
		dx_jump_die_err(j, &e);
		return -1;
	}
	if (j->n == 1) {
		if (dx_conn_open(j->c, &j->ctl, &e) == -1) {
			dx_jump_die_err(j, &e);
			return -1;
		}
		return 0;
	}
	/* Hop n runs over a stream through hops 1..n-1. */
	if (jump_open_raw(j->reg, j->hops, j->n - 1, hop->host, hop->port,
	    hop->connect_timeout_ms, &j->ctl, &fd, &pf) == -1) {
		if (pf.channel) {
			/* Hop n-1 could not reach hop n: hop n's failure. */
			dx_jump_fail_set(&pf, pf.kind, j->n, hop->name, false,
			    "cannot be reached through jump host '%.64s': %s",
			    pf.name, pf.msg);
		}
		dx_jump_die(j, &pf);
		return -1;
	}
	if (dx_transport_adopt(&tr, fd, &e) == -1) {
		close(fd);
		dx_jump_die_err(j, &e);
		return -1;
	}
	if (dx_conn_open_over(j->c, &tr, &j->ctl, &e) == -1) {
		dx_jump_die_err(j, &e);
		return -1;
	}
	return 0;
}

/* Fails every request in the list (lock held). */
static void
jump_fail_list(struct dx_jump_node *j, struct dx_jump_req **list,
    const struct dx_jump_fail *f)
{
	struct dx_jump_req *r;

	while ((r = *list) != NULL) {
		*list = r->next;
		dx_jump_req_done(j, r, f);
	}
}

/*
 * Takes what requesters handed over; false when the pump is to end: no
 * references left (the node is then out of the registry), or the
 * registry is closing.
 */
bool
dx_jump_take(struct dx_jump_node *j)
{
	struct dx_jump_reg *reg = j->reg;
	struct dx_jump_req **tail, *r, **pp;
	struct dx_jump_fail f;
	bool go = true;

	pthread_mutex_lock(&reg->lock);
	for (tail = &j->opening; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = j->reqs;
	j->reqs = NULL;
	/* Abandoned requests whose channel is not being opened go now. */
	for (pp = j->opening != NULL ? &j->opening->next : NULL; pp != NULL &&
	    (r = *pp) != NULL; ) {
		if (r->state == JR_ABANDONED) {
			*pp = r->next;
			dx_jump_req_done(j, r, NULL);
		} else
			pp = &r->next;
	}
	if (reg->closing && !j->dead) {
		dx_jump_fail_set(&f, DX_INTERRUPTED, j->n, j->hops[j->n - 1].name,
		    false, "the executor is shutting down");
		j->dead = true;
		j->fail = f;
	}
	if (j->dead) {
		j->findable = false;
		jump_fail_list(j, &j->opening, &j->fail);
	}
	if (j->refs == 0 || reg->closing) {
		j->findable = false;
		go = j->refs != 0 && !reg->closing;
	}
	pthread_mutex_unlock(&reg->lock);
	return go;
}

static void *
jump_pump_main(void *arg)
{
	struct dx_jump_node *j = arg;
	struct dx_jump_reg *reg = j->reg;
	struct dx_jump_node **pp;

	if (jump_connect(j) == 0)
		libssh2_session_set_blocking(j->c->s, 0);
	dx_pump_loop(j);
	/* Out of the registry; nobody else can reach j now. */
	while (j->npipes > 0) {
		libssh2_channel_free(j->pipes[0]->ch);
		dx_pump_pipe_free(j, 0);
	}
	if (j->c != NULL) {
		dx_conn_close(j->c, NULL);
		dx_conn_detach(j->c, NULL);
		dx_conn_free(j->c);
	}
	for (size_t i = 0; i < j->n; i++)
		dx_target_release(&j->hops[i]);
	free(j->hops);
	free(j->pipes);
	free(j->pfd);
	free(j->key);
	close(j->wake);
	close(j->abortfd);
	pthread_mutex_lock(&reg->lock);
	for (pp = &reg->nodes; *pp != NULL; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	j->ended->next = reg->ended;
	reg->ended = j->ended;
	reg->npumps--;
	pthread_cond_broadcast(&reg->cond);
	pthread_mutex_unlock(&reg->lock);
	free(j);
	return NULL;
}

/* A new node for the chain, its pump started (lock held); NULL when OOM. */
static struct dx_jump_node *
jump_node_new(struct dx_jump_reg *reg, const struct dx_target *hops, size_t n,
    char *key)
{
	struct dx_jump_node *j;
	size_t i;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	j->wake = j->abortfd = -1;
	if ((j->ended = calloc(1, sizeof(*j->ended))) == NULL)
		goto fail;
	if ((j->hops = calloc(n, sizeof(*j->hops))) == NULL)
		goto fail;
	for (i = 0; i < n; i++)
		if (dx_hops_copy_target(&j->hops[i], &hops[i]) == -1)
			goto fail;
	j->n = n;
	if ((j->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1 ||
	    (j->abortfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		goto fail;
	j->reg = reg;
	j->key = key;
	j->ctl.abort_fd = j->abortfd;
	j->findable = true;
	/* Joinable: whoever joins it knows its thread-local state is gone. */
	if (pthread_create(&j->ended->th, NULL, jump_pump_main, j) != 0)
		goto fail;
	j->next = reg->nodes;
	reg->nodes = j;
	reg->npumps++;
	return j;
fail:
	if (j->hops != NULL)
		for (i = 0; i < n; i++)
			dx_target_release(&j->hops[i]);
	free(j->hops);
	if (j->wake != -1)
		close(j->wake);
	if (j->abortfd != -1)
		close(j->abortfd);
	free(j->ended);
	free(j);
	return NULL;
}

/* The longest the pump can take to answer: every hop's budgets, and more. */
static int64_t
jump_bound(const struct dx_target *hops, size_t n, int64_t budget_ms)
{
	int64_t b = budget_ms;

	for (size_t i = 0; i < n; i++)
		b += hops[i].connect_timeout_ms * (1 + DX_CONN_KEX_FACTOR) +
		    hops[i].connect_timeout_ms;
	return b + 5000;
}

static int
jump_open_raw(struct dx_jump_reg *reg, const struct dx_target *hops, size_t n,
    const char *host, int port, int64_t budget_ms, const struct dx_ctl *ctl,
    int *fd, struct dx_jump_fail *f)
{
	struct dx_jump_node *j;
	struct dx_jump_req *r;
	struct dx_jump_ended *ended;
	struct dx_err e = { 0 };
	char *key, what[200], tbuf[32];
	int sp[2] = { -1, -1 }, w;
	int64_t until;

	*fd = -1;
	memset(f, 0, sizeof(*f));
	if ((key = dx_hops_key(hops, n)) == NULL ||
	    (r = calloc(1, sizeof(*r))) == NULL) {
		free(key);
		dx_jump_fail_set(f, DX_INTERNAL, n, hops[n - 1].name, false,
		    "out of memory");
		return -1;
	}
	r->evfd = -1;
	r->port = port;
	r->budget_ms = budget_ms;
	if ((r->host = strdup(host)) == NULL ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
	    sp) == -1 ||
	    (r->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		dx_jump_fail_set(f, DX_INTERNAL, n, hops[n - 1].name, false,
		    "cannot make a stream through the jump host: %s",
		    r->host == NULL ? "out of memory" : strerror(errno));
		goto fail;
	}
	r->end = sp[1];
	pthread_mutex_lock(&reg->lock);
	/* Pumps that ended are joined here, now and then, off the lock. */
	ended = reg->ended;
	reg->ended = NULL;
	for (j = reg->nodes; j != NULL; j = j->next)
		if (j->findable && strcmp(j->key, key) == 0)
			break;
	if (j == NULL && !reg->closing && (j = jump_node_new(reg, hops, n, key)) != NULL)
		key = NULL;
	if (j == NULL) {
		pthread_mutex_unlock(&reg->lock);
		jump_join(ended);
		dx_jump_fail_set(f, DX_INTERNAL, n, hops[n - 1].name, false,
		    "cannot start the jump session: %s", reg->closing ?
		    "the executor is shutting down" : "out of resources");
		goto fail;
	}
	free(key);
	key = NULL;
	j->refs++;
	r->next = j->reqs;	/* order among simultaneous requests is free */
	j->reqs = r;
	dx_jump_signal(j->wake);
	pthread_mutex_unlock(&reg->lock);
	jump_join(ended);

	snprintf(what, sizeof(what), " while waiting for jump host '%.64s'",
	    hops[n - 1].name);
	until = dx_now_ms() + jump_bound(hops, n, budget_ms);
	w = dx_fd_wait(r->evfd, POLLIN, until, ctl, what, &e);
	pthread_mutex_lock(&reg->lock);
	if (r->state != JR_DONE) {
		/* Given up: the pump frees r when it gets to it. */
		r->state = JR_ABANDONED;
		dx_jump_signal(j->wake);
		pthread_mutex_unlock(&reg->lock);
		close(sp[0]);
		if (w == DX_WAIT_EXPIRED)
			dx_jump_fail_set(f, DX_CONNECT_TIMEOUT, n, hops[n - 1].name,
			    false, "no stream through the jump host within %s",
			    dx_fmt_secs(tbuf, sizeof(tbuf),
			    jump_bound(hops, n, budget_ms)));
		else
			dx_jump_fail_set(f, e.kind, 0, "", false, "%s", e.msg);
		return -1;
	}
	pthread_mutex_unlock(&reg->lock);
	*f = r->fail;
	close(r->evfd);
	free(r->host);
	free(r);
	if (f->kind != DX_OK) {
		close(sp[0]);
		return -1;
	}
	*fd = sp[0];
	return 0;
fail:
	if (sp[0] != -1) {
		close(sp[0]);
		close(sp[1]);
	}
	if (r->evfd != -1)
		close(r->evfd);
	free(r->host);
	free(r);
	free(key);
	return -1;
}

int
dx_jump_open(struct dx_jump_reg *reg, const struct dx_target *hops, size_t n,
    const char *host, int port, int64_t budget_ms, const struct dx_ctl *ctl,
    int *fd, struct dx_err *err)
{
	struct dx_jump_fail f;

	if (jump_open_raw(reg, hops, n, host, port, budget_ms, ctl, fd, &f) == 0)
		return 0;
	if (f.hop == 0)		/* the requester's own deadline or abort */
		return dx_err_set(err, f.kind, "%s", f.msg);
	if (f.channel)
		return dx_err_set(err, f.kind, "jump host '%.64s' (hop %zu of %zu) "
		    "%s", f.name, f.hop, n, f.msg);
	return dx_err_set(err, f.kind, "jump host '%.64s' (hop %zu of %zu): %s",
	    f.name, f.hop, n, f.msg);
}
