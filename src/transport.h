/*
 * transport.h - the byte stream an SSH connection runs over: a TCP socket,
 * or one end of a socketpair relayed to a jump host's channel (jump.h).
 *
 * A transport is one connected, non-blocking, close-on-exec stream
 * descriptor.  conn.c hands it to libssh2 and polls it; nothing above
 * this module knows whether it is a TCP socket or something else.
 *
 * Design for jump hosts: a socketpair.  LIBSSH2-NOTES ("Jump hosts and
 * warm sessions") verified two ways to run a session over another
 * session's direct-tcpip channel:
 *
 *  1. A socketpair: the outer connection's owner thread opens one channel
 *     per inner connection and pumps each channel to one end of a
 *     socketpair in one non-blocking poll loop; the inner connection runs
 *     on the other end, built with dx_transport_adopt(), exactly as on a
 *     TCP socket.
 *  2. libssh2 send/recv callbacks: the inner session reads and writes the
 *     outer channel directly, but then both sessions must be driven by one
 *     thread, and the inner session still wants a dummy descriptor.
 *
 * dronex takes the socketpair.  It keeps the rule that one thread owns one
 * session (conn.h): the pump thread owns the outer session only, each
 * inner connection is attached to its own drone thread and waits on its
 * own descriptor beside the abort pipe, with the same budgets, deadline,
 * banner check and fail-fast shutdown() as a TCP drone; nothing in conn.c
 * or call.c changes.  Callbacks would serialise every drone behind one jump
 * host on the outer owner's thread and need a second wait loop that polls
 * the outer socket for the inner session.  The measured price of the pair
 * is small (50 drones through one jump: 0.12 s of client CPU against 0.09 s
 * direct, about 37 MB/s of bulk data).  The pump is jump.c.
 *
 * A dx_transport lives in the caller's storage (_init); the descriptor in
 * it is the transport's own until dx_transport_close(), or until a
 * connection takes the whole transport over (dx_conn_open_over()).
 */
#ifndef DX_TRANSPORT_H
#define DX_TRANSPORT_H

#include <stdbool.h>

#include "dronex.h"

struct dx_transport {
	int		 fd;	/* the stream; -1 when there is none */
	bool		 tcp;	/* a TCP socket this module connected */
};

/* An empty transport (fd -1). */
void	dx_transport_init(struct dx_transport *);

/*
 * Connects to host:port over TCP: an address literal directly, a name
 * resolved off the thread (resolve.h), then a non-blocking connect() to
 * each address in turn, every wait bounded by until (monotonic ms), ctl's
 * deadline and abort pipe.  The socket gets TCP_NODELAY and TCP keepalive
 * with a user timeout derived from keepalive_s (0: 60 s), so that a dead
 * link ends the drone rather than hangs it.  budget_ms is the budget that
 * until came from and what the "timed out after" messages say.  Returns 0,
 * or -1 with err set: DX_RESOLVE, DX_CONNECT_REFUSED, DX_CONNECT_TIMEOUT,
 * DX_NETWORK, DX_DEADLINE, DX_INTERRUPTED, DX_INTERNAL.
 */
int	dx_transport_tcp(struct dx_transport *, const char *host, int port,
	    int keepalive_s, int64_t until, int64_t budget_ms,
	    const struct dx_ctl *ctl, struct dx_err *err);

/*
 * Takes over fd, an already connected stream (one end of a socketpair, a
 * relay's socket), making it non-blocking and close-on-exec.  Returns 0,
 * or -1 with err set (DX_INTERNAL; fd is then still the caller's).
 */
int	dx_transport_adopt(struct dx_transport *, int fd, struct dx_err *err);

/*
 * Shuts the stream down both ways (the descriptor stays open): every later
 * read or write on it fails at once, so a library that still holds it can
 * only fail fast, and the peer (a server, a pump) sees the end.
 */
void	dx_transport_shutdown(struct dx_transport *);

/* Closes the descriptor (a no-op on an empty transport) and empties it. */
void	dx_transport_close(struct dx_transport *);

#endif
