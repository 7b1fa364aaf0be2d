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
 * while no add runs (ssh_exec.c holds a rwlock for that).
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

/* Loads path; a missing file is an empty set, not an error.  NULL + err. */
struct dx_known_hosts *dx_known_hosts_load(const char *path, struct dx_err *);
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

#endif
