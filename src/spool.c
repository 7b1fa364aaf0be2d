/*
 * spool.c - the spool directory of "dronex serve" (spool.h).
 *
 * Theory of operation.  Every path is resolved relative to a directory
 * descriptor opened once, at dx_spool_open(), after the spool itself and
 * each subdirectory were checked on their descriptors (fstat: a
 * directory, our owner, not group or other writable).  A later rename of
 * DIR or of a subdirectory by somebody else cannot redirect us: we keep
 * the directories we checked.
 *
 * A file is trusted only after fstat() of the descriptor we read from, as
 * Postfix's safe_open() does: O_NOFOLLOW makes a symlink fail to open
 * (ELOOP) instead of being followed, O_NONBLOCK makes a FIFO open at once
 * instead of hanging, and the fstat() then says what was opened: a regular
 * file with exactly one link (a hard link to some other file would let
 * whoever made it have serve read or overwrite that file), owned by us, not
 * writable by group or others, and small enough.  An fstatat() before the
 * open only keeps us from opening a device or FIFO at all (opening a
 * device can have side effects); the decision is made on the descriptor,
 * so there is no race between the check and the use.
 *
 * Writes are atomic and durable as a mail queue's are: the file is made
 * in tmp/ with O_EXCL, 0600, written, fsync'd, renamed into its directory
 * without overwriting (renameat2 RENAME_NOREPLACE), and the directory is
 * fsync'd, so a reader sees
 * either no file or the whole file, also after a crash.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"
#include "spool_int.h"

static const char *const spool_subs[] = {
	"tmp", "requested", "pending", "running", "complete", "aborting",
	"control"
};
_Static_assert(sizeof(spool_subs) / sizeof(spool_subs[0]) == SPOOL_NSUBS,
    "SPOOL_NSUBS in spool_int.h");

static int
spool_sub_index(const char *sub)
{
	for (size_t i = 0; i < SPOOL_NSUBS; i++)
		if (strcmp(sub, spool_subs[i]) == 0)
			return (int)i;
	return -1;
}

int
dx_spool_dirfd(const struct dx_spool *sp, const char *sub)
{
	int i;

	if (sub == NULL || strcmp(sub, ".") == 0)
		return sp->dirfd;
	if ((i = spool_sub_index(sub)) == -1)
		return -1;
	return sp->subfd[i];
}

const char *
dx_spool_path(const struct dx_spool *sp)
{
	return sp->path;
}

bool
dx_spool_name_ok(const char *name)
{
	size_t n;

	if (name == NULL || name[0] == '\0' || name[0] == '.')
		return false;
	for (n = 0; name[n] != '\0'; n++) {
		char c = name[n];

		if (n >= DX_SPOOL_NAME_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* "sub/name" under the spool, for messages. */
void
dx_spool_where(const struct dx_spool *sp, const char *sub, const char *name,
    char *buf, size_t size)
{
	if (sub == NULL || strcmp(sub, ".") == 0)
		snprintf(buf, size, "%s/%s", sp->path, name);
	else
		snprintf(buf, size, "%s/%s/%s", sp->path, sub, name);
}

/* The descriptor of sub, or -1 with err set. */
int
dx_spool_subfd(const struct dx_spool *sp, const char *sub, const char *name,
    struct dx_err *err)
{
	int fd = dx_spool_dirfd(sp, sub);

	if (fd == -1) {
		errno = EINVAL;
		return dx_err_set(err, DX_INTERNAL, "spool '%s' has no directory '%s'",
		    sp->path, sub);
	}
	if (!dx_spool_name_ok(name)) {
		errno = EINVAL;
		return dx_err_set(err, DX_USAGE, "'%s' is not a safe spool file name",
		    name);
	}
	return fd;
}

static const char *
spool_type_why(mode_t m)
{
	if (S_ISLNK(m))
		return "is a symlink";
	if (S_ISFIFO(m))
		return "is a FIFO";
	if (S_ISSOCK(m))
		return "is a socket";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "is a device";
	if (S_ISDIR(m))
		return "is a directory";
	if (!S_ISREG(m))
		return "is not a regular file";
	return NULL;
}

/* "9 MiB", "12 KiB", "100 bytes". */
static void
spool_size(uint64_t n, char *buf, size_t size)
{
	if (n >= ((uint64_t)1 << 20) && n % ((uint64_t)1 << 20) == 0)
		snprintf(buf, size, "%llu MiB", (unsigned long long)(n >> 20));
	else if (n >= ((uint64_t)1 << 20))
		snprintf(buf, size, "%.1f MiB", (double)n / (1 << 20));
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(buf, size, "%llu KiB", (unsigned long long)(n >> 10));
	else
		snprintf(buf, size, "%llu bytes", (unsigned long long)n);
}

/*
 * The checks every spool file passes, on its fstat: why it is refused, in
 * why, or 0.
 */
int
dx_spool_file_ok(const struct stat *st, size_t max, char *why, size_t size)
{
	const char *t;
	char a[32], b[32];

	if ((t = spool_type_why(st->st_mode)) != NULL) {
		snprintf(why, size, "%s", t);
		return -1;
	}
	if (st->st_nlink != 1) {
		snprintf(why, size, "has %ju links", (uintmax_t)st->st_nlink);
		return -1;
	}
	if (st->st_uid != geteuid()) {
		snprintf(why, size, "is owned by uid %ju, not %ju",
		    (uintmax_t)st->st_uid, (uintmax_t)geteuid());
		return -1;
	}
	if ((st->st_mode & 022) != 0) {
		snprintf(why, size, "is writable by group or others (mode %04o)",
		    (unsigned)(st->st_mode & 07777));
		return -1;
	}
	if (max != 0 && (uint64_t)st->st_size > max) {
		spool_size((uint64_t)st->st_size, a, sizeof(a));
		spool_size(max, b, sizeof(b));
		snprintf(why, size, "is %s, over the %s limit", a, b);
		return -1;
	}
	return 0;
}

/*
 * Opens sub/name safely with flags (O_RDONLY or O_WRONLY|O_APPEND): the
 * descriptor, or -1 with errno and err set.  max 0: no size limit.
 */
int
dx_spool_open_safe(struct dx_spool *sp, const char *sub, const char *name,
    int flags, size_t max, struct stat *stp, struct dx_err *err)
{
	char where[PATH_MAX], why[128];
	struct stat pre, st;
	int dfd, fd, e;

	if ((dfd = dx_spool_subfd(sp, sub, name, err)) == -1)
		return -1;
	dx_spool_where(sp, sub, name, where, sizeof(where));
	/* Only to avoid opening a device or FIFO at all; fstat decides. */
	if (fstatat(dfd, name, &pre, AT_SYMLINK_NOFOLLOW) == -1) {
		e = errno;
		dx_err_set(err, DX_INTERNAL, "cannot read '%s': %s", where,
		    strerror(e));
		errno = e;
		return -1;
	}
	if (spool_type_why(pre.st_mode) != NULL) {
		dx_err_set(err, DX_USAGE, "refused '%s': %s", where,
		    spool_type_why(pre.st_mode));
		errno = S_ISLNK(pre.st_mode) ? ELOOP : EINVAL;
		return -1;
	}
	fd = openat(dfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd == -1) {
		e = errno;
		if (e == ELOOP)
			dx_err_set(err, DX_USAGE, "refused '%s': is a symlink", where);
		else if (e == ENXIO)
			dx_err_set(err, DX_USAGE, "refused '%s': is a socket", where);
		else
			dx_err_set(err, DX_INTERNAL, "cannot open '%s': %s", where,
			    strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		e = errno;
		close(fd);
		dx_err_set(err, DX_INTERNAL, "cannot stat '%s': %s", where,
		    strerror(e));
		errno = e;
		return -1;
	}
	if (dx_spool_file_ok(&st, max, why, sizeof(why)) == -1) {
		close(fd);
		dx_err_set(err, DX_USAGE, "refused '%s': %s", where, why);
		errno = EINVAL;
		return -1;
	}
	/* Regular from here on: reads no longer need O_NONBLOCK. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (stp != NULL)
		*stp = st;
	return fd;
}

/* Checks a spool directory's descriptor. */
static int
spool_dir_ok(int fd, const char *where, struct dx_err *err)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return dx_err_set(err, DX_INTERNAL, "cannot stat spool '%s': %s", where,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return dx_err_set(err, DX_USAGE, "spool '%s' is not a directory", where);
	if (st.st_uid != geteuid())
		return dx_err_set(err, DX_USAGE, "spool '%s' is owned by uid %ju, not "
		    "by uid %ju (this user)", where, (uintmax_t)st.st_uid,
		    (uintmax_t)geteuid());
	if ((st.st_mode & 022) != 0)
		return dx_err_set(err, DX_USAGE, "spool '%s' is writable by group or "
		    "others (mode %04o; want 0700)", where,
		    (unsigned)(st.st_mode & 07777));
	return 0;
}

static int
spool_open_dir(int at, const char *name, const char *where, struct dx_err *err)
{
	int fd, e;

	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		e = errno;
		if (e == ELOOP)
			dx_err_set(err, DX_USAGE, "spool '%s' is a symlink", where);
		else if (e == ENOTDIR) {
			struct stat st;

			/* O_DIRECTORY wins over O_NOFOLLOW's ELOOP: say which it is. */
			dx_err_set(err, DX_USAGE, "spool '%s' is %s", where,
			    fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode) ? "a symlink" : "not a directory");
		}
		else if (e == ENOENT)
			dx_err_set(err, DX_USAGE, "spool '%s' does not exist (dronex "
			    "serve --spool creates it)", where);
		else
			dx_err_set(err, DX_INTERNAL, "cannot open spool '%s': %s", where,
			    strerror(e));
		errno = e;
		return -1;
	}
	if (spool_dir_ok(fd, where, err) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
dx_spool_open(struct dx_spool **out, const char *dir, bool create,
    struct dx_err *err)
{
	struct dx_spool *sp;
	char where[PATH_MAX];
	int rc = -1;

	*out = NULL;
	if (dir == NULL || dir[0] == '\0')
		return dx_err_set(err, DX_USAGE, "no spool directory given");
	if ((sp = calloc(1, sizeof(*sp))) == NULL ||
	    (sp->path = strdup(dir)) == NULL) {
		free(sp);
		return dx_err_set(err, DX_INTERNAL, "out of memory");
	}
	/* Trailing slashes would double up in messages. */
	for (size_t n = strlen(sp->path); n > 1 && sp->path[n - 1] == '/'; n--)
		sp->path[n - 1] = '\0';
	sp->dirfd = -1;
	sp->lockfd = -1;
	for (size_t i = 0; i < SPOOL_NSUBS; i++)
		sp->subfd[i] = -1;
	pthread_mutex_init(&sp->mu, NULL);
	if (create && mkdir(sp->path, 0700) == -1 && errno != EEXIST) {
		dx_err_set(err, DX_INTERNAL, "cannot create spool '%s': %s", sp->path,
		    strerror(errno));
		goto out;
	}
	if ((sp->dirfd = spool_open_dir(AT_FDCWD, sp->path, sp->path, err)) == -1)
		goto out;
	for (size_t i = 0; i < SPOOL_NSUBS; i++) {
		snprintf(where, sizeof(where), "%s/%s", sp->path, spool_subs[i]);
		if (create && mkdirat(sp->dirfd, spool_subs[i], 0700) == -1 &&
		    errno != EEXIST) {
			dx_err_set(err, DX_INTERNAL, "cannot create '%s': %s", where,
			    strerror(errno));
			goto out;
		}
		if ((sp->subfd[i] = spool_open_dir(sp->dirfd, spool_subs[i], where,
		    err)) == -1)
			goto out;
	}
	if (create)
		fsync(sp->dirfd);
	rc = 0;
	*out = sp;
	sp = NULL;
out:
	dx_spool_close(sp);
	return rc;
}

void
dx_spool_close(struct dx_spool *sp)
{
	if (sp == NULL)
		return;
	for (size_t i = 0; i < SPOOL_NSUBS; i++)
		if (sp->subfd[i] != -1)
			close(sp->subfd[i]);
	if (sp->dirfd != -1)
		close(sp->dirfd);
	if (sp->lockfd != -1)
		close(sp->lockfd);
	pthread_mutex_destroy(&sp->mu);
	free(sp->path);
	free(sp);
}

int
dx_spool_new_id(struct dx_spool *sp, char *id, size_t idlen, struct dx_err *err)
{
	struct timespec ts;
	struct tm tm;
	uint64_t us;
	unsigned counter;
	time_t sec;
	char stamp[32];

	if (idlen < DX_SPOOL_ID_SIZE)
		return dx_err_set(err, DX_INTERNAL, "id buffer too small");
	clock_gettime(CLOCK_REALTIME, &ts);
	us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	pthread_mutex_lock(&sp->mu);
	/* Strictly increasing within the spool, even if the clock steps back. */
	if (us <= sp->last_us)
		us = sp->last_us + 1;
	sp->last_us = us;
	counter = sp->counter;
	sp->counter = (sp->counter + 1) % 10000;
	pthread_mutex_unlock(&sp->mu);
	sec = (time_t)(us / 1000000u);
	if (gmtime_r(&sec, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm) != 15)
		return dx_err_set(err, DX_INTERNAL, "cannot format the time");
	snprintf(id, idlen, "%s.%06uZ-%010ld-%04u", stamp,
	    (unsigned)(us % 1000000u), (long)getpid() % 10000000000L, counter);
	return 0;
}

int
dx_spool_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * rename(from/name -> to/newname) without overwriting: renameat2 with
 * RENAME_NOREPLACE.  Where the file system lacks it, a look first, then a
 * plain rename: names are unique ids, so the window only matters for a
 * name reused on purpose.  Not link + unlink: for a moment the file would
 * have two links, and a reader would rightly refuse it.
 */
static int
spool_rename_noreplace(int from, const char *name, int to, const char *newname)
{
	struct stat st;

#ifdef RENAME_NOREPLACE
	if (renameat2(from, name, to, newname, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
#endif
	if (fstatat(to, newname, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	return renameat(from, name, to, newname);
}

int
dx_spool_write(struct dx_spool *sp, const char *sub, const char *name,
    const void *buf, size_t len, bool replace, struct dx_err *err)
{
	char where[PATH_MAX];
	int tfd = sp->subfd[0], dfd, fd = -1, e;

	if ((dfd = dx_spool_subfd(sp, sub, name, err)) == -1)
		return -1;
	dx_spool_where(sp, sub, name, where, sizeof(where));
	for (int tries = 0; fd == -1; tries++) {
		fd = openat(tfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_NONBLOCK | O_CLOEXEC, 0600);
		/* A stale tmp/name from a crash: the name is ours (unique ids). */
		if (fd == -1 && errno == EEXIST && tries == 0 &&
		    unlinkat(tfd, name, 0) == 0)
			continue;
		if (fd == -1) {
			e = errno;
			dx_err_set(err, DX_INTERNAL, "cannot create '%s/tmp/%s': %s",
			    sp->path, name, strerror(e));
			errno = e;
			return -1;
		}
	}
	/* The umask may have taken bits away, never added: make it exact. */
	if (fchmod(fd, 0600) == -1 || dx_spool_write_all(fd, buf, len) == -1 ||
	    fsync(fd) == -1) {
		e = errno;
		close(fd);
		unlinkat(tfd, name, 0);
		dx_err_set(err, DX_INTERNAL, "cannot write '%s/tmp/%s': %s", sp->path,
		    name, strerror(e));
		errno = e;
		return -1;
	}
	if (close(fd) == -1) {
		e = errno;
		unlinkat(tfd, name, 0);
		dx_err_set(err, DX_INTERNAL, "cannot write '%s/tmp/%s': %s", sp->path,
		    name, strerror(e));
		errno = e;
		return -1;
	}
	if ((replace ? renameat(tfd, name, dfd, name) :
	    spool_rename_noreplace(tfd, name, dfd, name)) == -1) {
		e = errno;
		unlinkat(tfd, name, 0);
		if (e == EEXIST)
			dx_err_set(err, DX_INTERNAL, "'%s' already exists", where);
		else
			dx_err_set(err, DX_INTERNAL, "cannot rename into '%s': %s", where,
			    strerror(e));
		errno = e;
		return -1;
	}
	if (fsync(dfd) == -1) {
		e = errno;
		dx_err_set(err, DX_INTERNAL, "cannot sync the directory of '%s': %s",
		    where, strerror(e));
		errno = e;
		return -1;
	}
	return 0;
}

int
dx_spool_submit(struct dx_spool *sp, const void *buf, size_t len, char *id,
    size_t idlen, struct dx_err *err)
{
	for (int tries = 0; tries < 100; tries++) {
		if (dx_spool_new_id(sp, id, idlen, err) == -1)
			return -1;
		/* Never overwrite: another submitter's id wins, we take a new one. */
		if (dx_spool_write(sp, "requested", id, buf, len, false, err) == 0)
			return 0;
		if (errno != EEXIST)
			return -1;
	}
	return dx_err_set(err, DX_INTERNAL, "cannot find a free request id in '%s'",
	    sp->path);
}

int
dx_spool_check(struct dx_spool *sp, const char *sub, const char *name,
    size_t max, struct dx_err *err)
{
	int fd = dx_spool_open_safe(sp, sub, name, O_RDONLY, max, NULL, err);

	if (fd == -1)
		return -1;
	close(fd);
	return 0;
}

int
dx_spool_read(struct dx_spool *sp, const char *sub, const char *name, size_t max,
    char **bufp, size_t *lenp, struct dx_err *err)
{
	char where[PATH_MAX];
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap;
	int fd, e, rc = -1;

	*bufp = NULL;
	*lenp = 0;
	if ((fd = dx_spool_open_safe(sp, sub, name, O_RDONLY, max, &st, err)) == -1)
		return -1;
	dx_spool_where(sp, sub, name, where, sizeof(where));
	cap = (size_t)st.st_size + 1;
	if ((buf = malloc(cap)) == NULL) {
		dx_err_set(err, DX_INTERNAL, "out of memory reading '%s'", where);
		errno = ENOMEM;
		goto out;
	}
	/* Read what fstat said, and no more: a file that grows is cut at max. */
	while (len < cap - 1) {
		ssize_t r = read(fd, buf + len, cap - 1 - len);

		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			e = errno;
			dx_err_set(err, DX_INTERNAL, "cannot read '%s': %s", where,
			    strerror(e));
			errno = e;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	rc = 0;
	*bufp = buf;
	*lenp = len;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

int
dx_spool_rename(struct dx_spool *sp, const char *from, const char *name,
    const char *to, const char *newname, struct dx_err *err)
{
	char where[PATH_MAX];
	int ffd, tfd, e;

	if ((ffd = dx_spool_subfd(sp, from, name, err)) == -1 ||
	    (tfd = dx_spool_subfd(sp, to, newname, err)) == -1)
		return -1;
	dx_spool_where(sp, from, name, where, sizeof(where));
	if (spool_rename_noreplace(ffd, name, tfd, newname) == -1) {
		e = errno;
		if (e == EEXIST)
			dx_err_set(err, DX_INTERNAL, "cannot move '%s': '%s/%s' already "
			    "exists", where, to, newname);
		else
			dx_err_set(err, DX_INTERNAL, "cannot move '%s' to '%s/': %s", where,
			    to, strerror(e));
		errno = e;
		return -1;
	}
	if (fsync(tfd) == -1 || (ffd != tfd && fsync(ffd) == -1)) {
		e = errno;
		dx_err_set(err, DX_INTERNAL, "cannot sync the spool directories of "
		    "'%s': %s", where, strerror(e));
		errno = e;
		return -1;
	}
	return 0;
}

int
dx_spool_move(struct dx_spool *sp, const char *from, const char *to,
    const char *name, struct dx_err *err)
{
	return dx_spool_rename(sp, from, name, to, name, err);
}

int
dx_spool_remove(struct dx_spool *sp, const char *sub, const char *name,
    struct dx_err *err)
{
	char where[PATH_MAX];
	int dfd, e;

	if ((dfd = dx_spool_subfd(sp, sub, name, err)) == -1)
		return -1;
	if (unlinkat(dfd, name, 0) == -1) {
		if (errno == ENOENT)
			return 0;
		e = errno;
		dx_spool_where(sp, sub, name, where, sizeof(where));
		dx_err_set(err, DX_INTERNAL, "cannot remove '%s': %s", where,
		    strerror(e));
		errno = e;
		return -1;
	}
	if (fsync(dfd) == -1) {
		e = errno;
		dx_spool_where(sp, sub, name, where, sizeof(where));
		dx_err_set(err, DX_INTERNAL, "cannot sync the directory of '%s': %s",
		    where, strerror(e));
		errno = e;
		return -1;
	}
	return 0;
}

bool
dx_spool_exists(struct dx_spool *sp, const char *sub, const char *name)
{
	struct stat st;
	int dfd = dx_spool_dirfd(sp, sub);

	if (dfd == -1 || !dx_spool_name_ok(name))
		return false;
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int
spool_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
dx_spool_names_free(char **names, size_t n)
{
	if (names == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int
dx_spool_list(struct dx_spool *sp, const char *sub, char ***namesp, size_t *np,
    void (*bad)(void *, const char *, const char *, const char *), void *arg,
    struct dx_err *err)
{
	char **names = NULL, **grown;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = NULL;
	int dfd, fd, rc = -1;

	*namesp = NULL;
	*np = 0;
	if ((dfd = dx_spool_dirfd(sp, sub)) == -1)
		return dx_err_set(err, DX_INTERNAL, "spool '%s' has no directory '%s'",
		    sp->path, sub);
	/* A descriptor of our own: readdir's position is per open file. */
	if ((fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (d = fdopendir(fd)) == NULL) {
		dx_err_set(err, DX_INTERNAL, "cannot list '%s/%s': %s", sp->path, sub,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		const char *why = NULL;
		struct stat st;
		unsigned char t = de->d_type;

		if (de->d_name[0] == '.')
			continue;
		if (t == DT_UNKNOWN) {
			if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
				continue;	/* gone meanwhile */
			t = S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
			why = spool_type_why(st.st_mode);
		} else if (t == DT_LNK)
			why = "is a symlink";
		else if (t == DT_FIFO)
			why = "is a FIFO";
		else if (t == DT_SOCK)
			why = "is a socket";
		else if (t == DT_CHR || t == DT_BLK)
			why = "is a device";
		else if (t == DT_DIR)
			why = "is a directory";
		else if (t != DT_REG)
			why = "is not a regular file";
		if (why == NULL && !dx_spool_name_ok(de->d_name))
			why = "has an unsafe name";
		if (why != NULL) {
			if (bad != NULL)
				bad(arg, sub, de->d_name, why);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((grown = realloc(names, cap * sizeof(*names))) == NULL)
				goto oom;
			names = grown;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			goto oom;
		n++;
	}
	if (errno != 0) {
		dx_err_set(err, DX_INTERNAL, "cannot list '%s/%s': %s", sp->path, sub,
		    strerror(errno));
		goto out;
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), spool_cmp);
	rc = 0;
	*namesp = names;
	*np = n;
	names = NULL;
	goto out;
oom:
	dx_err_set(err, DX_INTERNAL, "out of memory");
out:
	dx_spool_names_free(names, n);
	closedir(d);
	return rc;
}
