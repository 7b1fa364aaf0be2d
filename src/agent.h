/*
 * agent.h - an ssh-agent client whose every wait is bounded.
 *
 * libssh2's agent code does blocking I/O on the agent's unix socket: an
 * agent that accepts and never answers hangs the drone past its connect
 * budget, the deadline and an interrupt.  This client speaks the agent
 * protocol itself (draft-miller-ssh-agent: REQUEST_IDENTITIES = 11,
 * IDENTITIES_ANSWER = 12, SIGN_REQUEST = 13, SIGN_RESPONSE = 14) over a
 * non-blocking socket, each wait polled beside the abort pipe within the
 * caller's budget and the deadline (fdwait.h); signing goes through
 * libssh2_userauth_publickey()'s callback, dx_agent_sign().
 *
 * A dx_agent belongs to one drone thread.  Key blobs returned are
 * borrowed from it; dx_agent_close() frees everything.
 */
#ifndef DX_AGENT_H
#define DX_AGENT_H

#include <libssh2.h>

#include "dronex.h"

struct dx_agent;

/*
 * Connects to the agent at sock and lists its keys.  Returns 0 with
 * *out, DX_WAIT_EXPIRED (fdwait.h) when until passed, -2 when the agent
 * cannot be used (err says why: no socket, refused, a protocol error), or
 * -1 with err set (deadline, interrupt, out of memory).
 */
int	dx_agent_open(const char *sock, int64_t until, const struct dx_ctl *ctl,
	    struct dx_agent **out, struct dx_err *err);
void	dx_agent_close(struct dx_agent *);
size_t	dx_agent_nkeys(const struct dx_agent *);
/* Key i's wire-format public key blob. */
const unsigned char *dx_agent_key(const struct dx_agent *, size_t i,
	    size_t *len);

/* What dx_agent_sign() needs; *abstract of the callback points to it. */
struct dx_agent_signer {
	struct dx_agent		*agent;
	size_t			 key;		/* index of the key offered */
	int64_t			 until;		/* the auth budget */
	const struct dx_ctl	*ctl;
	int			 rc;		/* 0, DX_WAIT_EXPIRED, -1 */
	struct dx_err		 err;		/* when rc is -1 */
};

/* libssh2's sign callback: the agent signs data with the offered key. */
int	dx_agent_sign(LIBSSH2_SESSION *, unsigned char **sig, size_t *sig_len,
	    const unsigned char *data, size_t data_len, void **abstract);

#endif
