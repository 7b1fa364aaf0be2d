/*
 * resolve.h - getaddrinfo() within a drone's connect budget.
 *
 * getaddrinfo() blocks (a silent DNS server costs resolv.conf's timeout
 * times its attempts, seconds each) and cannot be cancelled.  So a name
 * that is not an address literal is resolved on a small detached thread
 * that writes to a pipe when it is done; the drone thread polls that pipe
 * beside the abort pipe, within the budget and the deadline.  A drone that
 * stops waiting just lets go: the last of the two to finish (resolver or
 * drone) frees the request, so nothing leaks and nothing blocks.
 */
#ifndef DX_RESOLVE_H
#define DX_RESOLVE_H

#include <netdb.h>

#include "dronex.h"

/*
 * Resolves host and port (service) with hints.  Returns 0 with *gai the
 * getaddrinfo() result (and *res when *gai is 0; freeaddrinfo() it),
 * DX_WAIT_EXPIRED (fdwait.h) when until passed first, or -1 with err set
 * (deadline, interrupt, out of resources).
 */
int	dx_resolve(const char *host, const char *port,
	    const struct addrinfo *hints, int64_t until, const struct dx_ctl *ctl,
	    struct addrinfo **res, int *gai, int *gai_errno, struct dx_err *err);

#endif
