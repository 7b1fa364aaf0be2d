/*
 * conn.h - one SSH connection as an object: opened over a transport,
 * checked, authenticated, then used for any number of calls (call.h),
 * then closed.
 *
 * Life cycle:
 *
 *	c = dx_conn_new(target, shared, err);	made, not connected
 *	dx_conn_attach(c, err);			this thread owns it
 *	dx_conn_open(c, ctl, err);		TCP, banner, key exchange,
 *						host key check, authentication
 *	dx_call_run(c, ctl, ...);		as many calls as wanted
 *	dx_conn_close(c, err);			disconnect; may open again
 *	dx_conn_detach(c, err);			hand it to another thread
 *	dx_conn_free(c);
 *
 * Threads: exactly one thread uses a connection (and its libssh2 session)
 * at a time, the one attached to it.  dx_conn_attach() makes the calling
 * thread the owner, waiting while another thread is attached;
 * dx_conn_detach() lets it go and wakes one waiting attacher.  Both run
 * under the connection's mutex and condition variable, so everything the
 * last owner did to the session happens before the next owner's first
 * step (a plain flag is not enough: LIBSSH2-NOTES saw races inside
 * libssh2 and libcrypto with one).  dx_conn_open(), dx_conn_close() and
 * dx_call_run() refuse, with DX_INTERNAL, a thread that is not attached.
 * The accessors below read what the owner wrote: call them on the owner's
 * thread.  dx_conn_free() may be called by the owner or when no thread is
 * attached.
 *
 * Settings come only from the target (target.h), which is borrowed and
 * must outlive the connection.  The shared state is made once per run and
 * read by every connection on every thread: the known_hosts store
 * (knownhosts.h, its own locks), the identity files read once
 * (identity.h), the agent socket and HOME from the environment, and the
 * host key algorithms libssh2 supports.
 *
 * Ownership: dx_conn_new() returns a connection the caller frees with
 * dx_conn_free() (a no-op on NULL), which closes it if it is open.  Every
 * const char * returned is borrowed from the connection and stays valid,
 * closed or not, until its next open or its free.
 */
#ifndef DX_CONN_H
#define DX_CONN_H

#include "dronex.h"
#include "target.h"
#include "transport.h"

struct dx_conn_shared;
struct dx_conn;

/* The run's shared state (read from the environment now); NULL + err. */
struct dx_conn_shared *dx_conn_shared_new(struct dx_err *);
void		 dx_conn_shared_free(struct dx_conn_shared *);
/* $HOME as read by dx_conn_shared_new(), or NULL when unset or empty. */
const char	*dx_conn_shared_home(const struct dx_conn_shared *);

/* A closed connection to target, attached to no thread; NULL + err. */
struct dx_conn	*dx_conn_new(const struct dx_target *,
		    struct dx_conn_shared *, struct dx_err *);
void		 dx_conn_free(struct dx_conn *);

/*
 * Makes the calling thread the owner, waiting while another thread is
 * attached.  Returns 0, or -1 with err set (DX_INTERNAL) when the calling
 * thread is attached already.
 */
int		 dx_conn_attach(struct dx_conn *, struct dx_err *);
/*
 * Lets the connection go, open or not, and wakes a thread waiting in
 * dx_conn_attach().  Returns 0, or -1 with err set (DX_INTERNAL) when the
 * calling thread is not the owner.
 */
int		 dx_conn_detach(struct dx_conn *, struct dx_err *);

/*
 * Opens the connection over TCP to the target's host and port: connect
 * and the server's banner within the target's connect timeout, then key
 * exchange, host key check (the target's policy and known_hosts files)
 * and authentication (the target's identities, the agent, ~/.ssh/id_*)
 * within SSH_KEX_FACTOR times it; every wait also bounded by ctl's
 * deadline and abort pipe, which stay in force for the keepalives until
 * a call brings its own ctl.  Returns 0, or -1 with err set to the
 * drone-level kind (DX_RESOLVE ... DX_AUTH, DX_DEADLINE, DX_INTERRUPTED);
 * a failed open leaves the connection closed, with whatever it learnt
 * (kex, host key type and fingerprint) readable.  A target with hops
 * (dx_target_resolve_hops()) is opened over a stream through them from
 * the shared state's jump registry (jump.h): one session per jump chain,
 * shared by every connection behind it; a hop's failure comes back with
 * the hop's own kind and "jump host 'NAME' (hop K of N): ...".
 */
int		 dx_conn_open(struct dx_conn *, const struct dx_ctl *,
		    struct dx_err *);
/*
 * The same over a transport that is connected already (transport.h: one
 * end of a socketpair a pump relays, for instance).  The connection takes
 * the transport over, whatever it returns (*tr is left empty).  The
 * target's host and port still name the server in known_hosts and in
 * messages; its jump is not looked at.
 */
int		 dx_conn_open_over(struct dx_conn *, struct dx_transport *tr,
		    const struct dx_ctl *, struct dx_err *);
/*
 * Closes an open connection without waiting on the peer: one disconnect
 * message if the session is healthy, then the transport is shut down,
 * the session freed and the descriptor closed, in that order.  A closed
 * connection is a no-op.  Returns 0, or -1 with err set (DX_INTERNAL)
 * when the calling thread is not the owner.  err may be NULL.
 */
int		 dx_conn_close(struct dx_conn *, struct dx_err *);

/* True while the connection is open and can carry another call. */
bool		 dx_conn_healthy(const struct dx_conn *);
/* Negotiated key exchange ("curve25519-sha256") and host key type, or NULL. */
const char	*dx_conn_kex(const struct dx_conn *);
const char	*dx_conn_hostkey_type(const struct dx_conn *);
/* The server's key as OpenSSH prints it ("SHA256:..."), or NULL. */
const char	*dx_conn_hostkey_fingerprint(const struct dx_conn *);
/* True when the key was checked against known_hosts (policy not off). */
bool		 dx_conn_hostkey_checked(const struct dx_conn *);
/*
 * What the connection learnt (kex, host key type and fingerprint, whether
 * the key was checked) into a drone's result, for the executors; a value
 * not learnt leaves an earlier attempt's in place.
 */
void		 dx_conn_record(const struct dx_conn *, struct dx_result *);
/* The server as messages name it: "host", or "[host]:port" off port 22. */
const char	*dx_conn_label(const struct dx_conn *);

/*
 * For a warm session pool (pool.h), which holds idle connections between
 * calls.  dx_conn_fd() is the transport's descriptor while the connection
 * is open (-1 when closed), to poll for POLLRDHUP/POLLHUP on an idle one;
 * never read or write it.  dx_conn_target() is the target it was made
 * for.  Both may be called by the thread that holds the connection idle.
 */
int		 dx_conn_fd(const struct dx_conn *);
const struct dx_target *dx_conn_target(const struct dx_conn *);
/*
 * Sends one SSH keepalive now on an open, idle connection (no call
 * running), from the attached thread, asking for a reply when want_reply
 * (the replies are only read by the next call: an idle socket's unread
 * bytes grow by one reply each time the server answers).  Schedules the
 * connection's next keepalive one interval later.  Returns 0, or -1 with
 * err set: DX_CONNECTION_LOST (the session is dead: close it) or
 * DX_INTERNAL (not attached).
 */
int		 dx_conn_keepalive(struct dx_conn *, bool want_reply,
		    struct dx_err *);

#endif
