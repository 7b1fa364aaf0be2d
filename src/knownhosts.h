/*
 * knownhosts.h - OpenSSH known_hosts files, read the way ssh(1) reads them.
 *
 * libssh2 1.10's reader stops at the first line it cannot parse and knows
 * nothing of markers, so dronex parses the file itself: a malformed line
 * is skipped (and counted) without hiding the lines after it; hashed
 * "|1|salt|hash" names match (HMAC-SHA1); "[host]:port" names, comma
 * lists, '*'/'?' wildcards and '!' negation match as in sshd(8)'s
 * "SSH_KNOWN_HOSTS FILE FORMAT"; a key listed under "@revoked" is refused;
 * "@cert-authority" lines are ignored (no certificates in libssh2 1.10).
 *
 * A loaded dx_known_hosts is immutable except through dx_known_hosts_add(),
 * which callers serialise; lookups may run on many threads at once only
 * while no add runs (struct dx_kh_store below holds a rwlock for that).
 */
#ifndef DX_KNOWNHOSTS_H
#define DX_KNOWNHOSTS_H

#include "dronex.h"

enum dx_hk_verdict {
	DX_HK_MATCH = 0,	/* a line for this host has this key */
	DX_HK_UNKNOWN,		/* no line for this host */
	DX_HK_MISMATCH,		/* lines for this host, none with this key */
	DX_HK_REVOKED		/* the key is listed under @revoked */
};

struct dx_known_hosts;

/* The largest known_hosts file read (a device or a runaway file is refused). */
#define DX_KH_MAX_BYTES	(64u << 20)

/*
 * Loads path; a missing file is an empty set, not an error.  Anything but
 * a regular file (a FIFO, a device) and a file over DX_KH_MAX_BYTES are
 * refused without blocking.  NULL + err.
 */
struct dx_known_hosts *dx_known_hosts_load(const char *path, struct dx_err *);
/* The same from an open file (read from offset 0); path for messages. */
struct dx_known_hosts *dx_known_hosts_load_fd(int fd, const char *path,
	    struct dx_err *);
/* Parses text (for tests and fuzzing); name is used in messages. */
struct dx_known_hosts *dx_known_hosts_parse(const char *text, size_t len,
	    const char *name, struct dx_err *);
void	dx_known_hosts_free(struct dx_known_hosts *);
/* Lines skipped as malformed. */
size_t	dx_known_hosts_skipped(const struct dx_known_hosts *);

/*
 * Checks the key blob (SSH wire format, as libssh2_session_hostkey() gives
 * it) that host:port presented.  *line gets the 1-based line that decided
 * (the matching, mismatching or revoking line; 0 for unknown).
 */
enum dx_hk_verdict dx_known_hosts_check(const struct dx_known_hosts *,
	    const char *host, int port, const unsigned char *blob, size_t len,
	    size_t *line);
/*
 * Key type names recorded for host:port ("ssh-ed25519", ...), so the
 * handshake can prefer a type that known_hosts can check.  Fills up to max
 * borrowed pointers into types; returns how many.
 */
size_t	dx_known_hosts_types(const struct dx_known_hosts *, const char *host,
	    int port, const char **types, size_t max);
/* Appends "[host]:port type base64" (or "host type ..." on port 22) to the file and the set. */
int	dx_known_hosts_add(struct dx_known_hosts *, const char *path,
	    const char *host, int port, const unsigned char *blob, size_t len,
	    struct dx_err *);
/* Opens path for appending (made, with its directories, if missing); fd or -1. */
int	dx_known_hosts_open_append(const char *path, struct dx_err *);
/*
 * dx_known_hosts_add() through an fd from dx_known_hosts_open_append();
 * hash: the name is written hashed ("|1|salt|hash", as OpenSSH's
 * HashKnownHosts yes writes it).
 */
int	dx_known_hosts_add_fd(struct dx_known_hosts *, int fd, const char *path,
	    const char *host, int port, const unsigned char *blob, size_t len,
	    bool hash, struct dx_err *);

/*
 * The key's fingerprint as OpenSSH prints it: "SHA256:" and the unpadded
 * base64 of the SHA-256 of the wire-format blob.  NULL when out of memory.
 */
char	*dx_kh_fingerprint(const unsigned char *blob, size_t len);

/*
 * The known_hosts files of a run as one set (khstore.c).  A store loads
 * each file once per run on first use, shares it between drone threads
 * (its own mutex and rwlock) and appends accept-new keys under
 * flock(LOCK_EX) on the user's file, which every dronex process takes:
 * under the lock the file is read again if it changed since it was loaded,
 * so two processes never both add the same host.
 *
 * The set is read as OpenSSH's ssh(1) reads it: the user's files, then the
 * global ones.  A key listed under @revoked in any file is refused; a line
 * in any file with this very key is a match (even if another file pins a
 * different key: OpenSSH accepts it too); otherwise a line for the host
 * with another key, in any file, is a mismatch; the key is unknown only if
 * no file has a line for the host.  accept-new appends only unknown keys,
 * and only to the first user file.
 */
struct dx_kh_store;

struct dx_kh_files {
	const char *const *user;	/* first one: where accept-new appends */
	size_t		 nuser;
	const char *const *global;	/* /etc/ssh/ssh_known_hosts{,2} */
	size_t		 nglobal;
	bool		 hash;		/* accept-new writes hashed names */
};

struct dx_kh_store *dx_kh_store_new(struct dx_err *);
void	dx_kh_store_free(struct dx_kh_store *);
/*
 * Checks the key host:port presented against the files.  Returns 0 (a
 * match, or a key accept-new just added), or -1 with err set:
 * DX_HOSTKEY_UNKNOWN (no file has the host), DX_HOSTKEY_MISMATCH (another
 * key pinned, or this key revoked), naming the file and line and the key's
 * type and fingerprint fp; or the kind of a file that cannot be read.
 */
int	dx_kh_verify(struct dx_kh_store *, const struct dx_kh_files *,
	    const char *host, int port, const unsigned char *blob, size_t len,
	    bool accept_new, const char *fp, struct dx_err *);
/*
 * Copies up to max distinct key type names the files record for host:port
 * into types (each DX_KH_TYPE_MAX bytes).  Returns how many, or -1 with err
 * set when a file cannot be read.
 */
#define DX_KH_TYPE_MAX	64
int	dx_kh_types(struct dx_kh_store *, const struct dx_kh_files *,
	    const char *host, int port, char (*types)[DX_KH_TYPE_MAX], size_t max,
	    struct dx_err *);

#endif
