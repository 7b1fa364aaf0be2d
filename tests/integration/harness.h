/*
 * harness.h - helpers for dronex's integration tests.
 *
 * Every integration test runs the real dronex binary ($DRONEX_BIN) against
 * the private sshd that tests/run-test starts on 127.0.0.1 and describes in
 * DX_TEST_* variables.  A missing variable or binary fails the test: a
 * skipped suite would hide a broken install.
 *
 * The helpers assert with criterion themselves, so a test reads as a list
 * of expectations.  Ownership: a struct dxh_proc owns its buffers until
 * dxh_finish() hands them to a struct dxh_run; a struct dxh_run owns its
 * buffers and its parsed JSON (dxh_run_free()); JSON values returned by
 * the accessors are borrowed from it; every "char *" returned is the
 * caller's to free().
 */
#ifndef DXH_HARNESS_H
#define DXH_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* The outcome of one dronex process. */
struct dxh_run {
	char	*out;		/* stdout, NUL-terminated ("" with stdout_fd) */
	size_t	 outlen;
	char	*err;		/* stderr, NUL-terminated */
	size_t	 errlen;
	int	 status;	/* exit code, or -1 if ended by a signal */
	int	 termsig;	/* the signal that ended it, or 0 */
	bool	 killed;	/* the harness's hard timeout fired */
	double	 wall;		/* seconds from exec to exit */
	long	 maxrss_kb;	/* the child's peak resident set (wait4()) */
	json_t	*json;		/* stdout as JSON, or NULL if it is not */
	char	 json_error[200];
};

/* Per-run knobs; zero means "not used". */
struct dxh_opts {
	const char	*stdin_text;	/* NULL: stdin is /dev/null */
	size_t		 stdin_len;	/* bytes of stdin_text; 0: strlen() */
	int		 stdout_fd;	/* > 0: dronex's stdout is this descriptor
					   (the caller's to close; r->out stays
					   empty); 0: a pipe read into r->out */
	/*
	 * NULL-terminated: "NAME=value" sets, a bare "NAME" unsets, after the
	 * harness's own environment (so a test can give dronex a HOME or an
	 * SSH_AUTH_SOCK of its own).  Borrowed until dxh_start() returns.
	 */
	const char *const *env;
	long		 nofile;	/* > 0: soft and hard RLIMIT_NOFILE */
	bool		 timed;		/* the test measures time: keep the test
					   environment's fast LSan settings */
	double		 timeout;	/* SIGKILL to the group after this many
					   seconds from the start; 0: 30 */
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
 * The runner below uses these; a test needs them only to fork on its own.
 */
struct dxh_child {
	const char	*home;
	char		*lsan;
};
void	dxh_child_prepare(struct dxh_child *ch, bool precise_leaks);
void	dxh_child_apply(const struct dxh_child *ch);
void	dxh_child_free(struct dxh_child *ch);

/*
 * The one process runner.  dxh_start() forks and execs $DRONEX_BIN with
 * argv (argv[0] is the first argument, NOT the program name;
 * NULL-terminated) in its own process group, with the child environment
 * above plus opts (may be NULL), and returns at once.  dxh_pump() waits up
 * to ms for output, feeds stdin, sends opts->signal when its time comes
 * and kills the group when the timeout passes; it returns false once
 * stdout and stderr both reached end of file.  Between pumps a test may
 * act on the running child (p->pid, p->start, what p->out said so far).
 * dxh_finish() pumps to the end, reaps the child and fills r; p is then
 * spent.  dxh_run_argv() is all three in one.
 */
struct dxh_proc {
	pid_t		 pid;
	double		 start;		/* dxh_now() at fork */
	char		*out;		/* stdout so far, NUL-terminated */
	size_t		 outlen;
	char		*err;		/* stderr so far */
	size_t		 errlen;
	/* The runner's own. */
	size_t		 outcap, errcap;
	int		 out_fd, err_fd, in_fd;	/* -1 once closed */
	const char	*in;
	size_t		 inlen, inoff;
	double		 timeout;
	int		 signal;
	double		 signal_after;
	bool		 sent, killed;
};

void	dxh_start(struct dxh_proc *p, const char *const *argv,
	    const struct dxh_opts *opts);
bool	dxh_pump(struct dxh_proc *p, int ms);
void	dxh_finish(struct dxh_proc *p, struct dxh_run *r);
void	dxh_run_argv(struct dxh_run *r, const char *const *argv,
	    const struct dxh_opts *opts);
/* dxh_run_argv() with the arguments inline, NULL-terminated; timeout 30 s. */
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
