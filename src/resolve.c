/*
 * resolve.c - getaddrinfo() on a detached thread, waited for with a bound
 * (see resolve.h).
 *
 * A request is shared by the drone thread and its resolver thread; refs
 * counts the two.  The resolver stores its result, writes one byte to the
 * pipe and drops its reference; the drone takes the result (or gives up)
 * and drops its own.  Whoever drops the last one frees the request, the
 * result it may still hold and the pipe.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdwait.h"
#include "resolve.h"

#define RS_STACK	(256 * 1024)	/* glibc's resolver wants some stack */

struct rs_req {
	atomic_int		 refs;
	char			*host;
	char			*port;
	struct addrinfo		 hints;
	struct addrinfo		*res;	/* written by the resolver before the byte */
	int			 gai;
	int			 gai_errno;
	int			 pipe[2];
	atomic_bool		 done;	/* release: res, gai, gai_errno are set */
};

static void
rs_unref(struct rs_req *q)
{
	if (atomic_fetch_sub(&q->refs, 1) != 1)
		return;
	if (q->res != NULL)
		freeaddrinfo(q->res);
	close(q->pipe[0]);
	close(q->pipe[1]);
	free(q->host);
	free(q->port);
	free(q);
}

static void *
rs_main(void *arg)
{
	struct rs_req *q = arg;
	char b = 1;

	q->gai = getaddrinfo(q->host, q->port, &q->hints, &q->res);
	q->gai_errno = errno;
	atomic_store_explicit(&q->done, true, memory_order_release);
	/* The pipe has room: one byte, written once. */
	while (write(q->pipe[1], &b, 1) == -1 && errno == EINTR)
		;
	rs_unref(q);
	return NULL;
}

int
dx_resolve(const char *host, const char *port, const struct addrinfo *hints,
    int64_t until, const struct dx_ctl *ctl, struct addrinfo **res, int *gai,
    int *gai_errno, struct dx_err *err)
{
	struct rs_req *q;
	pthread_attr_t attr;
	pthread_t t;
	char what[300];
	int r;

	*res = NULL;
	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->host = strdup(host)) == NULL || (q->port = strdup(port)) == NULL) {
		if (q != NULL)
			free(q->host);
		free(q);
		return dx_err_set(err, DX_INTERNAL, "out of memory resolving '%s'",
		    host);
	}
	q->hints = *hints;
	q->hints.ai_canonname = NULL;
	q->hints.ai_addr = NULL;
	q->hints.ai_next = NULL;
	if (pipe2(q->pipe, O_CLOEXEC) == -1) {
		free(q->host);
		free(q->port);
		free(q);
		return dx_err_set(err, DX_INTERNAL, "cannot resolve '%s': %s", host,
		    strerror(errno));
	}
	atomic_init(&q->refs, 2);
	atomic_init(&q->done, false);
	if (pthread_attr_init(&attr) != 0 ||
	    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) != 0 ||
	    pthread_attr_setstacksize(&attr, RS_STACK) != 0 ||
	    pthread_create(&t, &attr, rs_main, q) != 0) {
		pthread_attr_destroy(&attr);
		atomic_store(&q->refs, 1);
		rs_unref(q);
		return dx_err_set(err, DX_INTERNAL, "cannot start a resolver for "
		    "'%s'", host);
	}
	pthread_attr_destroy(&attr);
	snprintf(what, sizeof(what), " while resolving '%s'", host);
	r = dx_fd_wait(q->pipe[0], POLLIN, until, ctl, what, err);
	if (r == 0 && !atomic_load_explicit(&q->done, memory_order_acquire))
		r = dx_err_set(err, DX_INTERNAL, "resolver for '%s' woke early", host);
	if (r == 0) {
		*gai = q->gai;
		*gai_errno = q->gai_errno;
		*res = q->res;
		q->res = NULL;
	}
	rs_unref(q);
	return r;
}
