/*
 * harness.h - helpers for dronex's integration tests.
 *
 * Every integration test runs the real dronex binary ($DRONEX_BIN) against
 * the private sshd that tests/run-test starts on 127.0.0.1 and describes in
 * DX_TEST_* variables.  A missing variable or binary fails the test: a
 * skipped suite would hide a broken install.
 *
 * The helpers assert with criterion themselves, so a test reads as a list
 * of expectations.  Ownership: a struct dxh_run owns its buffers and its
 * parsed JSON (dxh_run_free()); JSON values returned by the accessors are
 * borrowed from it; every "char *" returned is the caller's to free().
 */
#ifndef DXH_HARNESS_H
#define DXH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* The outcome of one dronex process. */
struct dxh_run {
	char	*out;		/* stdout, NUL-terminated */
	size_t	 outlen;
	char	*err;		/* stderr, NUL-terminated */
	size_t	 errlen;
	int	 status;	/* exit code, or -1 if ended by a signal */
	int	 termsig;	/* the signal that ended it, or 0 */
	bool	 killed;	/* the harness's hard timeout fired */
	double	 wall;		/* seconds from exec to exit */
	json_t	*json;		/* stdout as JSON, or NULL if it is not */
	char	 json_error[200];
};

/* Per-run knobs; zero means "not used". */
struct dxh_opts {
	const char	*stdin_text;	/* NULL: stdin is /dev/null */
	double		 timeout;	/* hard kill after this many seconds */
	int		 signal;	/* send this signal ... */
	double		 signal_after;	/* ... this many seconds after start */
};

/* $name, failing the test if it is unset or empty.  Borrowed. */
const char	*dxh_env(const char *name);
/* A fresh directory under $DX_TEST_DIR; the caller frees the path. */
char		*dxh_tmpdir(void);
/* Writes content to dir/name and returns the path. */
char		*dxh_write_file(const char *dir, const char *name, const char *content);
/* The file's contents, or NULL if it cannot be read. */
char		*dxh_read_file(const char *path);
bool		 dxh_exists(const char *path);

/*
 * What a forked child sets up before it execs $DRONEX_BIN: its own process
 * group, default SIGPIPE/SIGINT/SIGTERM, a private empty HOME, no
 * SSH_AUTH_SOCK, no inventory or shard variables.  precise_leaks: set
 * LSAN_OPTIONS for exact leak stacks (the slow unwinder, which costs a
 * sanitized dronex dearly on every malloc); otherwise the test
 * environment's LSAN_OPTIONS stands, for runs whose timing is measured.
 * Prepare before fork (it allocates), apply in the child, free after.
 */
struct dxh_child {
	const char	*home;
	char		*lsan;
};
void	dxh_child_prepare(struct dxh_child *ch, bool precise_leaks);
void	dxh_child_apply(const struct dxh_child *ch);
void	dxh_child_free(struct dxh_child *ch);

/*
 * Runs $DRONEX_BIN with argv (argv[0] is the first argument, NOT the
 * program name; NULL-terminated) and fills r.  The child gets a private
 * empty HOME, no SSH_AUTH_SOCK and no DRONEX_INVENTORY, and its own
 * process group (killed with SIGKILL when opts->timeout passes).
 */
void	dxh_run_argv(struct dxh_run *r, const char *const *argv,
	    const struct dxh_opts *opts);
/* Same, with the arguments inline, NULL-terminated; timeout 30 s. */
void	dxh_run(struct dxh_run *r, ...) __attribute__((sentinel));
void	dxh_run_free(struct dxh_run *r);
/* Appends n bytes to a growing NUL-terminated buffer (fails the test on OOM). */
void	dxh_append(char **buf, size_t *len, size_t *cap, const char *data, size_t n);
/* Prints everything about a run (for a failure's context). */
void	dxh_dump(const struct dxh_run *r);

/*
 * Inventories.  dxh_inv_new(n) makes drones d-001..d-n on 127.0.0.1 at
 * $DX_TEST_PORT with user $DX_TEST_USER, identity $DX_TEST_KEY and
 * known_hosts $DX_TEST_KNOWN_HOSTS, every field set on the drone itself.
 * dxh_inv_drone() returns a drone object to change (borrowed);
 * dxh_inv_add() appends a drone like the others.  dxh_inv_write() writes
 * the document to a fresh file and returns its path.
 */
json_t	*dxh_inv_new(int n);
json_t	*dxh_inv_drone(json_t *inv, const char *name);
json_t	*dxh_inv_add(json_t *inv, const char *name);
/* Sets drone.key = value (value is stolen). */
void	 dxh_inv_set(json_t *inv, const char *name, const char *key, json_t *value);
/* Sets drone.calls to the NULL-terminated list. */
void	 dxh_inv_calls(json_t *inv, const char *name, ...) __attribute__((sentinel));
char	*dxh_inv_write(json_t *inv);
/* Formats "d-%03d". */
void	 dxh_name(char *buf, size_t len, int i);

/*
 * Result accessors.  Each asserts that stdout was a dronex document and
 * that the named drone (and call) exists.
 */
json_t		*dxh_doc(const struct dxh_run *r);
json_t		*dxh_drone(const struct dxh_run *r, const char *name);
const char	*dxh_status(const struct dxh_run *r, const char *name);
/* drones.NAME.error.kind, or NULL when error is null. */
const char	*dxh_kind(const struct dxh_run *r, const char *name);
size_t		 dxh_ncalls(const struct dxh_run *r, const char *name);
json_t		*dxh_call(const struct dxh_run *r, const char *name, size_t i);
/* A string field of a call, or NULL if absent or null. */
const char	*dxh_call_str(const struct dxh_run *r, const char *name, size_t i,
		    const char *field);
/* calls[i].error.kind, or NULL. */
const char	*dxh_call_kind(const struct dxh_run *r, const char *name, size_t i);
/* summary.FIELD as an integer. */
long long	 dxh_summary(const struct dxh_run *r, const char *field);
/* Decodes base64 text; *len gets the length.  NULL if it is not base64. */
unsigned char	*dxh_base64_decode(const char *text, size_t *len);

/* Lines of r->err that start with prefix. */
int	dxh_count_lines(const char *text, const char *prefix);
/* Processes (other than this one) whose command line contains needle. */
int	dxh_count_procs(const char *needle);
/* A 127.0.0.1 TCP port that nothing listens on (bound, read, closed). */
int	dxh_closed_port(void);
/*
 * A listening socket on 127.0.0.1 that never accepts: the kernel completes
 * the TCP handshake, so a client connects and then hears nothing.
 * Returns the fd; *port gets the port.
 */
int	dxh_silent_listener(int *port);
/* Seconds on the monotonic clock. */
double	dxh_now(void);

#endif
