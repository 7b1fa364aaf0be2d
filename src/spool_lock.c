/*
 * spool_lock.c - DIR/lock: serve's exclusive flock while it runs, and the
 * clients' test of it (spool.h).  The lock file is checked as every spool
 * file is (spool.c): a regular file with one link, ours, opened without
 * following a symlink.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"
#include "spool_int.h"

/* The pid written in the lock file, or 0. */
static long
spool_lock_pid(int fd)
{
	char buf[32];
	ssize_t r = pread(fd, buf, sizeof(buf) - 1, 0);

	if (r <= 0)
		return 0;
	buf[r] = '\0';
	return strtol(buf, NULL, 10);
}

static int
spool_lock_fd(struct dx_spool *sp, int flags, struct dx_err *err)
{
	char where[PATH_MAX], why[128];
	struct stat st;
	int fd, e;

	dx_spool_where(sp, NULL, "lock", where, sizeof(where));
	fd = openat(sp->dirfd, "lock", flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC, 0600);
	if (fd == -1) {
		e = errno;
		if (e == ELOOP)
			dx_err_set(err, DX_USAGE, "refused '%s': is a symlink", where);
		else
			dx_err_set(err, DX_INTERNAL, "cannot open '%s': %s", where,
			    strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) == -1 || dx_spool_file_ok(&st, 4096, why, sizeof(why)) == -1) {
		close(fd);
		errno = EINVAL;
		return dx_err_set(err, DX_USAGE, "refused '%s': %s", where, why);
	}
	return fd;
}

int
dx_spool_lock(struct dx_spool *sp, struct dx_err *err)
{
	char pid[32];
	int fd, n;

	if (sp->lockfd != -1)
		return 0;
	if ((fd = spool_lock_fd(sp, O_RDWR | O_CREAT, err)) == -1)
		return -1;
	/*
	 * A client testing the lock holds a shared flock for a moment: retry
	 * for up to a second before deciding another serve holds it.  This
	 * runs once, at serve's start.
	 */
	for (n = 0; flock(fd, LOCK_EX | LOCK_NB) == -1; n++) {
		if ((errno != EWOULDBLOCK && errno != EINTR) || n == 100) {
			long other = spool_lock_pid(fd);

			close(fd);
			if (other > 0)
				return dx_err_set(err, DX_USAGE, "serve is already running "
				    "on '%s' (pid %ld)", sp->path, other);
			return dx_err_set(err, DX_USAGE, "serve is already running on "
			    "'%s'", sp->path);
		}
		poll(NULL, 0, 10);
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)n, 0) != n) {
		int e = errno;

		close(fd);
		return dx_err_set(err, DX_INTERNAL, "cannot write '%s/lock': %s",
		    sp->path, strerror(e));
	}
	sp->lockfd = fd;
	return 0;
}

bool
dx_spool_serve_running(struct dx_spool *sp, long *pid)
{
	bool running = false;
	int fd;

	if (pid != NULL)
		*pid = 0;
	if (sp->lockfd != -1) {
		if (pid != NULL)
			*pid = (long)getpid();
		return true;
	}
	if ((fd = spool_lock_fd(sp, O_RDONLY, NULL)) == -1)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) == -1) {
		running = errno == EWOULDBLOCK;
		if (running && pid != NULL)
			*pid = spool_lock_pid(fd);
	}
	close(fd);	/* drops our shared lock, if we got it */
	return running;
}

