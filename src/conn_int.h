/*
 * conn_int.h - the inside of a connection, shared by the files that drive
 * its session: conn.c (life cycle, the one wait), conn_auth.c
 * (authentication) and call.c (calls), and jump.c and pump.c (through
 * jump_int.h), whose pump threads drive the sessions of jump hosts.
 * Nothing else includes it.
 */
#ifndef DX_CONN_INT_H
#define DX_CONN_INT_H

#include <pthread.h>

#include <libssh2.h>

#include "conn.h"
#include "fmt.h"
#include "identity.h"
#include "jump.h"
#include "knownhosts.h"

#define DX_CONN_EXPIRED		1	/* dx_conn_wait(): the phase budget is spent */
#define DX_CONN_KEX_FACTOR	4	/* key exchange + auth: x connect timeout */

struct dx_conn_shared {
	char			*home;		/* for ~/.ssh/id_*; NULL if unknown */
	char			*agent;		/* SSH_AUTH_SOCK, or NULL */
	char			*hk_algs;	/* ",alg,alg," libssh2 supports */
	struct dx_kh_store	*kh;		/* known_hosts files, read once */
	struct dx_identities	 ids;		/* identity files read once */
	struct dx_jump_reg	*jumps;		/* the jump sessions (jump.h) */
};

struct dx_conn {
	/* Set by dx_conn_new(), read-only after. */
	const struct dx_target	*target;
	struct dx_conn_shared	*shared;
	char			 hp[DX_FMT_HOSTPORT_MAX]; /* "[h]:p" (or "h" on 22) */

	/* The owner hand-over (conn.h). */
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;		/* signalled when detached */
	bool			 attached;	/* lock */
	pthread_t		 owner;		/* lock; meaningful while attached */
	size_t			 waiting;	/* lock; threads in dx_conn_attach() */

	/* Everything below: the owner's alone. */
	const struct dx_ctl	*ctl;		/* the current open's or call's */
	struct dx_transport	 tr;
	LIBSSH2_SESSION		*s;		/* non-NULL while open */
	bool			 healthy;	/* the session can carry more */
	bool			 cleanup;	/* waits ignore abort and deadline */
	int64_t			 ka_next;	/* next keepalive; 0 = none */
	int			 ka_unanswered;	/* keepalives sent since the peer
						   last sent anything */
	int64_t			 budget;	/* budget of the phase, ms (messages) */
	char			 what[360];	/* " during ...": the phase, messages */
	char			 kex[64];	/* "" until negotiated */
	char			 hostkey_type[64];
	char			*fingerprint;	/* owned; NULL until a key came */
	bool			 hostkey_checked;
};

/* 0 when the calling thread is attached to c, else -1 + err (DX_INTERNAL). */
int		 dx_conn_owned(struct dx_conn *, const char *op, struct dx_err *);
/*
 * The one wait: polls the transport for events (0: the directions libssh2
 * is blocked on) and the abort pipe, until until (0: none), the deadline
 * or the next keepalive, whichever is nearest.  Returns 0 when the
 * transport is ready (or a keepalive went out: the caller simply tries
 * again), DX_CONN_EXPIRED when until has passed, and -1 with err set on the
 * deadline (DX_DEADLINE), an abort (DX_DEADLINE or DX_INTERRUPTED), a
 * failed keepalive (DX_CONNECTION_LOST) or a failed poll.  In cleanup mode
 * the abort pipe and the deadline are not watched; until then bounds it.
 */
int		 dx_conn_wait(struct dx_conn *, int events, int64_t until,
		    struct dx_err *);
/* The session is dead: every later libssh2 call on it fails fast. */
void		 dx_conn_mark_dead(struct dx_conn *);
/* Marks it dead and says "connection to ... lost during ..." in err; -1. */
int		 dx_conn_lost(struct dx_conn *, struct dx_err *);
/* True if a libssh2 rc means the session (not only a channel) is gone. */
bool		 dx_conn_rc_fatal(int rc);
/* libssh2's last error message on the session, for "failed: ..." messages. */
const char	*dx_conn_errmsg(struct dx_conn *);
/*
 * Authenticates as the target's user (conn_auth.c), the phase budget
 * until until.  Returns 0, or -1 with err set (DX_AUTH, DX_CONNECT_TIMEOUT,
 * DX_NETWORK, a wait's kind).
 */
int		 dx_conn_auth(struct dx_conn *, int64_t until, struct dx_err *);

#endif
