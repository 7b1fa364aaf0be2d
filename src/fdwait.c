/*
 * fdwait.c - one bounded wait on a descriptor (see fdwait.h).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#include "fdwait.h"

int
dx_fd_wait(int fd, short events, int64_t until, const struct dx_ctl *ctl,
    const char *what, struct dx_err *err)
{
	struct pollfd pfd[2];
	int64_t now, t, dl = ctl != NULL ? ctl->deadline : 0;
	nfds_t nfds = 1;
	enum dx_kind why;
	int n;

	pfd[0].fd = fd;
	pfd[0].events = events;
	if (ctl != NULL && ctl->abort_fd >= 0) {
		pfd[1].fd = ctl->abort_fd;
		pfd[1].events = POLLIN;
		nfds = 2;
	}
	for (;;) {
		now = dx_now_ms();
		if (dl != 0 && now >= dl)
			return dx_err_set(err, DX_DEADLINE, "deadline reached%s", what);
		if (until != 0 && now >= until)
			return DX_WAIT_EXPIRED;
		t = now + 60000;
		if (until != 0 && until < t)
			t = until;
		if (dl != 0 && dl < t)
			t = dl;
		n = poll(pfd, nfds, (int)(t - now));
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return dx_err_set(err, DX_INTERNAL, "poll failed%s: %s", what,
			    strerror(errno));
		}
		if (nfds == 2 && pfd[1].revents != 0) {
			if ((why = dx_ctl_aborted(ctl)) == DX_OK)
				why = DX_INTERRUPTED;
			return dx_err_set(err, why, why == DX_DEADLINE ?
			    "deadline reached%s" : "interrupted%s", what);
		}
		if (n > 0 && pfd[0].revents != 0)
			return 0;
	}
}
