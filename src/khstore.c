/*
 * khstore.c - the known_hosts files of a run as one set (knownhosts.h).
 *
 * Theory of operation.  A store keeps one record per path, made and loaded
 * on first use under the list mutex (so each file is parsed once per run,
 * however many drones need it) and never removed before the store is
 * freed.  The parsed sets are read by many drone threads under the read
 * side of one rwlock; the write side is taken only to append a key
 * (accept-new) or to replace a set that another process changed.
 *
 * An append takes flock(LOCK_EX) on the user's file: other dronex
 * processes do the same, so under the lock the file is the whole truth.
 * If it is not the file that was loaded (device, inode, size or mtime
 * differ), it is read again from the locked descriptor before the key is
 * looked up once more; only a key still unknown is appended.  Thus two
 * runs that meet the same new host add it exactly once.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base64.h"
#include "fmt.h"
#include "knownhosts.h"

struct kh_file {
	struct kh_file		*next;
	char			*path;
	struct dx_known_hosts	*kh;	/* rw; NULL if it could not be read */
	struct dx_err		 err;	/* why not */
	bool			 usable; /* kh was loaded; set once, under lock */
	struct stat		 st;	/* rw; as loaded (st_ino 0: missing) */
};

struct dx_kh_store {
	pthread_mutex_t		 lock;	/* guards files (the list) */
	struct kh_file		*files;	/* lock */
	pthread_rwlock_t	 rw;	/* read: lookups; write: append, reload */
};

/* A lookup's outcome over the whole set. */
struct kh_verdict {
	enum dx_hk_verdict	 v;
	const char		*path;	/* the deciding file, borrowed */
	size_t			 line;
};

char *
dx_kh_fingerprint(const unsigned char *blob, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *fp;
	size_t n;

	if (EVP_Digest(blob, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		return NULL;
	/* "SHA256:" + 44 base64 characters + NUL. */
	if ((fp = malloc(7 + DX_BASE64_LEN(mdlen) + 1)) == NULL)
		return NULL;
	memcpy(fp, "SHA256:", 7);
	n = dx_base64_encode_buf(fp + 7, md, mdlen);
	/* OpenSSH prints it without the padding. */
	while (n > 0 && fp[7 + n - 1] == '=')
		n--;
	fp[7 + n] = '\0';
	return fp;
}

struct dx_kh_store *
dx_kh_store_new(struct dx_err *err)
{
	struct dx_kh_store *st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		goto oom;
	if (pthread_mutex_init(&st->lock, NULL) != 0) {
		free(st);
		goto oom;
	}
	if (pthread_rwlock_init(&st->rw, NULL) != 0) {
		pthread_mutex_destroy(&st->lock);
		free(st);
		goto oom;
	}
	return st;
oom:
	dx_err_set(err, DX_INTERNAL, "out of memory starting the known_hosts store");
	return NULL;
}

void
dx_kh_store_free(struct dx_kh_store *st)
{
	struct kh_file *f, *next;

	if (st == NULL)
		return;
	for (f = st->files; f != NULL; f = next) {
		next = f->next;
		dx_known_hosts_free(f->kh);
		free(f->path);
		free(f);
	}
	pthread_rwlock_destroy(&st->rw);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

/* The record for path, loaded on first use; NULL + err if it cannot be read. */
static struct kh_file *
kh_file_get(struct dx_kh_store *st, const char *path, struct dx_err *err)
{
	struct kh_file *f;

	pthread_mutex_lock(&st->lock);
	for (f = st->files; f != NULL; f = f->next)
		if (strcmp(f->path, path) == 0)
			break;
	if (f == NULL) {
		/* Loading under the lock makes it happen once per path. */
		if ((f = calloc(1, sizeof(*f))) == NULL ||
		    (f->path = strdup(path)) == NULL) {
			free(f);
			f = NULL;
			dx_err_set(err, DX_INTERNAL,
			    "out of memory reading known_hosts '%s'", path);
			goto out;
		}
		if (stat(path, &f->st) == -1)
			memset(&f->st, 0, sizeof(f->st));
		f->kh = dx_known_hosts_load(path, &f->err);
		f->usable = f->kh != NULL;
		f->next = st->files;
		st->files = f;
	}
	/* Not f->kh: an append may be replacing it under rw right now. */
	if (!f->usable) {
		*err = f->err;
		f = NULL;
	}
out:
	pthread_mutex_unlock(&st->lock);
	return f;
}

/* Every file of the set, in order (user files first); -1 + err. */
static int
kh_files_get(struct dx_kh_store *st, const struct dx_kh_files *files,
    struct kh_file **v, struct dx_err *err)
{
	size_t n = 0;

	for (size_t i = 0; i < files->nuser; i++)
		if ((v[n++] = kh_file_get(st, files->user[i], err)) == NULL)
			return -1;
	for (size_t i = 0; i < files->nglobal; i++)
		if ((v[n++] = kh_file_get(st, files->global[i], err)) == NULL)
			return -1;
	return 0;
}

/* The set's verdict (see knownhosts.h); the caller holds rw. */
static void
kh_check_all(struct kh_file **v, size_t n, const char *host, int port,
    const unsigned char *blob, size_t len, struct kh_verdict *out)
{
	struct kh_verdict revoked = { DX_HK_UNKNOWN, NULL, 0 };
	struct kh_verdict match = revoked, other = revoked;

	for (size_t i = 0; i < n; i++) {
		size_t line;
		enum dx_hk_verdict r = dx_known_hosts_check(v[i]->kh, host, port,
		    blob, len, &line);
		struct kh_verdict *slot = r == DX_HK_REVOKED ? &revoked :
		    r == DX_HK_MATCH ? &match : r == DX_HK_MISMATCH ? &other : NULL;

		if (slot != NULL && slot->v == DX_HK_UNKNOWN) {
			slot->v = r;
			slot->path = v[i]->path;
			slot->line = line;
		}
	}
	/* Revoked anywhere beats everything; a match anywhere beats a pin. */
	*out = revoked.v != DX_HK_UNKNOWN ? revoked : match.v != DX_HK_UNKNOWN ?
	    match : other;
}

static bool
kh_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/*
 * accept-new: under the write lock and flock(LOCK_EX) on the first user
 * file, re-reads that file if another process changed it, looks again and
 * appends the key only if the set still does not know the host (under a
 * hashed name when hash: ssh_config's HashKnownHosts).
 */
static int
kh_accept_new(struct dx_kh_store *st, struct kh_file **v, size_t n,
    const char *host, int port, const unsigned char *blob, size_t len,
    bool hash, struct kh_verdict *out, struct dx_err *err)
{
	struct kh_file *uf = v[0];
	struct dx_known_hosts *fresh;
	struct stat now;
	int fd, rc = -1;

	pthread_rwlock_wrlock(&st->rw);
	if ((fd = dx_known_hosts_open_append(uf->path, err)) == -1)
		goto out;
	while (flock(fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			dx_err_set(err, DX_HOSTKEY_UNKNOWN, "cannot lock known_hosts "
			    "'%s': %s", uf->path, strerror(errno));
			goto out;
		}
	}
	if (fstat(fd, &now) == -1) {
		dx_err_set(err, DX_HOSTKEY_UNKNOWN, "cannot add to known_hosts "
		    "'%s': %s", uf->path, strerror(errno));
		goto out;
	}
	if (!kh_same_file(&now, &uf->st)) {
		if ((fresh = dx_known_hosts_load_fd(fd, uf->path, err)) == NULL)
			goto out;
		dx_known_hosts_free(uf->kh);
		uf->kh = fresh;
		uf->st = now;
	}
	kh_check_all(v, n, host, port, blob, len, out);
	if (out->v == DX_HK_UNKNOWN) {
		if (dx_known_hosts_add_fd(uf->kh, fd, uf->path, host, port, blob,
		    len, hash, err) == -1)
			goto out;
		if (fstat(fd, &uf->st) == -1)
			memset(&uf->st, 0, sizeof(uf->st));
		out->v = DX_HK_MATCH;
	}
	rc = 0;
out:
	/* Closing the descriptor releases the flock. */
	if (fd != -1)
		close(fd);
	pthread_rwlock_unlock(&st->rw);
	return rc;
}

int
dx_kh_verify(struct dx_kh_store *st, const struct dx_kh_files *files,
    const char *host, int port, const unsigned char *blob, size_t len,
    bool accept_new, const char *fp, struct dx_err *err)
{
	struct kh_file *v[16];
	struct kh_verdict r;
	char hp[DX_FMT_HOSTPORT_MAX];
	const char *type = "unknown";
	int tlen = 7;
	size_t n = files->nuser + files->nglobal;

	if (n == 0 || n > sizeof(v) / sizeof(v[0]) || files->nuser == 0)
		return dx_err_set(err, DX_INTERNAL, "bad known_hosts file list");
	if (kh_files_get(st, files, v, err) == -1)
		return -1;
	pthread_rwlock_rdlock(&st->rw);
	kh_check_all(v, n, host, port, blob, len, &r);
	pthread_rwlock_unlock(&st->rw);
	if (r.v == DX_HK_UNKNOWN && accept_new &&
	    kh_accept_new(st, v, n, host, port, blob, len, files->hash, &r,
	    err) == -1)
		return -1;
	if (r.v == DX_HK_MATCH)
		return 0;
	dx_fmt_hostport(hp, sizeof(hp), host, port, DX_HP_SSH);
	if (len >= 4) {
		uint32_t t = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
		    (uint32_t)blob[2] << 8 | blob[3];

		if (t <= len - 4 && t < 64) {
			type = (const char *)blob + 4;
			tlen = (int)t;
		}
	}
	if (fp == NULL)
		fp = "SHA256:?";
	switch (r.v) {
	case DX_HK_REVOKED:
		return dx_err_set(err, DX_HOSTKEY_MISMATCH, "host key for %s "
		    "(%.*s %s) is revoked in %s:%zu", hp, tlen, type, fp, r.path,
		    r.line);
	case DX_HK_MISMATCH:
		return dx_err_set(err, DX_HOSTKEY_MISMATCH, "host key for %s "
		    "(%.*s %s) does not match %s:%zu", hp, tlen, type, fp, r.path,
		    r.line);
	default:
		return dx_err_set(err, DX_HOSTKEY_UNKNOWN, "host key for %s "
		    "(%.*s %s) is unknown: no line for the host in %s or the %zu "
		    "other known_hosts files", hp, tlen, type, fp, files->user[0],
		    n - 1);
	}
}

int
dx_kh_types(struct dx_kh_store *st, const struct dx_kh_files *files,
    const char *host, int port, char (*types)[DX_KH_TYPE_MAX], size_t max,
    struct dx_err *err)
{
	struct kh_file *v[16];
	const char *t[16];
	size_t n = files->nuser + files->nglobal, got = 0;

	if (n == 0 || n > sizeof(v) / sizeof(v[0]))
		return dx_err_set(err, DX_INTERNAL, "bad known_hosts file list");
	if (kh_files_get(st, files, v, err) == -1)
		return -1;
	pthread_rwlock_rdlock(&st->rw);
	for (size_t i = 0; i < n && got < max; i++) {
		size_t k = dx_known_hosts_types(v[i]->kh, host, port, t,
		    sizeof(t) / sizeof(t[0]));

		for (size_t j = 0; j < k && got < max; j++) {
			bool seen = strlen(t[j]) >= DX_KH_TYPE_MAX;

			for (size_t m = 0; m < got && !seen; m++)
				seen = strcmp(types[m], t[j]) == 0;
			if (!seen)
				snprintf(types[got++], DX_KH_TYPE_MAX, "%s", t[j]);
		}
	}
	pthread_rwlock_unlock(&st->rw);
	return (int)got;
}
