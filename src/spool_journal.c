/*
 * spool_journal.c - serve's crash journal (spool.h): one JSON line per
 * event, appended with one write(2) under the journal's mutex, made durable
 * by group commit.  A thread that needs its line on disk either starts an
 * fsync, covering every line appended before it, or waits for the one in
 * progress and then, if its line came after that one began, starts the
 * next.  So N threads appending at once cost about two fsyncs, not N.
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

struct dx_spool_journal {
	int		 fd;
	char		*path;			/* for messages */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	uint64_t	 appended;		/* mu: lines written */
	uint64_t	 synced;		/* mu: lines known durable */
	uint64_t	 nsyncs;		/* mu: fsyncs done */
	bool		 syncing;		/* mu: a thread is in fsync */
	int		 failed;		/* mu: errno of a failed write/fsync */
};

int
dx_spool_journal_open(struct dx_spool *sp, const char *sub, const char *name,
    bool create, struct dx_spool_journal **out, struct dx_err *err)
{
	struct dx_spool_journal *j;
	char where[PATH_MAX];
	struct stat st;
	int dfd, fd, e;

	*out = NULL;
	if ((dfd = dx_spool_subfd(sp, sub, name, err)) == -1)
		return -1;
	dx_spool_where(sp, sub, name, where, sizeof(where));
	if (create) {
		fd = openat(dfd, name, O_WRONLY | O_APPEND | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
		if (fd == -1 || fchmod(fd, 0600) == -1 || fsync(dfd) == -1) {
			e = errno;
			if (fd != -1)
				close(fd);
			dx_err_set(err, DX_INTERNAL, "cannot create '%s': %s", where,
			    strerror(e));
			errno = e;
			return -1;
		}
	} else {
		if ((fd = dx_spool_open_safe(sp, sub, name, O_RDWR | O_APPEND, 0, &st,
		    err)) == -1)
			return -1;
		/* A torn last line (a crash mid-write) must not swallow the next. */
		if (st.st_size > 0) {
			char c;

			if (pread(fd, &c, 1, st.st_size - 1) == 1 && c != '\n' &&
			    dx_spool_write_all(fd, "\n", 1) == -1) {
				e = errno;
				close(fd);
				dx_err_set(err, DX_INTERNAL, "cannot write '%s': %s", where,
				    strerror(e));
				errno = e;
				return -1;
			}
		}
	}
	if ((j = calloc(1, sizeof(*j))) == NULL || (j->path = strdup(where)) == NULL) {
		free(j);
		close(fd);
		return dx_err_set(err, DX_INTERNAL, "out of memory");
	}
	j->fd = fd;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	*out = j;
	return 0;
}

int
dx_spool_journal_append(struct dx_spool_journal *j, const char *line, size_t len,
    uint64_t *seq, struct dx_err *err)
{
	char *buf;
	int e = 0;

	if (memchr(line, '\n', len) != NULL)
		return dx_err_set(err, DX_INTERNAL, "journal line holds a newline");
	if ((buf = malloc(len + 1)) == NULL)
		return dx_err_set(err, DX_INTERNAL, "out of memory");
	memcpy(buf, line, len);
	buf[len] = '\n';
	pthread_mutex_lock(&j->mu);
	if (j->failed != 0)
		e = j->failed;
	else if (dx_spool_write_all(j->fd, buf, len + 1) == -1)
		e = j->failed = errno;
	else if (seq != NULL)
		*seq = ++j->appended;
	else
		++j->appended;
	pthread_mutex_unlock(&j->mu);
	free(buf);
	if (e != 0) {
		errno = e;
		return dx_err_set(err, DX_INTERNAL, "cannot write '%s': %s", j->path,
		    strerror(e));
	}
	return 0;
}

int
dx_spool_journal_sync(struct dx_spool_journal *j, uint64_t seq, struct dx_err *err)
{
	int e = 0;

	pthread_mutex_lock(&j->mu);
	while (j->synced < seq && j->failed == 0) {
		uint64_t target;
		int r;

		if (j->syncing) {
			/* The sync in progress may cover us; else we start the next. */
			pthread_cond_wait(&j->cv, &j->mu);
			continue;
		}
		j->syncing = true;
		target = j->appended;
		pthread_mutex_unlock(&j->mu);
		r = fdatasync(j->fd);
		e = errno;
		pthread_mutex_lock(&j->mu);
		j->syncing = false;
		j->nsyncs++;
		if (r == -1)
			j->failed = e;
		else if (target > j->synced)
			j->synced = target;
		pthread_cond_broadcast(&j->cv);
	}
	e = j->synced >= seq ? 0 : j->failed;
	pthread_mutex_unlock(&j->mu);
	if (e != 0) {
		errno = e;
		return dx_err_set(err, DX_INTERNAL, "cannot sync '%s': %s", j->path,
		    strerror(e));
	}
	return 0;
}

int
dx_spool_journal_put(struct dx_spool_journal *j, const char *line,
    struct dx_err *err)
{
	uint64_t seq;

	if (dx_spool_journal_append(j, line, strlen(line), &seq, err) == -1)
		return -1;
	return dx_spool_journal_sync(j, seq, err);
}

void
dx_spool_journal_counts(struct dx_spool_journal *j, uint64_t *lines,
    uint64_t *syncs)
{
	pthread_mutex_lock(&j->mu);
	if (lines != NULL)
		*lines = j->appended;
	if (syncs != NULL)
		*syncs = j->nsyncs;
	pthread_mutex_unlock(&j->mu);
}

void
dx_spool_journal_close(struct dx_spool_journal *j)
{
	if (j == NULL)
		return;
	close(j->fd);
	pthread_cond_destroy(&j->cv);
	pthread_mutex_destroy(&j->mu);
	free(j->path);
	free(j);
}

int
dx_spool_journal_read(struct dx_spool *sp, const char *sub, const char *name,
    size_t max, char ***linesp, size_t *np, bool *torn, struct dx_err *err)
{
	char *buf, *p, *nl, **lines = NULL, **grown;
	size_t len, n = 0, cap = 0;
	int rc = -1;

	*linesp = NULL;
	*np = 0;
	if (torn != NULL)
		*torn = false;
	if (dx_spool_read(sp, sub, name, max, &buf, &len, err) == -1)
		return -1;
	for (p = buf; p < buf + len; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(buf + len - p))) == NULL) {
			if (torn != NULL)
				*torn = true;
			break;
		}
		if (nl == p)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((grown = realloc(lines, cap * sizeof(*lines))) == NULL)
				goto oom;
			lines = grown;
		}
		if ((lines[n] = strndup(p, (size_t)(nl - p))) == NULL)
			goto oom;
		n++;
	}
	rc = 0;
	*linesp = lines;
	*np = n;
	lines = NULL;
	goto out;
oom:
	dx_err_set(err, DX_INTERNAL, "out of memory");
out:
	dx_spool_names_free(lines, n);
	free(buf);
	return rc;
}
