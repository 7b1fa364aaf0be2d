/*
 * pool.h - warm SSH sessions kept between requests, one per drone, and
 * the throttling of drones that keep failing to connect (dronex serve,
 * SPEC section 7).
 *
 * Life cycle of a drone's session:
 *
 *	c = dx_pool_take(pool, target, ctl, err);  attached to this thread,
 *						    open (warm, or opened now)
 *	dx_call_run(c, ctl, ...);		    the caller's calls
 *	dx_pool_give(pool, c);			    detached; kept warm if healthy
 *
 * Between a give and the next take the session is idle: the pool's one
 * thread holds every idle session in one epoll set (no thread per
 * session), watching each socket for a hang-up or an error (a server
 * that went away; libssh2 reads nothing while idle, so readability is
 * not watched), sending keepalives at the target's keepalive interval, and
 * closing sessions idle longer than idle_timeout_ms.  At most
 * max_sessions sessions are open: a take that needs a new one when the
 * limit is reached closes the least recently used idle session first;
 * when every open session is busy it opens one anyway (busy sessions are
 * bounded by the caller's fan-out) and the surplus is closed at its give.
 *
 * dx_pool_take() checks a warm session without blocking (open, healthy,
 * no hang-up or error pending on its socket) and re-establishes a dead
 * one before any call starts, never in the middle of one: the pool never
 * sends a call, so a call is never sent twice.  A new open checks the
 * host key again (dx_conn_open()): a changed key refuses the drone with
 * DX_HOSTKEY_MISMATCH.
 *
 * Background re-open (pool_reopen.c): a session that died while idle (a
 * hang-up seen by the pool's thread, a failed idle keepalive; not one
 * closed by the idle timeout, the limit or a forget) is opened again
 * reopen_delay_ms after its death by one re-opener thread, in FIFO
 * order, ONE attempt per death, host key checked again.  A failure
 * leaves the drone closed (the next take opens it) and does not count
 * for throttling.  A take waits for an open in flight; forget and free
 * cut it.  The open in flight counts toward max_sessions.
 *
 * Throttling: a drone whose connection failed throttle_failures times
 * within throttle_window_ms (kinds resolve, connect_refused,
 * connect_timeout, network, handshake, and connection_lost during the
 * open; not auth or the host key kinds, which retrying does not cure) is
 * cooled down until fewer than throttle_failures of its failures remain
 * in the window (its K-th most recent failure + the window).  While
 * cooled down dx_pool_take() fails at once with DX_THROTTLED, the message
 * saying until when.  A successful open clears the drone's failures.
 *
 * Threads: every function may be called from any thread.  A drone's
 * session is used by one thread at a time: a second take of a drone that
 * is busy waits for its give (the connection's own attach hand-over).
 *
 * Ownership: targets are borrowed, keyed by their name: a target must
 * stay valid until dx_pool_forget(name) or dx_pool_free().  A take with
 * a different target pointer for a known name closes the old session
 * first (the settings may have changed) and uses the new target.  The
 * shared state (conn.h) is borrowed and must outlive the pool.
 */
#ifndef DX_POOL_H
#define DX_POOL_H

#include "conn.h"

struct dx_pool_opts {
	size_t		 max_sessions;	    /* open sessions at most; 0 = no limit */
	int64_t		 idle_timeout_ms;   /* close idle sessions after; 0 = never */
	int		 throttle_failures; /* K connect failures ...; 0 = off */
	int64_t		 throttle_window_ms; /* ... within this window */
	int64_t		 reopen_delay_ms;   /* a session dead while idle is
					       re-opened in the background
					       this long after: 0 = 150 ms,
					       < 0 = never */
};

#define DX_POOL_IDLE_TIMEOUT_MS		300000	/* --idle-timeout 300 */
#define DX_POOL_THROTTLE_FAILURES	5	/* --throttle-failures 5 */
#define DX_POOL_THROTTLE_WINDOW_MS	600000	/* --throttle-window 600 */

struct dx_pool;

/*
 * A new pool and its thread (started now); NULL + err (DX_INTERNAL: out
 * of memory, no thread, no eventfd).
 */
struct dx_pool	*dx_pool_new(const struct dx_pool_opts *,
		    struct dx_conn_shared *, struct dx_err *);
/* Stops the thread, closes every session.  No take or busy session may
 * be outstanding.  A no-op on NULL. */
void		 dx_pool_free(struct dx_pool *);

/*
 * The drone's connection, attached to the calling thread and open: its
 * warm session when alive (checked without blocking), else (re)opened
 * now under ctl (host key checked again).  NULL + err: dx_conn_open()'s
 * kinds; DX_THROTTLED at once while the drone is cooled down (message:
 * "drone 'NAME' is throttled until 2026-12-02T01:50:00Z: 5 failures to
 * connect within 600 s").  Connect failures count for throttling.
 */
struct dx_conn	*dx_pool_take(struct dx_pool *, const struct dx_target *,
		    const struct dx_ctl *, struct dx_err *);
/*
 * Hands a connection from dx_pool_take() back, from the thread attached
 * to it: detached, and kept warm if healthy (else closed).  The ctl given
 * to the take (or to the last call) is no longer used after this.
 */
void		 dx_pool_give(struct dx_pool *, struct dx_conn *);
/*
 * Forgets the drone: closes its idle session (a busy one is closed at
 * its give) and drops its target pointer and throttle record (an
 * inventory reload).  Unknown names are a no-op.
 */
void		 dx_pool_forget(struct dx_pool *, const char *name);
/* New limit (0 = none); idle sessions over it are closed now, LRU first.
 * Returns 0. */
int		 dx_pool_resize(struct dx_pool *, size_t max_sessions);

struct dx_pool_stats {
	size_t		 warm;		/* open and idle */
	size_t		 busy;		/* taken */
	size_t		 max;		/* the limit; 0 = none */
	size_t		 reopening;	/* a background re-open in flight */
	size_t		 reopened;	/* background re-opens that worked */
	size_t		 reopen_failed;	/* ... that failed (drone left closed) */
};
void		 dx_pool_stats(struct dx_pool *, struct dx_pool_stats *);
/*
 * Calls cb(arg, name, failures in the window, until) for each drone
 * cooled down now; until is wall-clock (CLOCK_REALTIME) ms since the
 * epoch.  Called under the pool's lock: cb must not call into the pool.
 */
void		 dx_pool_cooled(struct dx_pool *,
		    void (*cb)(void *, const char *, int, int64_t), void *);

#endif
