/*
 * pump.c - a jump session's poll loop (jump_int.h): it opens one
 * direct-tcpip channel per request and relays every channel to its
 * socketpair end, until the registry (jump.c) says the session ends.
 *
 * One poll() over the node's wake eventfd, every pipe's end that it wants
 * something from, and the session's descriptor.  After every wake, every
 * pipe is pumped until nothing moves, since reading one channel can queue
 * another channel's data inside libssh2 where poll() cannot see it; after
 * the first channel read of a round (which takes in what the socket has),
 * only channels libssh2 has data or EOF queued for are read, and a pipe's
 * end only when poll() said so.  A write that said EAGAIN is half sent:
 * that pipe is the session's pending writer and is retried, with the same
 * bytes, before any other pipe writes; a channel whose send window is
 * closed is not written to at all (it would block everybody behind it).
 * POLLIN on the session is asked only while some pipe can take data or a
 * channel is opening: keepalive replies nobody reads would otherwise keep
 * an idle socket readable for ever; an end it wants nothing from is left
 * out of the set (a hung-up end is always "ready").  A fatal libssh2
 * error or a hang-up of the session's descriptor ends the session for
 * every pipe (dx_jump_die()).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "jump_int.h"

void
dx_pump_pipe_free(struct dx_jump_node *j, size_t i)
{
	struct dx_jump_pipe *p = j->pipes[i];

	if (j->pending == p)
		j->pending = NULL;
	shutdown(p->fd, SHUT_RDWR);
	close(p->fd);
	free(p);
	j->pipes[i] = j->pipes[--j->npipes];
	pthread_mutex_lock(&j->reg->lock);
	/* The last one: the loop must see it before it sleeps. */
	if (--j->refs == 0)
		dx_jump_signal(j->wake);
	pthread_mutex_unlock(&j->reg->lock);
}

/* Takes the channel for the head request: a new pipe, or its failure. */
static void
pump_open_done(struct dx_jump_node *j, LIBSSH2_CHANNEL *ch,
    const struct dx_jump_fail *f)
{
	struct dx_jump_req *r = j->opening;
	struct dx_jump_pipe *p = NULL, **np;
	struct dx_jump_fail oom;

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
			dx_jump_fail_set(&oom, DX_INTERNAL, j->n, j->hops[j->n - 1].name,
			    false, "out of memory relaying a channel");
			f = &oom;
		}
	}
	pthread_mutex_lock(&j->reg->lock);
	if (p != NULL)
		j->refs++;	/* the pipe's own; the request's goes below */
	dx_jump_req_done(j, r, f);
	pthread_mutex_unlock(&j->reg->lock);
}

/*
 * Moves the head request's channel open on; true if anything happened.
 * libssh2 keeps one direct-tcpip open per session in progress, so the
 * same call is repeated until it gives a channel or an error.
 */
static bool
pump_open_step(struct dx_jump_node *j, int64_t now)
{
	struct dx_jump_req *r = j->opening;
	LIBSSH2_CHANNEL *ch;
	struct dx_jump_fail f;
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
		pump_open_done(j, ch, NULL);
		return true;
	}
	rc = libssh2_session_last_errno(j->c->s);
	if (rc == LIBSSH2_ERROR_EAGAIN) {
		if (now >= r->until) {
			/* The session is stuck mid-open: it cannot serve anyone. */
			dx_jump_fail_set(&f, DX_CONNECT_TIMEOUT, j->n,
			    j->hops[j->n - 1].name, false, "no answer to a channel "
			    "open within %s", dx_fmt_secs(tbuf, sizeof(tbuf),
			    r->budget_ms));
			dx_jump_die(j, &f);
			return true;
		}
		return false;
	}
	if (dx_conn_rc_fatal(rc)) {
		dx_jump_die_lost(j, dx_conn_errmsg(j->c));
		return true;
	}
	msg = dx_conn_errmsg(j->c);
	dx_fmt_hostport(hp, sizeof(hp), r->host, r->port, DX_HP_ADDR);
	dx_jump_fail_set(&f, strstr(msg, "connect failed") != NULL ?
	    DX_CONNECT_REFUSED : DX_CHANNEL, j->n, j->hops[j->n - 1].name, true,
	    "cannot connect to '%s' (%s)", hp, msg);
	pump_open_done(j, NULL, &f);
	return true;
}

/* A libssh2 rc on a pipe's channel: the session's death or the pipe's end. */
static void
pump_pipe_error(struct dx_jump_node *j, struct dx_jump_pipe *p, int rc)
{
	if (dx_conn_rc_fatal(rc))
		dx_jump_die_lost(j, dx_conn_errmsg(j->c));
	else
		p->closing = true;
}

/* Channel to fd; true if anything moved. */
static bool
pump_down(struct dx_jump_node *j, struct dx_jump_pipe *p)
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
				pump_pipe_error(j, p, (int)n);
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
pump_up(struct dx_jump_node *j, struct dx_jump_pipe *p)
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
				pump_pipe_error(j, p, (int)n);
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
 * after DX_JUMP_CLOSE_MAX_MS the channel is left to libssh2, which frees it
 * with the session.
 */
static bool
pump_pipe_close(struct dx_jump_node *j, size_t i, int64_t now)
{
	struct dx_jump_pipe *p = j->pipes[i];

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
			if (now - p->close_since < DX_JUMP_CLOSE_MAX_MS)
				return false;
		}
	} else
		libssh2_channel_free(p->ch);
	dx_pump_pipe_free(j, i);
	return true;
}

/* One round over everything that can move; true if anything did. */
static bool
pump_round(struct dx_jump_node *j, int64_t now)
{
	bool moved = false;
	size_t i;

	j->drained = false;
	/* The half-sent writer goes first, with the same bytes. */
	for (i = 0; i < j->npipes && j->pending != NULL; i++)
		if (j->pipes[i] == j->pending) {
			if (j->pipes[i]->closing)
				moved |= pump_pipe_close(j, i, now);
			else
				moved |= pump_up(j, j->pipes[i]);
			break;
		}
	moved |= pump_open_step(j, now);
	for (i = 0; i < j->npipes && !j->dead; ) {
		struct dx_jump_pipe *p = j->pipes[i];

		if (!p->closing) {
			moved |= pump_down(j, p);
			moved |= pump_up(j, p);
		}
		if (p->closing && !j->dead && pump_pipe_close(j, i, now)) {
			moved = true;
			continue;
		}
		i++;
	}
	return moved;
}

/* Builds the poll set: wake, session, pipes; returns the count. */
static size_t
pump_pollset(struct dx_jump_node *j)
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
		struct dx_jump_pipe *p = j->pipes[i];

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

static void
pump_keepalive(struct dx_jump_node *j, int64_t now, int64_t *next)
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
				dx_jump_die_lost(j, "a keepalive could not be sent");
				return;
			}
		}
		if (secs <= 0)
			secs = j->hops[j->n - 1].keepalive_s;
		*next = now + (int64_t)secs * 1000;
	}
}

void
dx_pump_loop(struct dx_jump_node *j)
{
	int64_t now, t, ka = 0;
	size_t n, sess;
	int ms, r;

	for (;;) {
		if (!dx_jump_take(j))
			return;
		if (j->dead) {
			/* Close every stream: the inner sessions see the end. */
			while (j->npipes > 0) {
				libssh2_channel_free(j->pipes[0]->ch);
				dx_pump_pipe_free(j, 0);
			}
			continue;
		}
		now = dx_now_ms();
		while (pump_round(j, now) && !j->dead)
			now = dx_now_ms();
		if (j->dead)
			continue;
		pump_keepalive(j, now, &ka);
		if (j->dead)
			continue;
		if ((n = pump_pollset(j)) == 0) {
			struct dx_err e;

			dx_err_set(&e, DX_INTERNAL, "out of memory relaying channels");
			dx_jump_die_err(j, &e);
			continue;
		}
		t = now + DX_JUMP_POLL_MAX_MS;
		if (ka != 0 && ka < t)
			t = ka;
		if (j->opening != NULL && j->opening->until != 0 &&
		    j->opening->until < t)
			t = j->opening->until;
		for (size_t i = 0; i < j->npipes; i++)
			if (j->pipes[i]->close_since != 0 &&
			    j->pipes[i]->close_since + DX_JUMP_CLOSE_MAX_MS < t)
				t = j->pipes[i]->close_since + DX_JUMP_CLOSE_MAX_MS;
		ms = t > now ? (int)(t - now) : 0;
		r = poll(j->pfd, (nfds_t)n, ms);
		if (r == -1 && errno != EINTR) {
			dx_jump_die_lost(j, strerror(errno));
			continue;
		}
		if (r > 0 && (j->pfd[0].revents & POLLIN))
			dx_jump_drain(j->wake);
		for (size_t i = 0; r > 0 && i + 2 < n; i++)
			if (j->pfd[1 + i].revents & (POLLIN | POLLHUP | POLLERR))
				j->pipes[i]->rd = true;
		sess = n - 1;
		/* A server that stopped sending is gone for every pipe. */
		if (r > 0 && (j->pfd[sess].revents & (POLLHUP | POLLERR |
		    POLLNVAL | POLLRDHUP)))
			dx_jump_die_lost(j, "the server closed the connection");
	}
}
