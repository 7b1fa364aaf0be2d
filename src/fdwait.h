/*
 * fdwait.h - a bounded wait on one descriptor beside the queue's abort
 * pipe, for the waits of a drone that are not on its SSH session: the
 * TCP connect (transport.c), the resolver's answer and the ssh-agent's
 * replies.  Like conn.c's own wait, it never outlives the phase budget,
 * the run deadline or an abort.
 */
#ifndef DX_FDWAIT_H
#define DX_FDWAIT_H

#include "dronex.h"

#define DX_WAIT_EXPIRED	1

/*
 * Polls fd for events until until (monotonic ms; 0: none), ctl's deadline
 * or an abort.  Returns 0 when fd is ready, DX_WAIT_EXPIRED when until
 * passed, or -1 with err set: DX_DEADLINE, DX_INTERRUPTED ("... what"),
 * or DX_INTERNAL if poll failed.  ctl may be NULL.
 */
int	dx_fd_wait(int fd, short events, int64_t until, const struct dx_ctl *ctl,
	    const char *what, struct dx_err *err);

#endif
