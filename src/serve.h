/*
 * serve.h - the inside of "dronex serve" (SPEC section 7), shared by its
 * files and nobody else:
 *
 *   cli_serve.c     options, the spool, the main loop (inotify, timer,
 *                   signals), intake of requests, abort and control files
 *   serve_sched.c   the drones, the one long-lived queue, the per-drone
 *                   deferral, the executor and the done callback
 *   serve_journal.c the crash journal and the recovery of running/
 *   serve_doc.c     result documents (exec's format + "request")
 *   serve_status.c  counters, time samples and status.json
 *
 * Threads.  The main thread owns the spool intake, the control files and
 * every request's life cycle outside the queue.  The queue's dispatcher
 * runs serve_done(); workers run serve_exec().  One mutex (serve.mu)
 * guards the scheduling state below: each field names it.  Lock order:
 * serve.mu, then the queue's own lock (dx_queue_* calls are made under
 * serve.mu); the journal's lock is never taken under serve.mu.
 *
 * Ownership.  A drone record (struct serve_drone) lives until serve
 * exits: queue jobs borrow its name for the queue's life.  A request
 * (struct serve_req) owns its parsed request, its jobs, their call lists
 * and private targets, and its drone results; it is freed by the main
 * thread once its result is durable.
 */
#ifndef DX_SERVE_H
#define DX_SERVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cli_int.h"
#include "dronex.h"
#include "pool.h"
#include "request.h"
#include "spool.h"

struct serve;
struct serve_req;

enum serve_job_state {
	SJ_NEW = 0,
	SJ_DEFERRED,		/* on its drone's deferred list */
	SJ_QUEUED,		/* submitted to the queue (waiting or running) */
	SJ_DONE			/* its result is in req->results */
};

struct serve_job {
	struct serve_req *req;		/* constant */
	size_t		 i;		/* constant: index in the request */
	struct serve_drone *drone;	/* constant */
	const struct dx_target *target;	/* constant: drone's, or private */
	struct dx_target *own;		/* a private target (request options) */
	char	       **calls;		/* owned: the drone's, then the request's */
	size_t		 ncalls;
	struct dx_job	 qjob;		/* what the queue is given */
	enum serve_job_state state;	/* mu */
	size_t		 qid;		/* mu: queue id once queued */
	bool		 started;	/* mu: the executor began its work */
	enum dx_kind	 skip;		/* mu: skip with this kind at start */
	int		 attempts;	/* executor, then done */
	struct serve_job *dnext;	/* mu: the drone's deferred list */
};

struct serve_drone {
	char		*name;		/* constant */
	struct dx_target *target;	/* mu: serve's target; NULL: removed */
	bool		 busy;		/* mu: a job of it is queued */
	struct serve_job *deferred;	/* mu: by priority, then arrival */
	struct serve_drone *hnext;	/* mu: hash chain */
};

enum serve_req_state {
	SR_PENDING = 0,		/* in pending/ */
	SR_RUNNING,		/* in running/ (a drone started) */
	SR_DONE			/* every drone has a result */
};

struct serve_req {
	char		 id[DX_SPOOL_ID_SIZE];
	uint64_t	 seq;		/* arrival order */
	struct dx_request r;		/* the parsed request */
	int		 priority;	/* mu */
	enum serve_req_state state;	/* mu */
	bool		 admitted;	/* main: its jobs were released */
	bool		 aborted;	/* mu */
	bool		 breaker;	/* mu: max_failures reached */
	struct serve_job *jobs;		/* njobs, constant once admitted */
	size_t		 njobs;
	json_t	       **results;	/* mu: njobs drone objects */
	size_t		 ndone, nfailed; /* mu */
	char		 hkc[16];	/* "strict", ... for the document */
	/* The request's effective execution options. */
	int64_t		 timeout_ms, deadline_ms, retry_delay_ms;
	int		 retries;
	size_t		 max_failures, max_output;
	bool		 fail_fast;
	int64_t		 deadline;	/* monotonic, from admission; 0 none */
	/* Times (wall ms / monotonic ms). */
	int64_t		 received_mono, started_mono, admitted_wall;
	/* The files in running/: made by the first drone that starts. */
	pthread_mutex_t	 fmu;
	bool		 files;		/* fmu: running/ID and its journal exist */
	bool		 files_failed;	/* fmu */
	struct dx_spool_journal *journal; /* fmu, then constant */
	struct serve_req *next;		/* main: the live list */
	struct serve_req *cnext;	/* mu: the completed list */
};

/* Bounded time samples: count, sum and the last SERVE_SAMPLES values. */
#define SERVE_SAMPLES	2048
struct serve_stat {
	uint64_t	 count;
	double		 sum;
	double		 v[SERVE_SAMPLES];
};

#define SERVE_HASH	4096

struct serve {
	struct dx_spool	*spool;		/* constant */
	struct cli_opts	*o;		/* constant: serve's own options */
	struct dx_inventory inv;	/* main */
	struct dx_conn_shared *shared;	/* constant */
	struct dx_pool	*pool;		/* constant */
	struct dx_queue	*q;		/* mu: replaced by serve_recycle() */
	struct dx_queue_opts qopts;	/* constant: every queue's options */
	size_t		 nqueued;	/* mu: jobs in the queue, done() not yet run */
	pthread_mutex_t	 mu;
	struct serve_drone *hash[SERVE_HASH]; /* mu */
	struct dx_target **retired;	/* mu: replaced targets, freed at exit */
	size_t		 nretired;
	struct serve_req *live;		/* main: every request not completed */
	struct serve_req *completed;	/* mu: done, for the main thread */
	uint64_t	 seq;		/* main */
	size_t		 fanout;	/* main */
	bool		 paused, draining; /* main */
	int		 wake_fd;	/* eventfd: serve_done() -> main */
	/* Counters (mu). */
	uint64_t	 received, ncompleted, naborted;
	struct serve_stat wait_ms, run_ms;
	bool		 dirty;		/* main: status.json is stale */
	int64_t		 started_wall;
	size_t		 max_sessions;
	/* DRONEX_CRASH_POINT=NAME[:N]. */
	char		 crash_name[64];
	long		 crash_n;
	atomic_long	 crash_seen;
	/* --stdin of serve itself: the default standard input. */
	char		*stdin_data;
	size_t		 stdin_len;
};

/* CLOCK_REALTIME milliseconds. */
int64_t	serve_wall_ms(void);

/* cli_serve.c: one line on stderr ("dronex serve: ..."). */
void	serve_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* raise(SIGKILL) at the N-th pass of point name (DRONEX_CRASH_POINT). */
void	serve_crash(struct serve *, const char *name);

/*
 * o: serve's options with request r's selection and connection options
 * on top (a shallow copy: never released).  0, or -1 with err (a
 * selection too long for the command line's bounds).
 */
int	serve_req_opts(const struct serve *, const struct dx_request *r,
	    struct cli_opts *o, struct dx_err *);

/* serve_intake.c (main thread) */
void	serve_scan_requests(struct serve *, const char *sub);
void	serve_scan_aborts(struct serve *);
void	serve_scan_control(struct serve *);
/* Writes the results of the requests whose drones all finished. */
void	serve_complete(struct serve *);
/* Admits waiting requests, highest priority first (not paused or draining). */
void	serve_admit_waiting(struct serve *);

/* serve_sched.c */
struct serve_drone *serve_drone_get(struct serve *, const char *name, bool create);
void	serve_exec(void *arg, const struct dx_job *, const struct dx_ctl *,
	    struct dx_result *);
void	serve_done(void *arg, size_t index, const struct dx_job *,
	    struct dx_result *);
/* Releases the request's jobs (mu not held); completes an empty one. */
void	serve_admit(struct serve *, struct serve_req *);
/*
 * Main thread: an idle queue that has run SERVE_RECYCLE_JOBS jobs is
 * replaced by a fresh one (serve_sched.c says why).
 */
#define SERVE_RECYCLE_JOBS	1024
int	serve_recycle(struct serve *, struct dx_err *);
/* Aborts a request (mu not held): kind DX_INTERRUPTED, "aborted". */
void	serve_abort(struct serve *, struct serve_req *);
/* A pending request's new priority; -1 with err when it started. */
int	serve_set_priority(struct serve *, struct serve_req *, int, struct dx_err *);
/* Frees a request and everything it owns. */
void	serve_req_free(struct serve_req *);

/* serve_journal.c */
/* The first drone to start makes running/ID and its journal (fmu). */
int	serve_journal_begin(struct serve *, struct serve_req *, struct dx_err *);
int	serve_journal_start(struct serve *, struct serve_req *, const char *drone,
	    size_t call, const char *command, struct dx_err *);
int	serve_journal_done(struct serve *, struct serve_req *, const char *drone,
	    json_t *obj, struct dx_err *);
/* Completes every request left in running/ by a crash; 0 or -1 (printed). */
int	serve_recover(struct serve *);

/* serve_doc.c */
/*
 * The result document of n drones (names[i], objs[i]: drone objects) as
 * JSON text (compact, no newline), or NULL when out of memory.  error
 * NULL: the consolidated error of the drones.  refused: a refused
 * request (zero drones, "refused": true, "error": error).
 */
char	*serve_doc(const char *id, int64_t started_wall, int64_t elapsed_ms,
	    const char *hkc, const char *shard, const char *const *names,
	    json_t *const *objs, size_t n, bool refused, const char *error);
/* A drone object that never started: skipped with kind and message. */
json_t	*serve_obj_skipped(const struct dx_target *t, enum dx_kind kind,
	    const char *msg);
/* Writes complete/ID durably; 0 or -1 (printed). */
int	serve_write_result(struct serve *, const char *id, const char *doc);
/* A refused request: its result, then the request file removed. */
void	serve_refuse(struct serve *, const char *sub, const char *id,
	    const char *why);

/* serve_status.c */
void	serve_stat_add(struct serve_stat *, double v);
/* Writes DIR/status.json now (main thread). */
void	serve_status_write(struct serve *);

#endif
