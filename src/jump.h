/*
 * jump.h - the jump registry: one SSH session per jump chain, shared by
 * every connection behind it, each relayed by a pump thread.
 *
 * A connection whose target has hops (dronex.h, dx_target_resolve_hops())
 * asks the registry of its dx_conn_shared for a stream to its host and
 * port through the chain.  The registry finds the chain's jump session by
 * its key (hops.h) or starts one: a pump thread that opens a connection to
 * the last hop (over TCP for a one-hop chain, else over a stream from the
 * registry for the chain without its last hop: hop 2's session runs over
 * hop 1's pump), then, in one non-blocking poll loop, opens one
 * direct-tcpip channel per request and relays it to one end of a
 * socketpair.  The caller gets the other end and runs its own session on
 * it (dx_transport_adopt(), dx_conn_open_over()).
 *
 * Life cycle: every request and every relayed stream holds a reference
 * on its jump session; when the last one is gone (the inner connections
 * closed their ends) the pump closes the session and ends.  A session
 * found dead (its server or link gone) is taken out of the registry at
 * once: its streams are closed, so inner connections see their peer go
 * (connection_lost), its waiting requests get its error, and the next
 * request for the chain starts a new session.
 *
 * Threads: any thread may call dx_jump_open(); the registry's state is
 * under one mutex, every session is owned by its pump thread alone.
 * dx_jump_reg_free() stops every pump and waits for them: call it when no
 * connection is open through it.
 */
#ifndef DX_JUMP_H
#define DX_JUMP_H

#include "dronex.h"

struct dx_conn_shared;
struct dx_jump_reg;

/* An empty registry whose sessions use sh's settings; NULL + err. */
struct dx_jump_reg *dx_jump_reg_new(struct dx_conn_shared *sh,
		    struct dx_err *err);
void		 dx_jump_reg_free(struct dx_jump_reg *);
/* Jump sessions (pump threads) running now, for tests and status. */
size_t		 dx_jump_reg_sessions(struct dx_jump_reg *);

/*
 * A stream to host:port through hops[0..n): on 0, *fd is the caller's end
 * of a socketpair the chain's pump relays to a direct-tcpip channel from
 * the last hop.  The channel must open within budget_ms once the jump
 * session is up; every wait is bounded by ctl's deadline and abort pipe.
 * Returns -1 with err set: the failing hop's own kind, its message
 * "jump host 'NAME' (hop K of N): ...", or, when the last hop cannot reach
 * host:port, DX_CONNECT_REFUSED (its server could not connect) or
 * DX_CHANNEL; DX_DEADLINE, DX_INTERRUPTED; DX_INTERNAL.
 */
int		 dx_jump_open(struct dx_jump_reg *, const struct dx_target *hops,
		    size_t n, const char *host, int port, int64_t budget_ms,
		    const struct dx_ctl *ctl, int *fd, struct dx_err *err);

#endif
