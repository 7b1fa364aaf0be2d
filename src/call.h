/*
 * call.h - one call (one command, one channel) on an open connection
 * (conn.h), filling a struct dx_call_result.
 *
 * The call runs on the thread attached to the connection.  It opens a
 * session channel, execs the command, feeds it its standard input (the
 * given bytes, then EOF; or EOF at once), drains stdout and stderr into
 * the call's capped buffers, and records the exit status or signal.  A
 * call cut by its timeout, the run's deadline or an abort still has a
 * command running on the drone: a second channel runs the kill script
 * (killscript.h) and the message says whether the command's end is
 * confirmed.
 *
 * Nothing is allocated that the call result does not own; the result
 * (dronex.h) says who frees it.
 */
#ifndef DX_CALL_H
#define DX_CALL_H

#include "conn.h"

struct dx_call_opts {
	int64_t		 timeout_ms;	/* per call; 0 = none */
	/* Standard input, borrowed; NULL: EOF at once. */
	const void	*stdin_data;
	size_t		 stdin_len;
};

/*
 * Runs cmd, the idx'th call (0-based, for messages: "call 2 'cmd'"), on c
 * under ctl (deadline, abort pipe).  Fills call: output, exit_status,
 * signal, elapsed_ms and error (DX_OK when it exited 0, else the call's
 * kind: DX_NONZERO_EXIT, DX_SIGNAL, DX_CALL_TIMEOUT, DX_CHANNEL,
 * DX_CONNECTION_LOST, DX_OUTPUT, DX_DEADLINE, DX_INTERRUPTED, and
 * DX_INTERNAL for a thread that is not attached to c).  Adds 1 to *sent
 * as soon as the exec request may have gone out (from then on the command
 * must not be sent again).  Returns 0 when the connection can carry the
 * next call, -1 when it cannot (lost, cut by the deadline or an abort, or
 * no longer in a known state).
 */
int	dx_call_run(struct dx_conn *c, const struct dx_ctl *ctl, size_t idx,
	    const char *cmd, const struct dx_call_opts *opts,
	    struct dx_call_result *call, size_t *sent);

#endif
