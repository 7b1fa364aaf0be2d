/*
 * dronex.h - the public C API of libdronex.
 *
 * A scheduler links libdronex to run queued commands ("calls") on many
 * drones in parallel: it builds a dx_queue, adds one dx_job per drone,
 * and runs the queue with an executor (dx_ssh_exec() for real SSH, or a
 * function of its own), either once (dx_queue_run()) or as a long-lived
 * queue it keeps feeding (dx_queue_start() and the operations below).  The queue never prints and never exits; every
 * failure is carried as a value (struct dx_err) inside its drone's result.
 *
 * Ownership, said once:
 *  - A dx_job's strings and its drone pointer are borrowed: they must
 *    outlive the queue.
 *  - A dx_result belongs to the queue.  The executor fills the one it is
 *    handed (and nothing else); the done callback may read it, and may
 *    take ownership of heap parts by setting the pointers to NULL.
 *  - The queue copies each dx_job it is given; the copy (dx_queue_job())
 *    lives as long as the queue.
 *  - Every "char *" returned by a dx_ function is the caller's to free();
 *    every "const char *" returned is borrowed.
 *
 * Threads, said once: call dx_global_init() before loading, queueing or
 * connecting anything, and before starting threads of your own.  What a
 * queue run borrows (the inventory, the jobs' strings, the executor's
 * argument such as a dx_ssh) must stay unchanged until dx_queue_run()
 * returns: its drone threads read it at once, and each writes only its own
 * result (a dx_ssh locks its own caches).  dx_queue_abort() is the one
 * queue function for other threads; the done callback runs on the thread
 * that called dx_queue_run().
 *
 * This header is installed with libdronex, and exactly the functions it
 * declares are exported: build a scheduler with
 *   cc sched.c $(pkg-config --cflags --libs dronex)
 * (--static for libdronex.a); examples/scheduler.c is one.
 */
#ifndef DRONEX_H
#define DRONEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>		/* json_t, for the results as JSON */

/*
 * Error kinds.  One table generates the enum and dx_kind_name(); the names
 * are the "error.kind" strings of the JSON results (SPEC section 4).  The
 * last two are never a drone's kind: they are the CLI's exit-2 errors.
 */
#define DX_KIND_MAP(X)                                                   \
	X(OK, "ok")                                                      \
	X(RESOLVE, "resolve")                                            \
	X(CONNECT_REFUSED, "connect_refused")                            \
	X(CONNECT_TIMEOUT, "connect_timeout")                            \
	X(NETWORK, "network")                                            \
	X(HANDSHAKE, "handshake")                                        \
	X(HOSTKEY_UNKNOWN, "hostkey_unknown")                            \
	X(HOSTKEY_MISMATCH, "hostkey_mismatch")                          \
	X(AUTH, "auth")                                                  \
	X(CHANNEL, "channel")                                            \
	X(CALL_TIMEOUT, "call_timeout")                                  \
	X(CONNECTION_LOST, "connection_lost")                            \
	X(NONZERO_EXIT, "nonzero_exit")                                  \
	X(SIGNAL, "signal")                                              \
	X(DEADLINE, "deadline")                                          \
	X(MAX_FAILURES, "max_failures")                                  \
	X(INTERRUPTED, "interrupted")                                    \
	X(OUTPUT, "output")                                              \
	X(INTERNAL, "internal")                                          \
	X(THROTTLED, "throttled")                                        \
	X(USAGE, "usage")                                                \
	X(INVENTORY, "inventory")

enum dx_kind {
#define DX_KIND_ENUM(name, str) DX_##name,
	DX_KIND_MAP(DX_KIND_ENUM)
#undef DX_KIND_ENUM
	DX_KIND_COUNT
};

/* The JSON name of a kind ("hostkey_mismatch"); "internal" if out of range. */
const char	*dx_kind_name(enum dx_kind);
/* Looks a JSON name up; returns 0 and fills *out, or -1 if unknown. */
int		 dx_kind_parse(const char *, enum dx_kind *out);
/*
 * True for a failure to reach the drone at all (resolve, connect_refused,
 * connect_timeout, network, handshake, connection_lost): what --retries
 * retries and what serve's throttling counts.
 */
bool		 dx_kind_unreached(enum dx_kind);

struct dx_err {
	enum dx_kind	 kind;		/* DX_OK if nothing failed */
	char		 msg[256];	/* lower-case, no full stop */
};

/* Records kind and message in err (err may be NULL); always returns -1. */
int	dx_err_set(struct dx_err *err, enum dx_kind kind, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	dx_err_clear(struct dx_err *);

/*
 * Once per process, before any thread: libssh2_init(), jansson's hash
 * seed, SIGPIPE ignored.  Safe to call more than once.
 */
int	dx_global_init(struct dx_err *);

/* Monotonic milliseconds (CLOCK_MONOTONIC). */
int64_t	dx_now_ms(void);

/*
 * A bounded byte buffer.  Appends beyond max are dropped and set truncated;
 * that is not an error.  dx_buf_append() returns -1 only when out of
 * memory.  max == 0 means "no output kept at all" (everything truncated).
 */
struct dx_buf {
	char		*data;		/* NUL-terminated when non-NULL */
	size_t		 len;
	size_t		 cap;
	size_t		 max;
	bool		 truncated;
};

void	dx_buf_init(struct dx_buf *, size_t max);
int	dx_buf_append(struct dx_buf *, const void *, size_t);
void	dx_buf_release(struct dx_buf *);

/* What happened to one call. */
struct dx_call_result {
	char		*command;	/* owned copy of the command line */
	int		 exit_status;	/* -1: no exit status arrived */
	char		*signal;	/* owned, e.g. "TERM"; NULL if none */
	struct dx_buf	 out;		/* stdout, capped at --max-output */
	struct dx_buf	 err;		/* stderr, capped likewise */
	int64_t		 elapsed_ms;
	struct dx_err	 error;		/* DX_OK when the call exited 0 */
};

enum dx_status {
	DX_ST_PENDING = 0,		/* not finished (never in a done result) */
	DX_ST_OK,			/* connected and every call exited 0 */
	DX_ST_FAILED,
	DX_ST_SKIPPED			/* never started */
};

const char	*dx_status_name(enum dx_status);	/* "ok", "failed", ... */

/* What happened to one drone. */
struct dx_result {
	enum dx_status	 status;	/* set by the queue */
	int		 attempts;	/* connection attempts (queue) */
	int64_t		 elapsed_ms;	/* wall time of the drone's thread */
	struct dx_err	 error;		/* first failure; DX_OK if none */
	struct dx_call_result *calls;	/* calls attempted, in order */
	size_t		 ncalls;
	size_t		 calls_sent;	/* exec requests sent: no retry if > 0 */
	char		*kex;		/* negotiated key exchange, or NULL */
	char		*hostkey_type;	/* e.g. "ssh-ed25519", or NULL */
	char		*hostkey_fingerprint; /* "SHA256:..." as OpenSSH prints it, or NULL */
	bool		 hostkey_checked; /* false when --host-key-check off */
};

/* Frees everything the result owns and zeroes it. */
void	dx_result_release(struct dx_result *);
/*
 * Appends a call record (command copied, buffers capped at max_output,
 * exit_status -1) and returns it, or NULL with err set when out of memory.
 */
struct dx_call_result *dx_result_add_call(struct dx_result *, const char *command,
	    size_t max_output, struct dx_err *);

/* One drone's work as the queue sees it.  Everything in it is borrowed. */
struct dx_job {
	const char	*name;		/* unique; the key of the result map */
	int		 priority;	/* higher starts earlier */
	const void	*drone;		/* the executor's description of it */
	const char *const *calls;	/* commands, run in order */
	size_t		 ncalls;
};

/*
 * What a running executor may consult: its own job's controls.  abort_fd
 * becomes readable (and stays readable until the executor returns) once
 * this job or the whole run is aborted: poll it beside the socket so that
 * no wait outlives an abort.  dx_ctl_aborted() says why (DX_DEADLINE,
 * DX_INTERRUPTED, or the kind given to dx_queue_abort_job()) or DX_OK;
 * the job's own reason comes first.  Each running job has its own ctl and
 * descriptor; the pointer is valid until the executor returns.
 */
struct dx_ctl {
	int64_t		 deadline;	/* monotonic ms; 0 = none */
	int		 abort_fd;
	bool		 fail_fast;	/* stop the drone's calls at a failure */
	const void	*queue;		/* for dx_ctl_aborted(): the run's abort */
	const void	*slot;		/* for dx_ctl_aborted(): this job's abort */
};

/* Any thread, lock-free; ctl may be NULL (DX_OK). */
enum dx_kind	dx_ctl_aborted(const struct dx_ctl *);

/*
 * An executor runs one drone's calls on the calling (worker) thread and
 * fills res: calls, error, calls_sent, kex, hostkey_type, hostkey_checked.
 * It must return by ctl->deadline (when set) and soon after an abort, must
 * not touch any other drone's state, and must release what it allocated
 * except what it stored in res.  A drone with no calls is handed to it
 * too: it must still reach the drone (dx_ssh_exec() connects and
 * authenticates), since "ok" means the drone was reached.  It may call the
 * queue's thread-safe functions (below) but never wait, drain or stop.
 */
typedef void	(*dx_exec_fn)(void *arg, const struct dx_job *job,
		    const struct dx_ctl *ctl, struct dx_result *res);

struct dx_queue_opts {
	size_t		 fanout;	/* worker threads alive at once, >= 1 */
	int64_t		 deadline_ms;	/* whole queue, from its start; 0 = none */
	int		 retries;	/* connection retries per drone */
	int64_t		 retry_delay_ms;
	size_t		 max_failures;	/* stop starting drones after N failed; 0 = off */
	bool		 fail_fast;
	size_t		 stack_size;	/* worker thread stack; 0 = library default */
};

/* Small per-drone record the queue keeps after the result was handed out. */
struct dx_outcome {
	enum dx_status	 status;
	struct dx_err	 error;
};

struct dx_summary {
	size_t		 drones, ok, failed, skipped;
};

/*
 * The queue.  Create it, add jobs, run it once (dx_queue_run()), or start
 * it and keep feeding it (dx_queue_start(), dx_queue_submit(), ...,
 * dx_queue_stop()).  A job's id is its position in add order (0, 1, ...):
 * stable for the queue's life, and the index of done(), dx_queue_outcome()
 * and dx_queue_job().  Jobs start by priority (higher first), then in add
 * order, at most the fan-out at once.
 *
 * Thread rules.  The dispatcher is the one thread that calls done(): the
 * caller's inside dx_queue_run(), a thread of the queue's own after
 * dx_queue_start().  Every dx_queue_ function may be called from any
 * thread, including from done() and from an executor, except:
 *  - dx_queue_wait(), dx_queue_drain() and dx_queue_stop() block, so
 *    from done() they return -1 (DX_USAGE), and an executor must not call
 *    them;
 *  - dx_queue_free() and dx_queue_run() never from done() or an executor,
 *    and dx_queue_free() only once no other thread uses the queue;
 *  - none of them from a signal handler (they take a mutex): a handler
 *    should wake a thread that calls dx_queue_abort().
 * The const accessors (dx_queue_outcome(), dx_queue_summary(),
 * dx_queue_error()) lock, but an outcome is final only once its job's
 * done() has begun: read outcomes from done(), or after dx_queue_wait(),
 * dx_queue_drain() or dx_queue_run() returned.
 *
 * Errors: misuse and unknown or unfit job ids are DX_USAGE with a message
 * that says which (e.g. "job 3 ('web-01') is running: only a waiting
 * job's priority can change"); the queue's own failures are DX_INTERNAL.
 */
struct dx_queue;

/*
 * Called on the dispatcher, once per job, in the order jobs finish (skipped
 * ones included), one call at a time and never under the queue's lock.
 * index is the job's id.  res and its heap parts are the queue's: done()
 * may read them and may take heap parts by setting their pointers to NULL;
 * when it returns, the queue releases the rest.  job stays valid for the
 * queue's life.
 */
typedef void	(*dx_done_fn)(void *arg, size_t index, const struct dx_job *job,
		    struct dx_result *res);

/*
 * A new queue, not started, or NULL with err set (DX_USAGE for a fan-out
 * below 1 or a negative retry count, delay or deadline).  The executor and
 * its argument are borrowed.  Free it with dx_queue_free().
 */
struct dx_queue	*dx_queue_new(const struct dx_queue_opts *, dx_exec_fn exec,
		    void *exec_arg, struct dx_err *);
/*
 * Stops the queue if it still runs (as dx_queue_stop(): running jobs are
 * cut, waiting ones skipped, every thread joined) and frees it.  NULL is a
 * no-op.  Never from done(), an executor or while another thread uses it.
 */
void		 dx_queue_free(struct dx_queue *);
/*
 * Copies the job (not what it points to) and queues it: before the start
 * or while the queue runs; then it starts when its priority and a slot
 * allow.  Fills *id (if id is not NULL) with its id.  Returns 0, or -1
 * with err set: a job without a name, calls without commands, out of
 * memory, or a queue that stopped (after dx_queue_stop() or once
 * dx_queue_run() returned).  A job added after dx_queue_abort() or the
 * circuit breaker is accepted and skipped.
 */
int		 dx_queue_submit(struct dx_queue *, const struct dx_job *, size_t *id,
		    struct dx_err *);
/* dx_queue_submit() without the id: it is dx_queue_size() before the call. */
int		 dx_queue_add(struct dx_queue *, const struct dx_job *, struct dx_err *);
/*
 * Starts the dispatcher thread, with SIGINT, SIGTERM, SIGHUP, SIGQUIT and
 * SIGPIPE blocked: jobs added so far start now, later ones when added.
 * done (may be NULL) and done_arg are borrowed until the queue stops.  The
 * deadline, if any, counts from here.  Returns 0, or -1 (DX_INTERNAL)
 * when started or stopped before, or when the thread cannot start.  Once
 * per queue, and not together with dx_queue_run().
 */
int		 dx_queue_start(struct dx_queue *, dx_done_fn done, void *done_arg,
		    struct dx_err *);
/*
 * Runs every job and blocks until each has a result: start, wait and stop
 * in one call, with the calling thread as the dispatcher (done() runs on
 * it).  Jobs added meanwhile (from done() or another thread) run too; once
 * it returns the queue takes no more.  Returns 0, or -1 if the queue
 * itself could not work (err set; DX_INTERNAL when called twice or after
 * dx_queue_start()); drone failures are not errors here.
 */
int		 dx_queue_run(struct dx_queue *, dx_done_fn done, void *done_arg,
		    struct dx_err *);
/*
 * Blocks until every job added has a result (its done() returned).  A
 * paused queue with jobs waiting keeps it waiting until a resume, an abort
 * or a stop.  Returns 0; -1 (DX_USAGE) from done(), or on a queue never
 * started that has jobs.
 */
int		 dx_queue_wait(struct dx_queue *, struct dx_err *);
/*
 * Pauses (as dx_queue_pause()) and blocks until no job runs and every
 * started or skipped one was handed to done(); waiting jobs stay queued
 * and start after dx_queue_resume().  Returns 0; -1 (DX_USAGE) from done().
 */
int		 dx_queue_drain(struct dx_queue *, struct dx_err *);
/*
 * New starts stop (pause) or start again (resume); running jobs go on, and
 * aborted jobs are still skipped while paused.  Before the start too.
 */
void		 dx_queue_pause(struct dx_queue *);
void		 dx_queue_resume(struct dx_queue *);
/*
 * Sets the fan-out at run time.  Growing starts waiting jobs at once;
 * shrinking stops no running job: nothing starts until fewer than fanout
 * run.  Returns 0, or -1 (DX_USAGE) if fanout is 0.
 */
int		 dx_queue_resize(struct dx_queue *, size_t fanout, struct dx_err *);
/*
 * Changes a waiting job's priority (its place in the start order; the
 * job's priority field reads the new value).  Returns 0, or -1 (DX_USAGE)
 * for an unknown id or a job that is running or finished: a job is either
 * re-prioritised while it waits or refused because it started, never both.
 */
int		 dx_queue_set_priority(struct dx_queue *, size_t id, int priority,
		    struct dx_err *);
/*
 * Aborts one job with kind why (DX_OK means DX_INTERRUPTED).  A waiting
 * job is skipped ("not started: interrupted", or "not started: aborted
 * (KIND)"); a running one has its abort descriptor written, so its
 * executor cuts its calls (dx_ssh_exec() ends them on the drone) and
 * returns, and it is not retried.  Other jobs are untouched.  Returns 0
 * (also for a job aborted before: the first reason stays), or -1
 * (DX_USAGE) for an unknown id or a job that has finished.
 */
int		 dx_queue_abort_job(struct dx_queue *, size_t id, enum dx_kind why,
		    struct dx_err *);
/*
 * Aborts the whole run: every running job's calls are cut, jobs not yet
 * started (and jobs added later) are skipped with kind why (DX_INTERRUPTED,
 * DX_DEADLINE; DX_OK means DX_INTERRUPTED).  The first reason given wins.
 */
void		 dx_queue_abort(struct dx_queue *, enum dx_kind why);
/*
 * Refuses new jobs; if some job has no result yet, aborts with
 * DX_INTERRUPTED (running jobs cut, waiting ones skipped, all through
 * done()); then joins the dispatcher.  After dx_queue_wait() it aborts
 * nothing.  Returns 0 (also when never started, or stopped before: then
 * waiting jobs keep their pending outcome); -1 (DX_USAGE) from done().
 */
int		 dx_queue_stop(struct dx_queue *, struct dx_err *);

/* Jobs added so far. */
size_t		 dx_queue_size(const struct dx_queue *);
/* A job's outcome (DX_ST_PENDING until it finishes), or NULL for a bad id. */
const struct dx_outcome *dx_queue_outcome(const struct dx_queue *, size_t index);
/* The queue's copy of a job, or NULL for a bad id; valid for the queue's life. */
const struct dx_job *dx_queue_job(const struct dx_queue *, size_t index);
/* Counts outcomes; pending jobs count in drones only. */
void		 dx_queue_summary(const struct dx_queue *, struct dx_summary *);
/* Most worker threads seen alive at once (for tests and progress). */
size_t		 dx_queue_peak_running(const struct dx_queue *);
/*
 * The consolidated error, or NULL when every drone is ok (or out of
 * memory); the caller frees it.  It counts as dx_queue_summary() does:
 *
 *   4 of 12 drones failed, 4 skipped: web-[01-03] (connect_refused),
 *   db-1 (auth), web-[09-12] (skipped: max_failures)
 *
 * ("F of N drones failed: ..." with no skipped drone, "S of N drones
 * skipped: ..." with no failed one; "1 of 1 drone").  Drones are grouped
 * per status and kind, groups in the order of their first drone, names
 * folded with dx_hostset_fold(); a group's names are cut after 160 bytes
 * with "and K more", so the line stays short on any fleet.  Call it once
 * the outcomes are final (see the thread rules).
 */
char		*dx_queue_error(const struct dx_queue *);


/*
 * The inventory (SPEC section 2), for a scheduler that runs drones of an
 * inventory file.  dx_inventory_load() reads a JSON file (or stdin for
 * "-"), expands "~" and checks every field.  It applies no defaults: a
 * drone holds what it sets itself, inv->defaults what "defaults" sets, and
 * target resolution layers them (with the built-in defaults and the
 * command line) into each drone's effective settings.
 *
 * Ownership: the inventory owns every string in it (and the reference to
 * each drone's "vars").  dx_inventory_release() frees them all; it is a
 * no-op on a released inventory or on one whose load failed, so a caller
 * may always release.  Pointers into it (a drone, its name) stay valid
 * until the release.
 *
 * Threads: after the load the inventory is read-only; any number of
 * threads may read it and call dx_inventory_find() at once.  Release it
 * after every queue whose jobs point into it has been freed.
 */
/* The connection fields a drone or "defaults" can set, for positions. */
enum dx_inv_field {
	DX_INV_HOST = 0,		/* drones only */
	DX_INV_PORT,
	DX_INV_USER,
	DX_INV_IDENTITY,
	DX_INV_KNOWN_HOSTS,
	DX_INV_JUMP,
	DX_INV_CONNECT_TIMEOUT,
	DX_INV_NFIELDS
};

/* Where a field's value starts in the file; line 0: not given there. */
struct dx_inv_pos {
	int		 line, col;
};

/*
 * A drone as the inventory gives it.  The connection fields (host to
 * connect_timeout_ms, jump) are the drone's own: NULL or 0 when it does
 * not set them.  The same struct, with name NULL, holds "defaults".
 */
struct dx_drone {
	char		*name;		/* unique */
	char		*host;		/* NULL: the name (target.h) */
	int		 port;		/* 0: not set */
	char		*user;		/* NULL: not set */
	char		*identity;	/* expanded path, or NULL */
	char		*known_hosts;	/* expanded path, or NULL */
	char		*jump;		/* drone name or user@host:port, or NULL */
	char	       **labels;
	size_t		 nlabels;
	int		 priority;	/* default 0; higher starts earlier */
	char	       **calls;		/* the drone's own calls, run first */
	size_t		 ncalls;
	int64_t		 connect_timeout_ms; /* 0 = not set */
	struct json_t	*vars;		/* the user's own "vars" object (owned
					   reference; defaults' keys merged
					   under the drone's), or NULL */
	size_t		 index;		/* position in the inventory */
	struct dx_inv_pos pos[DX_INV_NFIELDS]; /* where each field was given */
};

struct dx_inventory {
	char		*path;		/* as given ("-" for stdin) */
	struct dx_drone	 defaults;	/* "defaults" as given (name NULL; its
					   jump applies to every drone but the
					   one it names) */
	struct dx_drone	*drones;
	size_t		 n;
	void		*byname;	/* private name index, or NULL */
};

/*
 * Reads and parses path ("-" = stdin) into inv (whatever inv held is
 * overwritten, not freed).  Returns 0, or -1 with err set: kind
 * DX_INVENTORY and a message naming the file, line, column and field,
 * "drones.json:7:18: drone 'db-01': field 'port': expected an integer
 * 1-65535".  Nothing is kept after a failure.
 */
int	dx_inventory_load(struct dx_inventory *, const char *path, struct dx_err *);
/* Frees everything inv owns and zeroes it. */
void	dx_inventory_release(struct dx_inventory *);
/* The drone called name (borrowed from the inventory), or NULL. */
const struct dx_drone *dx_inventory_find(const struct dx_inventory *, const char *name);

/* How a drone's host key is checked (--host-key-check). */
enum dx_hostkey_policy {
	DX_HKC_STRICT = 0,		/* unknown or changed key: refuse */
	DX_HKC_ACCEPT_NEW,		/* add unknown keys; refuse changed ones */
	DX_HKC_OFF			/* no check (reported in the results) */
};

/*
 * Targets: a drone's effective connection settings, each with its source
 * (SPEC section 6).  A target is resolved once per drone, before any
 * connection, from built-in defaults < ssh_config < the inventory's
 * "defaults" < the drone's own fields < the command line; the executor
 * reads only the target, and nothing is written back into the inventory.
 *
 * Ownership: a target owns every string in it; dx_target_release() frees
 * them and is a no-op on a zeroed or released target.  Threads: a
 * resolved target is read-only, so drone threads may read it at once.
 */
/* Where a setting's value came from, lowest precedence first. */
enum dx_source {
	DX_SRC_DEFAULT = 0,	/* built in */
	DX_SRC_SSH_CONFIG,	/* ssh_config */
	DX_SRC_INV_DEFAULTS,	/* the inventory's "defaults" */
	DX_SRC_DRONE,		/* the drone's own field */
	DX_SRC_CLI		/* a command-line option */
};

/* "default", "ssh_config", "inventory defaults", "drone", "command line". */
const char	*dx_source_name(enum dx_source);

/*
 * The settings a target holds, one table for the enum, the names that
 * `list --explain` prints, and the origin slots.
 */
#define DX_SETTING_MAP(X)					\
	X(HOST, "host")						\
	X(PORT, "port")						\
	X(USER, "user")						\
	X(IDENTITY, "identity")					\
	X(KNOWN_HOSTS, "known_hosts")				\
	X(GLOBAL_KNOWN_HOSTS, "global_known_hosts")		\
	X(HOST_KEY_CHECK, "host_key_check")			\
	X(CONNECT_TIMEOUT, "connect_timeout")			\
	X(KEEPALIVE, "keepalive")				\
	X(JUMP, "jump")						\
	X(IDENTITIES_ONLY, "identities_only")			\
	X(HASH_KNOWN_HOSTS, "hash_known_hosts")			\
	X(SERVER_ALIVE_COUNT_MAX, "server_alive_count_max")

enum dx_setting {
#define DX_SETTING_ENUM(name, str) DX_SET_##name,
	DX_SETTING_MAP(DX_SETTING_ENUM)
#undef DX_SETTING_ENUM
	DX_SET_COUNT
};

/* The setting's name as `list --explain` and the results print it. */
const char	*dx_setting_name(enum dx_setting);

struct dx_origin {
	enum dx_source	 src;
	char		 where[160];	/* "drones.json:7:18", "--user", "" */
};

/* enum dx_hostkey_policy is public: dronex.h declares it. */

struct dx_target {
	char		*name;		/* the drone's name (the result key) */
	char		*host;		/* where to connect */
	int		 port;
	char		*user;
	char	       **identities;	/* expanded paths, tried in order */
	size_t		 nidentities;	/* 0: agent, then ~/.ssh/id_* */
	char	       **known_hosts;	/* the user's files, expanded */
	size_t		 nknown_hosts;
	char	       **global_known_hosts; /* the system's files */
	size_t		 nglobal_known_hosts;
	enum dx_hostkey_policy hostkey_policy;
	int64_t		 connect_timeout_ms;
	int		 keepalive_s;	/* 0 = off */
	char		*jump;		/* a drone name or user@host:port, or NULL */
	bool		 identities_only; /* no agent keys (IdentitiesOnly) */
	bool		 hash_known_hosts; /* accept-new writes hashed names */
	int		 server_alive_count_max; /* keepalives unanswered before the
					   connection is lost (resolve: 3) */
	struct dx_origin from[DX_SET_COUNT];
	/*
	 * The jump chain (dx_target_resolve_hops()), outermost first: hops[0]
	 * is reached over TCP, each next one through the one before, the
	 * drone through the last.  Owned; NULL and 0 without a jump.  A hop's
	 * own hops are always NULL: its chain is part of this one.
	 */
	struct dx_target *hops;
	size_t		 nhops;
	/* ssh_config options that applied to the drone but dronex ignores. */
	struct dx_ignored *ignored;
	size_t		 nignored;
};

/* An ssh_config option that applied but is not honoured (list --explain). */
struct dx_ignored {
	char		*keyword;	/* as written: "ForwardAgent" */
	char		*value;		/* its words, joined by spaces */
	char		*where;		/* "FILE:LINE" */
};

/* "strict", "accept-new", "off" (as --host-key-check and the results spell it). */
const char	*dx_hostkey_policy_name(enum dx_hostkey_policy);

/*
 * ssh_config as a source of settings (ssh_config(5); sshconf.h).
 * dx_sshconf_load() reads, as OpenSSH does, ~/.ssh/config then
 * /etc/ssh/ssh_config when file is NULL, only file otherwise (ssh -F: a
 * missing file is an error), and nothing for "none" (*out NULL: an empty
 * source).  Host patterns (*, ?, !), Include (globs, nested), first value
 * wins per option.  A Match block, or a bad value of an honoured option,
 * is an error (DX_USAGE) naming file, line and keyword.  The config is
 * read-only after the load (threads may resolve with it at once); free it
 * with dx_sshconf_free() (NULL: no-op) after the targets are resolved.
 */
struct dx_sshconf;
int	dx_sshconf_load(const char *file, struct dx_sshconf **out,
	    struct dx_err *err);
void	dx_sshconf_free(struct dx_sshconf *);

/*
 * The command line's settings, the highest source: what is not given
 * leaves the lower sources in force.  Origins name the dronex option
 * ("-l", "--port", "--identity", "--connect-timeout", "--host-key-check",
 * "--keepalive"); a C scheduler that sets these gets the same names.
 * Everything is borrowed for the call only.
 */
struct dx_target_cli {
	const char	*user;		/* -l; NULL: not given */
	int		 port;		/* --port; 0: not given */
	const char *const *identities;	/* --identity, expanded, in order */
	size_t		 nidentities;	/* 0: not given */
	int64_t		 connect_timeout_ms; /* --connect-timeout; 0: not given */
	bool		 hostkey_given;	/* --host-key-check */
	enum dx_hostkey_policy hostkey_policy;
	bool		 keepalive_given; /* --keepalive */
	int		 keepalive_s;
};

/*
 * Resolves drone d of inv into t: for each setting, the highest source
 * that gives it, from built-in defaults < sshconf (NULL: none) <
 * inv->defaults < d's own fields < cli (NULL: none), with its origin in
 * t->from[setting].  Built-in defaults: host the drone's name, port 22,
 * user the current user (home.h), no identity (the agent, then
 * ~/.ssh/id_*), known_hosts ~/.ssh/known_hosts and ~/.ssh/known_hosts2,
 * global /etc/ssh/ssh_known_hosts and ssh_known_hosts2, host-key check
 * strict, connect timeout 10 s, keepalive 15 s, no jump, IdentitiesOnly
 * and HashKnownHosts off, ServerAliveCountMax 3.  sshconf is looked up by
 * the drone's name (an ad-hoc drone's by its host, which ssh_config's
 * HostName may then replace); its options that dronex ignores are copied
 * into t->ignored.  An inventory value's origin is "FILE:LINE:COL" (just
 * "FILE" for an ad-hoc drone, "-w"), an ssh_config one "FILE:LINE".
 * Fills t (release it with dx_target_release()) and returns 0, or returns
 * -1 with err set (DX_USAGE: no user or home directory is known, or an
 * ssh_config file name with a token dronex does not expand; OOM) and
 * t zeroed.  Reads inv and d only: nothing is written back.
 */
int	dx_target_resolve(struct dx_target *t, const struct dx_inventory *inv,
	    const struct dx_drone *d, const struct dx_sshconf *sshconf,
	    const struct dx_target_cli *cli, struct dx_err *err);
void	dx_target_release(struct dx_target *);
/*
 * Resolves t's jump (a drone's name or [user@]host[:port]; a comma
 * separated chain from ssh_config's ProxyJump) into t->hops, each hop with
 * its own settings: an inventory drone's name gives that drone's target
 * (and its own jump, followed first), anything else an ad-hoc drone of
 * inv resolved by dx_target_resolve() (inventory defaults apply, not
 * their jump).  cli applies to hops without its user and port (-l and
 * --port are the destination's).  In a chain "a,b" only a's own jump is
 * followed: b is reached through a, as with ssh -J a,b.  A no-op without
 * a jump.  Returns 0, or -1 with err set (DX_USAGE: a malformed element,
 * a chain that loops or is longer than 8 hops; DX_INTERNAL) and t's hops
 * left empty.  Call it after dx_target_resolve(), before any connection;
 * dx_target_release() frees the hops.
 */
int	dx_target_resolve_hops(struct dx_target *t, const struct dx_inventory *inv,
	    const struct dx_sshconf *sshconf, const struct dx_target_cli *cli,
	    struct dx_err *err);


/*
 * Jobs: the queue jobs of a run, one per selected drone, in selection
 * order, each running the drone's own inventory calls first, then the
 * calls given for the whole run (SPEC section 2).  dx_jobs_build() fills
 * a struct dx_jobs whose job array and call lists it owns
 * (dx_jobs_release() frees them; a no-op on a zeroed or released one).
 * What the jobs point to is borrowed: names and the drones' calls from the
 * inventory, the run's calls from the caller, and job->drone is
 * &targets[i]; all of it must outlive the queue the jobs are added to.
 */
struct dx_jobs {
	struct dx_job	*v;		/* n jobs, v[i] for drones[idx[i]] */
	size_t		 n;
	const char     **callv;		/* private: every job's calls, one block */
};

/*
 * Builds the jobs of the n drones inv->drones[idx[0..n)], whose targets
 * are targets[0..n), each with its own calls then calls[0..ncalls).
 * Returns 0, or -1 with err set (DX_INTERNAL, out of memory) and jobs
 * zeroed.
 */
int	dx_jobs_build(struct dx_jobs *jobs, const struct dx_inventory *inv,
	    const size_t *idx, const struct dx_target *targets, size_t n,
	    const char *const *calls, size_t ncalls, struct dx_err *err);
void	dx_jobs_release(struct dx_jobs *);



/*
 * The SSH executor: runs one drone's calls over one connection, on the
 * drone's own thread.  Make one dx_ssh with dx_ssh_new() and pass
 * dx_ssh_exec as the queue's executor with the dx_ssh as its argument;
 * every job's drone must then be a const struct dx_target * (above, as
 * dx_jobs_build() sets it): the connection reads its settings only from
 * the target.  The options below are the run's, the same for every call.
 * A target with hops (dx_target_resolve_hops()) is reached through them:
 * drones behind the same chain share one session to each jump host.
 *
 * Ownership: dx_ssh_new() copies the options struct, not what it points
 * to: stdin_data is borrowed and must outlive the dx_ssh.  The caller
 * frees the dx_ssh with dx_ssh_free() (a no-op on NULL).  dx_ssh_exec()
 * fills the result it is handed as dx_exec_fn says (calls, error,
 * calls_sent, kex, host key) and keeps nothing else.
 *
 * Threads: a dx_ssh holds what drone threads share read-mostly (the
 * known_hosts files, parsed once and locked inside, the identity files,
 * read once, the agent), so it may serve any number of drone threads and
 * one run after another; each drone's connection is made, used and freed
 * on its own thread.  Free it only when no queue is running with it.
 */
struct dx_ssh_opts {
	int64_t		 call_timeout_ms;    /* per call; 0 = none */
	size_t		 max_output;	     /* per stream per call */
	/*
	 * Every call's standard input (--stdin), borrowed; with stdin_data
	 * NULL each call's stdin is closed (EOF sent) at once.
	 */
	const void	*stdin_data;
	size_t		 stdin_len;
};

struct dx_ssh;

/*
 * dx_ssh_new() returns the executor's shared state, or NULL with err set
 * (DX_INTERNAL) when out of memory.
 * dx_ssh_exec() is a dx_exec_fn; ssh is the dx_ssh.
 */
struct dx_ssh	*dx_ssh_new(const struct dx_ssh_opts *, struct dx_err *);
void		 dx_ssh_free(struct dx_ssh *);
void		 dx_ssh_exec(void *ssh, const struct dx_job *job,
		    const struct dx_ctl *ctl, struct dx_result *res);

/*
 * Results as JSON (SPEC section 4): the objects of "dronex exec"'s
 * results, for a scheduler that stores or forwards them.
 *
 * Ownership: every json_t returned is a new reference the caller owns
 * (json_decref()); NULL means out of memory.  The result is only read.
 * Output bytes that are valid UTF-8 become a JSON string under KEY;
 * anything else becomes base64 under KEY_base64, so nothing is dropped
 * and nothing is mangled.
 *
 * Threads: any thread, on a result no other thread is writing (in the
 * done callback, or after taking it over); the returned object is the
 * caller's alone (jansson objects are not locked).
 */
/* null for DX_OK, else {"kind", "message"}. */
json_t	*dx_err_json(const struct dx_err *);
/*
 * One drone's object: host, port, user, status, attempts, elapsed_ms,
 * error, kex, hostkey_type, hostkey_fingerprint, calls.  Every string in
 * it is valid UTF-8.  host, port and user are where the drone connected
 * (a dx_drone's fields); user may be NULL.  If the full object cannot be
 * built (out of memory), returns a small one instead (where it connected,
 * status, attempts, no calls, an "internal" error saying so), so the drone
 * still appears; NULL only if even that fails.
 */
json_t	*dx_result_json(const char *host, int port, const char *user,
	    const struct dx_result *);

#endif /* DRONEX_H */
