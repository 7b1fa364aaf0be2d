/*
 * jump.c - the jump registry and its pumps (jump.h).
 *
 * Theory of operation.  The registry is a list of jump sessions (nodes),
 * each found by the key of its chain (hops.h) and run by one detached pump
 * thread.  A request (one inner connection wanting a stream) is a small
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
 * The pump loop (LIBSSH2-NOTES, "Jump hosts and warm sessions"): one
 * poll() over the session's descriptor, the node's wake eventfd and every
 * pipe's socketpair end.  After every wake, every pipe is pumped until
 * nothing moves, since reading one channel can queue another channel's
 * data inside libssh2 where poll() cannot see it.  A write that said
 * EAGAIN is half sent: that pipe is the session's pending writer and is
 * retried, with the same bytes, before any other pipe writes; a channel
 * whose send window is closed is not written to at all (it would block
 * everybody behind it).  POLLIN on the session is asked only while some
 * pipe can take data or a channel is opening: keepalive replies that
 * nobody reads would otherwise keep an idle socket readable forever.
 * The session dies on any fatal libssh2 error or a hang-up of its
 * descriptor; then every pipe's end is shut down and closed (the inner
 * connections see the end at once) and every request fails with the hop's
 * error.
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

#include "conn_int.h"
#include "fdwait.h"
#include "hops.h"
#include "jump.h"

#define JUMP_BUF		32768	/* per direction per pipe */
#define JUMP_POLL_MAX_MS	60000
#define JUMP_CLOSE_MAX_MS	5000	/* wait for a channel's close, at most */

/* What failed, hop by hop: the requester formats it with its own chain. */
struct jump_fail {
	enum dx_kind	 kind;		/* DX_OK: no failure */
	size_t		 hop;		/* 1-based index of the failing hop */
	bool		 channel;	/* the last hop could not reach host */
	char		 name[128];	/* the failing hop's name */
	char		 msg[256];
};

enum jump_req_state { JR_PENDING, JR_DONE, JR_ABANDONED };

struct jump_req {
	struct jump_req	*next;
	char		*host;
	int		 port;
	int64_t		 budget_ms;
	int64_t		 until;		/* pump: the channel's open deadline */
	int		 end;		/* the pump's end of the socketpair */
	int		 evfd;		/* signalled once the request is done */
	enum jump_req_state state;	/* reg->lock */
	struct jump_fail fail;		/* reg->lock; valid when JR_DONE */
};

struct jump_pipe {
	LIBSSH2_CHANNEL	*ch;
	int		 fd;
	char		 up[JUMP_BUF];	/* fd -> channel */
	size_t		 uplen, upoff;
	char		 down[JUMP_BUF]; /* channel -> fd */
	size_t		 downlen, downoff;
	bool		 rd;		/* fd may have data (poll said so) */
	bool		 fd_eof;	/* the inner end stopped writing */
	bool		 eof_sent;	/* ... and the channel was told */
	bool		 ch_eof;	/* the server's end stopped writing */
	bool		 closing;	/* freeing the channel */
	int64_t		 close_since;	/* when the freeing started */
};

/* An ended pump thread, to be joined (its thread-local state freed). */
struct jump_ended {
	struct jump_ended *next;
	pthread_t	 th;
};

struct jump_node {
	struct dx_jump_reg *reg;
	struct jump_ended *ended;	/* made with the node, used at its end */
	struct jump_node *next;		/* reg->lock */
	char		*key;
	struct dx_target *hops;		/* copies of the chain */
	size_t		 n;
	int		 wake;		/* eventfd: new requests, abandons */
	int		 abortfd;	/* eventfd: the registry is closing */
	struct dx_ctl	 ctl;		/* the session's own: abortfd only */

	/* reg->lock */
	bool		 findable;	/* new requests may join */
	size_t		 refs;		/* requests and pipes */
	struct jump_req	*reqs;		/* handed over, not taken yet */

	/* The pump's own. */
	struct dx_conn	*c;
	struct jump_fail fail;		/* why the session died */
	bool		 dead;
	struct jump_req	*opening;	/* taken, in order; head is opened */
	struct jump_pipe **pipes;
	size_t		 npipes, cap;
	struct jump_pipe *pending;	/* its write is half sent */
	bool		 drained;	/* a channel read this round read the
					   socket: other channels' data is
					   queued in libssh2 now */
	struct pollfd	*pfd;
	size_t		 pfdcap;
};

struct dx_jump_reg {
	struct dx_conn_shared *sh;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;		/* a pump ended */
	struct jump_node *nodes;	/* every running pump's node */
	struct jump_ended *ended;	/* pumps that ended, not joined yet */
	size_t		 npumps;
	bool		 closing;
};

static int jump_open_raw(struct dx_jump_reg *, const struct dx_target *,
    size_t, const char *, int, int64_t, const struct dx_ctl *, int *,
    struct jump_fail *);

static void
jump_signal(int fd)
{
	uint64_t one = 1;
	ssize_t r;

	r = write(fd, &one, sizeof(one));
	(void)r;	/* a full counter is still readable: enough */
}

static void
jump_drain(int fd)
{
	uint64_t v;
	ssize_t r;

	r = read(fd, &v, sizeof(v));
	(void)r;
}

static void
jump_fail_set(struct jump_fail *f, enum dx_kind kind, size_t hop,
    const char *name, bool channel, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void
jump_fail_set(struct jump_fail *f, enum dx_kind kind, size_t hop,
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
jump_join(struct jump_ended *e)
{
	struct jump_ended *next;

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
	for (struct jump_node *j = reg->nodes; j != NULL; j = j->next) {
		jump_signal(j->abortfd);
		jump_signal(j->wake);
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
static void
jump_req_done(struct jump_node *j, struct jump_req *r, const struct jump_fail *f)
{
	if (f != NULL && r->end != -1) {
		close(r->end);
		r->end = -1;
	}
	if (--j->refs == 0)
		jump_signal(j->wake);
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
	jump_signal(r->evfd);
}

/* The session is gone: everything behind it learns so now. */
static void
jump_die(struct jump_node *j, const struct jump_fail *f)
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
static void
jump_die_err(struct jump_node *j, const struct dx_err *e)
{
	struct jump_fail f;

	jump_fail_set(&f, e->kind, j->n, j->hops[j->n - 1].name, false, "%s",
	    e->msg);
	jump_die(j, &f);
}

static void
jump_die_lost(struct jump_node *j, const char *why)
{
	struct jump_fail f;

	jump_fail_set(&f, DX_CONNECTION_LOST, j->n, j->hops[j->n - 1].name,
	    false, "connection to %s lost: %s", dx_conn_label(j->c), why);
	jump_die(j, &f);
}

/* Opens the session to the last hop of the node's chain. */
static int
jump_connect(struct jump_node *j)
{
	const struct dx_target *hop = &j->hops[j->n - 1];
	struct dx_transport tr;
	struct jump_fail pf;
	struct dx_err e = { 0 };
	int fd;

	if ((j->c = dx_conn_new(hop, j->reg->sh, &e)) == NULL ||
	    dx_conn_attach(j->c, &e) == -1) {
		jump_die_err(j, &e);
		return -1;
	}
	if (j->n == 1) {
		if (dx_conn_open(j->c, &j->ctl, &e) == -1) {
			jump_die_err(j, &e);
			return -1;
		}
		return 0;
	}
	/* Hop n runs over a stream through hops 1..n-1. */
	if (jump_open_raw(j->reg, j->hops, j->n - 1, hop->host, hop->port,
	    hop->connect_timeout_ms, &j->ctl, &fd, &pf) == -1) {
		if (pf.channel) {
			/* Hop n-1 could not reach hop n: hop n's failure. */
			jump_fail_set(&pf, pf.kind, j->n, hop->name, false,
			    "cannot be reached through jump host '%.64s': %s",
			    pf.name, pf.msg);
		}
		jump_die(j, &pf);
		return -1;
	}
	if (dx_transport_adopt(&tr, fd, &e) == -1) {
		close(fd);
		jump_die_err(j, &e);
		return -1;
	}
	if (dx_conn_open_over(j->c, &tr, &j->ctl, &e) == -1) {
		jump_die_err(j, &e);
		return -1;
	}
	return 0;
}

/* Fails every request in the list (lock held). */
static void
jump_fail_list(struct jump_node *j, struct jump_req **list,
    const struct jump_fail *f)
{
	struct jump_req *r;

	while ((r = *list) != NULL) {
		*list = r->next;
		jump_req_done(j, r, f);
	}
}

static void
jump_pipe_free(struct jump_node *j, size_t i)
{
	struct jump_pipe *p = j->pipes[i];

	if (j->pending == p)
		j->pending = NULL;
	shutdown(p->fd, SHUT_RDWR);
	close(p->fd);
	free(p);
	j->pipes[i] = j->pipes[--j->npipes];
	pthread_mutex_lock(&j->reg->lock);
	/* The last one: the loop must see it before it sleeps. */
	if (--j->refs == 0)
		jump_signal(j->wake);
	pthread_mutex_unlock(&j->reg->lock);
}

/* Takes the channel for the head request: a new pipe, or its failure. */
static void
jump_open_done(struct jump_node *j, LIBSSH2_CHANNEL *ch,
    const struct jump_fail *f)
{
	struct jump_req *r = j->opening;
	struct jump_pipe *p = NULL, **np;
	struct jump_fail oom;

	j->opening = r->next;
	if (ch != NULL) {
		if (j->npipes == j->cap) {
			size_t cap = j->cap ? j->cap * 2 : 16;

			if ((np = realloc(j->pipes, cap * sizeof(*np))) != NULL) {
				j->pipes = np;
				j->cap = cap;
			}
		}
		if (j->npipes < j->cap && (p = calloc(1, sizeof(*p))) != NULL) {
			p->ch = ch;
			p->fd = r->end;
			p->rd = true;
			r->end = -1;
			j->pipes[j->npipes++] = p;
		} else {
			libssh2_channel_free(ch);
			jump_fail_set(&oom, DX_INTERNAL, j->n, j->hops[j->n - 1].name,
			    false, "out of memory relaying a channel");
			f = &oom;
		}
	}
	pthread_mutex_lock(&j->reg->lock);
	if (p != NULL)
		j->refs++;	/* the pipe's own; the request's goes below */
	jump_req_done(j, r, f);
	pthread_mutex_unlock(&j->reg->lock);
}

/*
 * Moves the head request's channel open on; true if anything happened.
 * libssh2 keeps one direct-tcpip open per session in progress, so the
 * same call is repeated until it gives a channel or an error.
 */
static bool
jump_open_step(struct jump_node *j, int64_t now)
{
	struct jump_req *r = j->opening;
	LIBSSH2_CHANNEL *ch;
	struct jump_fail f;
	char tbuf[32], hp[DX_FMT_HOSTPORT_MAX];
	const char *msg;
	int rc;

	if (r == NULL || (j->pending != NULL))
		return false;
	if (r->until == 0)
		r->until = now + r->budget_ms;
	ch = libssh2_channel_direct_tcpip_ex(j->c->s, r->host, r->port,
	    "127.0.0.1", 22);
	if (ch != NULL) {
		jump_open_done(j, ch, NULL);
		return true;
	}
	rc = libssh2_session_last_errno(j->c->s);
	if (rc == LIBSSH2_ERROR_EAGAIN) {
		if (now >= r->until) {
			/* The session is stuck mid-open: it cannot serve anyone. */
			jump_fail_set(&f, DX_CONNECT_TIMEOUT, j->n,
			    j->hops[j->n - 1].name, false, "no answer to a channel "
			    "open within %s", dx_fmt_secs(tbuf, sizeof(tbuf),
			    r->budget_ms));
			jump_die(j, &f);
			return true;
		}
		return false;
	}
	if (dx_conn_rc_fatal(rc)) {
		jump_die_lost(j, dx_conn_errmsg(j->c));
		return true;
	}
	msg = dx_conn_errmsg(j->c);
	dx_fmt_hostport(hp, sizeof(hp), r->host, r->port, DX_HP_ADDR);
	jump_fail_set(&f, strstr(msg, "connect failed") != NULL ?
	    DX_CONNECT_REFUSED : DX_CHANNEL, j->n, j->hops[j->n - 1].name, true,
	    "cannot connect to '%s' (%s)", hp, msg);
	jump_open_done(j, NULL, &f);
	return true;
}

/* A libssh2 rc on a pipe's channel: the session's death or the pipe's end. */
static void
jump_pipe_error(struct jump_node *j, struct jump_pipe *p, int rc)
{
	if (dx_conn_rc_fatal(rc))
		jump_die_lost(j, dx_conn_errmsg(j->c));
	else
		p->closing = true;
}

/* Channel to fd; true if anything moved. */
static bool
jump_pump_down(struct jump_node *j, struct jump_pipe *p)
{
	bool moved = false;
	ssize_t n;

	while (!j->dead && !p->closing) {
		if (p->downoff == p->downlen && !p->ch_eof) {
			/*
			 * One read per round takes in what the socket has; after
			 * it, only channels with queued data or EOF are read
			 * (each read costs a recv() on the session).
			 */
			if (j->drained && libssh2_poll_channel_read(p->ch, 0) <= 0 &&
			    !libssh2_channel_eof(p->ch))
				break;
			j->drained = true;
			n = libssh2_channel_read(p->ch, p->down, sizeof(p->down));
			if (n == LIBSSH2_ERROR_EAGAIN)
				break;
			if (n < 0) {
				jump_pipe_error(j, p, (int)n);
				return true;
			}
			if (n == 0) {
				if (!libssh2_channel_eof(p->ch))
					break;
				p->ch_eof = true;
				shutdown(p->fd, SHUT_WR);
				moved = true;
				break;
			}
			p->downoff = 0;
			p->downlen = (size_t)n;
			moved = true;
		}
		if (p->downoff == p->downlen)
			break;
		n = send(p->fd, p->down + p->downoff, p->downlen - p->downoff,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			p->closing = true;	/* the inner end is gone */
			return true;
		}
		p->downoff += (size_t)n;
		moved = true;
	}
	return moved;
}

/* fd to channel; true if anything moved. */
static bool
jump_pump_up(struct jump_node *j, struct jump_pipe *p)
{
	bool moved = false;
	ssize_t n;
	int rc;

	while (!j->dead && !p->closing) {
		if (j->pending != NULL && j->pending != p)
			break;
		if (p->upoff == p->uplen && !p->fd_eof) {
			if (!p->rd)
				break;
			n = recv(p->fd, p->up, sizeof(p->up), 0);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				p->rd = false;
				break;
			}
			if (n <= 0)
				p->fd_eof = true;
			else {
				/* A short read took all there was. */
				p->rd = (size_t)n == sizeof(p->up);
				p->upoff = 0;
				p->uplen = (size_t)n;
			}
			moved = true;
		}
		if (p->upoff < p->uplen) {
			if (libssh2_channel_window_write_ex(p->ch, NULL) == 0 &&
			    j->pending != p)
				break;
			n = libssh2_channel_write(p->ch, p->up + p->upoff,
			    p->uplen - p->upoff);
			if (n == LIBSSH2_ERROR_EAGAIN) {
				j->pending = p;
				break;
			}
			j->pending = NULL;
			if (n == LIBSSH2_ERROR_BAD_USE)
				break;
			if (n < 0) {
				jump_pipe_error(j, p, (int)n);
				return true;
			}
			p->upoff += (size_t)n;
			moved = true;
			continue;
		}
		if (p->fd_eof) {
			/* The inner connection is done: EOF, then close. */
			if (!p->eof_sent) {
				rc = libssh2_channel_send_eof(p->ch);
				if (rc == LIBSSH2_ERROR_EAGAIN) {
					j->pending = p;
					break;
				}
				j->pending = NULL;
				p->eof_sent = true;
			}
			p->closing = true;
			moved = true;
		}
		break;
	}
	return moved;
}

/*
 * Frees a closing pipe's channel; true once it is gone.  libssh2 sends
 * the close, then waits for the server's: only a close still half sent
 * makes the pipe the pending writer.  A server that never answers the
 * close does not hold the pipe (and the session's reference) for ever:
 * after JUMP_CLOSE_MAX_MS the channel is left to libssh2, which frees it
 * with the session.
 */
static bool
jump_pipe_close(struct jump_node *j, size_t i, int64_t now)
{
	struct jump_pipe *p = j->pipes[i];

	if (!j->dead) {
		if (j->pending != NULL && j->pending != p)
			return false;
		if (p->close_since == 0)
			p->close_since = now;
		if (libssh2_channel_free(p->ch) == LIBSSH2_ERROR_EAGAIN) {
			if (libssh2_session_block_directions(j->c->s) &
			    LIBSSH2_SESSION_BLOCK_OUTBOUND) {
				j->pending = p;
				return false;
			}
			if (j->pending == p)
				j->pending = NULL;
			if (now - p->close_since < JUMP_CLOSE_MAX_MS)
				return false;
		}
	} else
		libssh2_channel_free(p->ch);
	jump_pipe_free(j, i);
	return true;
}

/* One round over everything that can move; true if anything did. */
static bool
jump_round(struct jump_node *j, int64_t now)
{
	bool moved = false;
	size_t i;

	j->drained = false;
	/* The half-sent writer goes first, with the same bytes. */
	for (i = 0; i < j->npipes && j->pending != NULL; i++)
		if (j->pipes[i] == j->pending) {
			if (j->pipes[i]->closing)
				moved |= jump_pipe_close(j, i, now);
			else
				moved |= jump_pump_up(j, j->pipes[i]);
			break;
		}
	moved |= jump_open_step(j, now);
	for (i = 0; i < j->npipes && !j->dead; ) {
		struct jump_pipe *p = j->pipes[i];

		if (!p->closing) {
			moved |= jump_pump_down(j, p);
			moved |= jump_pump_up(j, p);
		}
		if (p->closing && !j->dead && jump_pipe_close(j, i, now)) {
			moved = true;
			continue;
		}
		i++;
	}
	return moved;
}

/* Builds the poll set: wake, session, pipes; returns the count. */
static size_t
jump_pollset(struct jump_node *j)
{
	struct pollfd *pfd;
	bool want_in = j->opening != NULL;
	size_t n = 0;
	int dirs;

	if (j->pfdcap < j->npipes + 2) {
		size_t cap = j->npipes + 16;

		if ((pfd = realloc(j->pfd, cap * sizeof(*pfd))) == NULL)
			return 0;
		j->pfd = pfd;
		j->pfdcap = cap;
	}
	pfd = j->pfd;
	pfd[n].fd = j->wake;
	pfd[n++].events = POLLIN;
	for (size_t i = 0; i < j->npipes; i++) {
		struct jump_pipe *p = j->pipes[i];

		if (p->downoff == p->downlen || p->closing)
			want_in = true;
		pfd[n].events = 0;
		if (p->upoff == p->uplen && !p->fd_eof)
			pfd[n].events |= POLLIN;
		if (p->downoff < p->downlen)
			pfd[n].events |= POLLOUT;
		/* Nothing wanted: left out, or its hang-up would wake us always. */
		pfd[n].fd = pfd[n].events != 0 ? p->fd : -1;
		n++;
	}
	pfd[1 + j->npipes].fd = j->c->tr.fd;
	pfd[1 + j->npipes].events = POLLRDHUP;
	dirs = libssh2_session_block_directions(j->c->s);
	if (want_in || (dirs & LIBSSH2_SESSION_BLOCK_INBOUND))
		pfd[1 + j->npipes].events |= POLLIN;
	if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		pfd[1 + j->npipes].events |= POLLOUT;
	return n + 1;
}

/*
 * Takes what requesters handed over; false when the pump is to end: no
 * references left (the node is then out of the registry), or the
 * registry is closing.
 */
static bool
jump_take(struct jump_node *j)
{
	struct dx_jump_reg *reg = j->reg;
	struct jump_req **tail, *r, **pp;
	struct jump_fail f;
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
			jump_req_done(j, r, NULL);
		} else
			pp = &r->next;
	}
	if (reg->closing && !j->dead) {
		jump_fail_set(&f, DX_INTERRUPTED, j->n, j->hops[j->n - 1].name,
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

static void
jump_keepalive(struct jump_node *j, int64_t now, int64_t *next)
{
	int secs = 0, rc;

	if (j->hops[j->n - 1].keepalive_s <= 0) {
		*next = 0;
		return;
	}
	if (*next == 0 || now >= *next) {
		if (*next != 0 && j->pending == NULL) {
			rc = libssh2_keepalive_send(j->c->s, &secs);
			if (rc != 0 && rc != LIBSSH2_ERROR_EAGAIN &&
			    rc != LIBSSH2_ERROR_BAD_USE) {
				jump_die_lost(j, "a keepalive could not be sent");
				return;
			}
		}
		if (secs <= 0)
			secs = j->hops[j->n - 1].keepalive_s;
		*next = now + (int64_t)secs * 1000;
	}
}

static void
jump_loop(struct jump_node *j)
{
	int64_t now, t, ka = 0;
	size_t n, sess;
	int ms, r;

	for (;;) {
		if (!jump_take(j))
			return;
		if (j->dead) {
			/* Close every stream: the inner sessions see the end. */
			while (j->npipes > 0) {
				libssh2_channel_free(j->pipes[0]->ch);
				jump_pipe_free(j, 0);
			}
			continue;
		}
		now = dx_now_ms();
		while (jump_round(j, now) && !j->dead)
			now = dx_now_ms();
		if (j->dead)
			continue;
		jump_keepalive(j, now, &ka);
		if (j->dead)
			continue;
		if ((n = jump_pollset(j)) == 0) {
			struct dx_err e;

			dx_err_set(&e, DX_INTERNAL, "out of memory relaying channels");
			jump_die_err(j, &e);
			continue;
		}
		t = now + JUMP_POLL_MAX_MS;
		if (ka != 0 && ka < t)
			t = ka;
		if (j->opening != NULL && j->opening->until != 0 &&
		    j->opening->until < t)
			t = j->opening->until;
		for (size_t i = 0; i < j->npipes; i++)
			if (j->pipes[i]->close_since != 0 &&
			    j->pipes[i]->close_since + JUMP_CLOSE_MAX_MS < t)
				t = j->pipes[i]->close_since + JUMP_CLOSE_MAX_MS;
		ms = t > now ? (int)(t - now) : 0;
		r = poll(j->pfd, (nfds_t)n, ms);
		if (r == -1 && errno != EINTR) {
			jump_die_lost(j, strerror(errno));
			continue;
		}
		if (r > 0 && (j->pfd[0].revents & POLLIN))
			jump_drain(j->wake);
		for (size_t i = 0; r > 0 && i + 2 < n; i++)
			if (j->pfd[1 + i].revents & (POLLIN | POLLHUP | POLLERR))
				j->pipes[i]->rd = true;
		sess = n - 1;
		/* A server that stopped sending is gone for every pipe. */
		if (r > 0 && (j->pfd[sess].revents & (POLLHUP | POLLERR |
		    POLLNVAL | POLLRDHUP)))
			jump_die_lost(j, "the server closed the connection");
	}
}

static void *
jump_pump_main(void *arg)
{
	struct jump_node *j = arg;
	struct dx_jump_reg *reg = j->reg;
	struct jump_node **pp;

	if (jump_connect(j) == 0)
		libssh2_session_set_blocking(j->c->s, 0);
	jump_loop(j);
	/* Out of the registry; nobody else can reach j now. */
	while (j->npipes > 0) {
		libssh2_channel_free(j->pipes[0]->ch);
		jump_pipe_free(j, 0);
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
static struct jump_node *
jump_node_new(struct dx_jump_reg *reg, const struct dx_target *hops, size_t n,
    char *key)
{
	struct jump_node *j;
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
    int *fd, struct jump_fail *f)
{
	struct jump_node *j;
	struct jump_req *r;
	struct jump_ended *ended;
	struct dx_err e = { 0 };
	char *key, what[200], tbuf[32];
	int sp[2] = { -1, -1 }, w;
	int64_t until;

	*fd = -1;
	memset(f, 0, sizeof(*f));
	if ((key = dx_hops_key(hops, n)) == NULL ||
	    (r = calloc(1, sizeof(*r))) == NULL) {
		free(key);
		jump_fail_set(f, DX_INTERNAL, n, hops[n - 1].name, false,
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
		jump_fail_set(f, DX_INTERNAL, n, hops[n - 1].name, false,
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
		jump_fail_set(f, DX_INTERNAL, n, hops[n - 1].name, false,
		    "cannot start the jump session: %s", reg->closing ?
		    "the executor is shutting down" : "out of resources");
		goto fail;
	}
	free(key);
	key = NULL;
	j->refs++;
	r->next = j->reqs;	/* order among simultaneous requests is free */
	j->reqs = r;
	jump_signal(j->wake);
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
		jump_signal(j->wake);
		pthread_mutex_unlock(&reg->lock);
		close(sp[0]);
		if (w == DX_WAIT_EXPIRED)
			jump_fail_set(f, DX_CONNECT_TIMEOUT, n, hops[n - 1].name,
			    false, "no stream through the jump host within %s",
			    dx_fmt_secs(tbuf, sizeof(tbuf),
			    jump_bound(hops, n, budget_ms)));
		else
			jump_fail_set(f, e.kind, 0, "", false, "%s", e.msg);
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
	struct jump_fail f;

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
