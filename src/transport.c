/*
 * transport.c - the stream a connection runs over (transport.h): a TCP
 * connect within the drone's budget, or an adopted descriptor.
 *
 * The TCP connect resolves an address literal at once (AI_NUMERICHOST:
 * an address never goes near DNS) and a name off the thread (resolve.c),
 * then tries each address with a non-blocking connect() whose wait is the
 * one bounded wait of fdwait.c: the connect budget, the run deadline and
 * the abort pipe.  The last address's failure is the one reported.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdwait.h"
#include "fmt.h"
#include "resolve.h"
#include "transport.h"

void
dx_transport_init(struct dx_transport *t)
{
	t->fd = -1;
	t->tcp = false;
}

/*
 * A dead link must end the drone rather than hang it: TCP keepalive
 * notices a silent peer, TCP_USER_TIMEOUT data that is never acked (the
 * SSH keepalives make sure there is some).  TCP_NODELAY: a call is a few
 * small packets each way, which Nagle would hold behind delayed ACKs.
 */
static void
tr_sockopts(int fd, int keepalive_s)
{
	int one = 1, idle, intvl, cnt = 3;
	unsigned int uto;

	idle = keepalive_s > 0 ? keepalive_s : 60;
	intvl = idle / 3 > 0 ? idle / 3 : 1;
	uto = (unsigned int)(idle + intvl * cnt) * 1000;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, sizeof(uto));
}

int
dx_transport_tcp(struct dx_transport *t, const char *host, int port,
    int keepalive_s, int64_t until, int64_t budget_ms,
    const struct dx_ctl *ctl, struct dx_err *err)
{
	struct addrinfo hints, *ai = NULL, *a;
	char sport[16], label[DX_FMT_HOSTPORT_MAX], what[DX_FMT_HOSTPORT_MAX + 32];
	char tbuf[32];
	socklen_t len;
	int rc = -1, gai, gerr, fd = -1, soerr, r;

	dx_transport_init(t);
	dx_fmt_hostport(label, sizeof(label), host, port, DX_HP_ADDR);
	snprintf(what, sizeof(what), " while connecting to '%s'", label);
	snprintf(sport, sizeof(sport), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* Literals first, so that an address never goes near DNS. */
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	gai = getaddrinfo(host, sport, &hints, &ai);
	gerr = errno;
	if (gai == EAI_NONAME) {
		/* A name: resolved off this thread, within the budget. */
		hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
		if ((r = dx_resolve(host, sport, &hints, until, ctl, &ai, &gai,
		    &gerr, err)) == DX_WAIT_EXPIRED)
			return dx_err_set(err, DX_RESOLVE, "resolving host '%s' timed "
			    "out after %s", host,
			    dx_fmt_secs(tbuf, sizeof(tbuf), budget_ms));
		if (r == -1)
			return -1;
	}
	if (gai != 0)
		return dx_err_set(err, DX_RESOLVE, "cannot resolve host '%s': %s",
		    host, gai == EAI_SYSTEM ? strerror(gerr) : gai_strerror(gai));
	dx_err_set(err, DX_NETWORK, "cannot connect to '%s': no address", label);
	for (a = ai; a != NULL; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, a->ai_protocol);
		if (fd == -1) {
			dx_err_set(err, DX_NETWORK, "cannot connect to '%s': %s",
			    label, strerror(errno));
			continue;
		}
		soerr = 0;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == -1 &&
		    (soerr = errno) == EINPROGRESS) {
			if ((r = dx_fd_wait(fd, POLLOUT, until, ctl, what, err)) ==
			    DX_WAIT_EXPIRED) {
				dx_err_set(err, DX_CONNECT_TIMEOUT,
				    "connect to '%s' timed out after %s", label,
				    dx_fmt_secs(tbuf, sizeof(tbuf), budget_ms));
				goto out;
			}
			if (r == -1)
				goto out;
			len = sizeof(soerr);
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
				soerr = errno;
		}
		if (soerr == 0) {
			tr_sockopts(fd, keepalive_s);
			t->fd = fd;
			t->tcp = true;
			fd = -1;
			dx_err_clear(err);
			rc = 0;
			goto out;
		}
		close(fd);
		fd = -1;
		if (soerr == ECONNREFUSED)
			dx_err_set(err, DX_CONNECT_REFUSED,
			    "connection refused by '%s'", label);
		else if (soerr == ETIMEDOUT)
			dx_err_set(err, DX_CONNECT_TIMEOUT,
			    "cannot connect to '%s': %s", label, strerror(soerr));
		else
			dx_err_set(err, DX_NETWORK, "cannot connect to '%s': %s",
			    label, strerror(soerr));
	}
out:
	if (fd != -1)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

int
dx_transport_adopt(struct dx_transport *t, int fd, struct dx_err *err)
{
	int fl;

	dx_transport_init(t);
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1)
		return dx_err_set(err, DX_INTERNAL, "cannot use descriptor %d as a "
		    "transport: %s", fd, strerror(errno));
	t->fd = fd;
	return 0;
}

void
dx_transport_shutdown(struct dx_transport *t)
{
	if (t->fd != -1)
		shutdown(t->fd, SHUT_RDWR);
}

void
dx_transport_close(struct dx_transport *t)
{
	if (t->fd != -1)
		close(t->fd);
	dx_transport_init(t);
}
