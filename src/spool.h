/*
 * spool.h - the spool directory "dronex serve" and its clients share
 * (SPEC section 7), kept safe the way Postfix keeps its queue.
 *
 *   DIR/            0700, owned by the user serve runs as
 *     tmp/          files being written; renamed into place when durable
 *     requested/    requests written by clients (submit, submit.py, ...)
 *     pending/      accepted by serve, waiting in its queue
 *     running/      started: ID and ID.journal
 *     complete/     results, the exec --format json document + "request"
 *     aborting/     ID: a client asks serve to abort request ID
 *     control/      CID.json from a client, CID.reply from serve
 *     lock          serve's exclusive flock while it runs
 *     status.json   serve's counters, rewritten atomically
 *
 * Trust.  dx_spool_open() refuses a spool that is not owned by the
 * effective user or that group or others can write, and any subdirectory
 * that is a symlink or not a directory.  Every file is opened relative to
 * the directory descriptors with O_NOFOLLOW|O_NONBLOCK and then checked
 * on the descriptor itself (fstat: regular file, one link, our owner,
 * size under the caller's limit), so there is no lstat-then-open race and
 * a FIFO never blocks.  Files are created exclusively (O_EXCL), 0600,
 * fsync'd, renamed into place without overwriting (RENAME_NOREPLACE) and
 * the directory is fsync'd, so a name that appears is complete and
 * durable.
 *
 * Ownership.  The spool owns its descriptors; dx_spool_close() frees it
 * (NULL is a no-op).  Buffers and name lists handed out are the caller's:
 * free() a buffer, dx_spool_names_free() a list.  Every function returns
 * 0, or -1 with err set (DX_INTERNAL unless said otherwise), and its
 * message names the file and why.  A dx_spool may be used by several
 * threads at once (dx_spool_new_id() locks its counter); the journal
 * functions are thread-safe as their comments say.
 */
#ifndef DX_SPOOL_H
#define DX_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dronex.h"

/* Request and control ids: "20261202T013300.123456Z-0000012345-0001". */
#define DX_SPOOL_ID_LEN		39
#define DX_SPOOL_ID_SIZE	64	/* a buffer for an id, NUL included */
/* A name in the spool: [A-Za-z0-9._-], not starting with '.', at most this long. */
#define DX_SPOOL_NAME_MAX	128
/* Default size limits for dx_spool_read() callers. */
#define DX_SPOOL_REQUEST_MAX	((size_t)96 << 20)	/* requests: 64 MiB stdin + base64 */
#define DX_SPOOL_SMALL_MAX	((size_t)1 << 20)	/* control files, status.json */

struct dx_spool;

/*
 * Opens the spool at dir.  create: make dir (0700) and the subdirectories
 * that are missing first.  Always: dir and every subdirectory must be real
 * directories (not symlinks), owned by geteuid(), not group or other
 * writable.  DX_USAGE for a spool that is refused ("spool '/x' is
 * writable by group or others"), DX_INTERNAL for system errors.
 */
int		 dx_spool_open(struct dx_spool **, const char *dir, bool create,
		    struct dx_err *);
void		 dx_spool_close(struct dx_spool *);
/* The path given to dx_spool_open() (borrowed). */
const char	*dx_spool_path(const struct dx_spool *);
/*
 * The descriptor of subdirectory sub ("tmp", "requested", ... "control"),
 * or of DIR itself for NULL or "."; -1 for an unknown name.  Borrowed.
 */
int		 dx_spool_dirfd(const struct dx_spool *, const char *sub);

/* True if name is safe as a spool file name (see DX_SPOOL_NAME_MAX). */
bool		 dx_spool_name_ok(const char *name);
/*
 * A new id into id (idlen >= DX_SPOOL_ID_SIZE): UTC time to the
 * microsecond, pid and a per-spool counter; fixed width, so ids sort in
 * arrival order, and strictly increasing within one dx_spool even if the
 * clock steps back.  Thread-safe.
 */
int		 dx_spool_new_id(struct dx_spool *, char *id, size_t idlen,
		    struct dx_err *);

/*
 * Atomic durable write of sub/name (sub NULL or "." for DIR itself):
 * tmp/name created O_CREAT|O_EXCL|O_NOFOLLOW 0600 (a stale tmp/name left
 * by a crash is removed first), written, fsync'd, renamed to sub/name and
 * sub fsync'd.  Without replace the rename never overwrites: an existing
 * sub/name fails with errno EEXIST and err "... already exists".
 */
int		 dx_spool_write(struct dx_spool *, const char *sub, const char *name,
		    const void *buf, size_t len, bool replace, struct dx_err *);
/*
 * A new request: a new id, then dx_spool_write("requested", id, ...,
 * false), retried with a fresh id on a collision.  Fills id (idlen >=
 * DX_SPOOL_ID_SIZE).
 */
int		 dx_spool_submit(struct dx_spool *, const void *buf, size_t len,
		    char *id, size_t idlen, struct dx_err *);
/*
 * Safe read of sub/name: opened O_RDONLY|O_NOFOLLOW|O_NONBLOCK, then the
 * descriptor must be a regular file with one link, owned by us, of at
 * most max bytes.  Fills *buf (NUL-terminated, the caller frees) and *len.
 * Else -1 with errno (ENOENT for a missing file) and err naming the file
 * and why: "is a symlink", "has 2 links", "is a FIFO", "is a socket", "is
 * a device", "is owned by uid 1000", "is 9 MiB, over the 1 MiB limit".
 */
int		 dx_spool_read(struct dx_spool *, const char *sub, const char *name,
		    size_t max, char **buf, size_t *len, struct dx_err *);
/* Checks sub/name as dx_spool_read() would, without reading it: 0 or -1. */
int		 dx_spool_check(struct dx_spool *, const char *sub, const char *name,
		    size_t max, struct dx_err *);
/*
 * rename(from/name, to/name) without overwriting (EEXIST as above), then
 * fsync of both directories.
 */
int		 dx_spool_move(struct dx_spool *, const char *from, const char *to,
		    const char *name, struct dx_err *);
/*
 * Moves from/name to to/newname (without overwriting), fsyncing both: to
 * set a refused file aside (e.g. requested/X -> tmp/X.refused).  The file
 * is renamed, never opened: a symlink moves as a symlink.
 */
int		 dx_spool_rename(struct dx_spool *, const char *from, const char *name,
		    const char *to, const char *newname, struct dx_err *);
/* unlink(sub/name) and fsync sub; a missing file is not an error. */
int		 dx_spool_remove(struct dx_spool *, const char *sub, const char *name,
		    struct dx_err *);
/* True if sub/name exists (of any type; never followed). */
bool		 dx_spool_exists(struct dx_spool *, const char *sub, const char *name);
/*
 * The names in sub, sorted (strcmp: ids sort in arrival order), without
 * "." entries, names starting with '.', and entries that are not plain
 * files: those (symlinks, FIFOs, directories, ..., and names failing
 * dx_spool_name_ok()) are reported through bad(arg, sub, name, why) (bad
 * may be NULL), never followed.  Hard links and sizes are checked when the
 * file is read.  Fills *names (dx_spool_names_free()) and *n.
 */
int		 dx_spool_list(struct dx_spool *, const char *sub, char ***names,
		    size_t *n, void (*bad)(void *arg, const char *sub, const char *name,
		    const char *why), void *arg, struct dx_err *);
void		 dx_spool_names_free(char **names, size_t n);

/*
 * The lock.  serve: dx_spool_lock() takes an exclusive, non-blocking flock
 * on DIR/lock (created 0600 if missing, checked as a spool file) and keeps
 * it until dx_spool_close(); DX_USAGE "serve is already running on DIR
 * (pid N)" if another process holds it (it writes its pid in the file).
 * Clients: dx_spool_serve_running() is true while some process holds the
 * lock (a non-blocking shared flock fails); fills *pid if not NULL.
 */
int		 dx_spool_lock(struct dx_spool *, struct dx_err *);
bool		 dx_spool_serve_running(struct dx_spool *, long *pid);

/*
 * The crash journal: sub/name (serve: "running", "ID.journal"), one JSON
 * line per event.  Lines are appended with one write(2) each under the
 * journal's mutex, so lines of several threads never interleave; each
 * append returns a sequence number, and dx_spool_journal_sync(seq)
 * returns once every line up to seq is on disk.  Group commit: one
 * thread's fsync covers every line appended before it started; a thread
 * whose line is covered by a sync in progress waits for it instead of
 * starting its own.  Any thread; close only when no other thread uses it.
 */
struct dx_spool_journal;

/*
 * Opens sub/name for appending: create: O_CREAT|O_EXCL (0600), then sub is
 * fsync'd; else the existing file (recovery), checked as dx_spool_read()
 * does.  O_APPEND|O_NOFOLLOW|O_NONBLOCK always.
 */
int		 dx_spool_journal_open(struct dx_spool *, const char *sub,
		    const char *name, bool create, struct dx_spool_journal **,
		    struct dx_err *);
/*
 * Appends line (len bytes, no '\n' in it; a '\n' is added) and fills
 * *seq (may be NULL).  Not durable until dx_spool_journal_sync().
 */
int		 dx_spool_journal_append(struct dx_spool_journal *, const char *line,
		    size_t len, uint64_t *seq, struct dx_err *);
/* Returns once every line with a sequence number <= seq is durable. */
int		 dx_spool_journal_sync(struct dx_spool_journal *, uint64_t seq,
		    struct dx_err *);
/* append + sync: the line is durable when it returns. */
int		 dx_spool_journal_put(struct dx_spool_journal *, const char *line,
		    struct dx_err *);
/* Counters for tests and status: lines appended, fsyncs done. */
void		 dx_spool_journal_counts(struct dx_spool_journal *, uint64_t *lines,
		    uint64_t *syncs);
void		 dx_spool_journal_close(struct dx_spool_journal *);
/*
 * Reads sub/name (safe read, at most max bytes) and fills *lines with its
 * complete lines (without '\n', NUL-terminated; dx_spool_names_free()),
 * *n, and *torn (may be NULL) true when a last line without '\n' (a write
 * cut by a crash) was ignored.  Empty lines are skipped.
 */
int		 dx_spool_journal_read(struct dx_spool *, const char *sub,
		    const char *name, size_t max, char ***lines, size_t *n, bool *torn,
		    struct dx_err *);

#endif
