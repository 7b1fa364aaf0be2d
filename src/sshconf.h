/*
 * sshconf.h - OpenSSH's client configuration (ssh_config(5)) as one more
 * source of a drone's settings (target.c).
 *
 * dx_sshconf_load() reads the files once per run, as OpenSSH does: the
 * user's ~/.ssh/config, then /etc/ssh/ssh_config (or, with a FILE, only
 * that file, as ssh -F; with "none" nothing).  Every line is parsed and
 * checked at load time, active or not, so a bad value anywhere is an
 * error naming file, line and keyword; `Include` (globs; relative to
 * ~/.ssh for the user's file, /etc/ssh for the system's; nested up to
 * SC_MAX_DEPTH) is expanded in place.  A `Match` block is refused.
 *
 * dx_sshconf_lookup() evaluates the `Host` blocks for one name, the name
 * the user typed (as `ssh NAME` does), and hands back, for each option
 * dronex honours, the first value obtained (IdentityFile accumulates),
 * with its "FILE:LINE", and the options it does not honour, recorded,
 * never silently dropped.
 *
 * Ownership: a struct dx_sshconf owns all its strings; dx_sshconf_free()
 * frees it (NULL: no-op).  A lookup's strings are borrowed from the
 * config and stay valid until it is freed; dx_sshconf_host_release()
 * frees only the lookup's own arrays.  Threads: a loaded config is
 * read-only; lookups may run at once.
 */
#ifndef DX_SSHCONF_H
#define DX_SSHCONF_H

#include <stddef.h>

#include "dronex.h"

/* One option line: its words after the keyword, and where it was. */
struct dx_sshconf_opt {
	const char	*keyword;	/* as written */
	const char *const *args;	/* NULL-terminated */
	size_t		 nargs;
	const char	*where;		/* "FILE:LINE" */
};

/* The options dronex honours, one slot each (NULL: not obtained). */
enum dx_sc_key {
	DX_SC_HOSTNAME = 0,
	DX_SC_USER,
	DX_SC_PORT,
	DX_SC_IDENTITIES_ONLY,
	DX_SC_PROXY_JUMP,
	DX_SC_USER_KNOWN_HOSTS,
	DX_SC_GLOBAL_KNOWN_HOSTS,
	DX_SC_STRICT_HOST_KEY,
	DX_SC_HASH_KNOWN_HOSTS,
	DX_SC_CONNECT_TIMEOUT,
	DX_SC_ALIVE_INTERVAL,
	DX_SC_ALIVE_COUNT,
	DX_SC_NKEYS
};

struct dx_sshconf_host {
	const struct dx_sshconf_opt *opt[DX_SC_NKEYS];	/* first obtained */
	const struct dx_sshconf_opt **identities;	/* every IdentityFile */
	size_t		 nidentities;
	const struct dx_sshconf_opt **ignored;		/* not honoured */
	size_t		 nignored;
};

/*
 * Parses a time as ssh_config(5) writes it ("30", "1m30s", "2h"): seconds
 * into *out; -1 when it is not one.
 */
int	dx_sshconf_time(const char *s, long long *out);
/*
 * Looks name up: fills h (release it with dx_sshconf_host_release()).
 * 0, or -1 with err set (OOM).  conf NULL gives nothing.
 */
int	dx_sshconf_lookup(const struct dx_sshconf *conf, const char *name,
	    struct dx_sshconf_host *h, struct dx_err *err);
void	dx_sshconf_host_release(struct dx_sshconf_host *);
/*
 * Reads one file into conf as OpenSSH would: user says whether relative
 * Include paths are relative to ~/.ssh (true) or /etc/ssh; must_exist
 * makes a missing file an error (ssh -F).  A user file that need not
 * exist (~/.ssh/config) and every included file must not be writable by
 * group or others nor owned by another user than root or us, as ssh
 * checks them.  0, or -1 with err set (DX_USAGE: "FILE:LINE: keyword
 * 'Port': ...").  Used by dx_sshconf_load() and by tests that want their
 * own system file.
 */
int	dx_sshconf_read(struct dx_sshconf *conf, const char *path, bool user,
	    bool must_exist, struct dx_err *err);
/* An empty config, for dx_sshconf_read(); NULL when out of memory. */
struct dx_sshconf *dx_sshconf_new(void);

#endif
