/*
 * queue.h - the queue's inside, shared by its three files and by nobody
 * else: queue.c (the API and the theory of operation), queue_dispatch.c
 * (the dispatcher, its workers and their slots) and queue_order.c (the
 * start order, a heap).  The public API is in dronex.h.
 *
 * Who frees what: the queue owns every entry, slot and heap array below;
 * dx_queue_free() releases them all.  A slot's struct dx_result is the
 * worker's while it runs and the dispatcher's afterwards, which releases it
 * once done() has returned.
 *
 * Each field names the lock that guards it.  "mu" is the queue's one
 * mutex.  "dispatcher" means only the dispatcher thread touches it.
 * "constant" means set before any thread could see it.
 */
#ifndef DX_QUEUE_H
#define DX_QUEUE_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "dronex.h"

/*
 * Entries live in chunks that never move: chunk k holds QUEUE_CHUNK0 << k
 * entries, so a pointer to a job or an outcome stays valid while other
 * threads add jobs, and 48 chunks hold more jobs than memory can.
 */
#define QUEUE_CHUNK0	16
#define QUEUE_NCHUNKS	48

enum queue_state {
	QE_WAITING = 0,		/* in the heap */
	QE_ABORTED,		/* taken out of the heap by dx_queue_abort_job() */
	QE_RUNNING,		/* in a slot, until its done() begins */
	QE_DONE			/* its outcome is final */
};

struct queue_slot;

/* One added job. */
struct queue_entry {
	struct dx_job	 job;		/* constant, but priority: mu, while waiting */
	size_t		 id;		/* constant: position in add order */
	enum queue_state state;		/* mu */
	size_t		 heap;		/* mu: position in q->heap while waiting */
	enum dx_kind	 skip;		/* mu: why an aborted waiting job is skipped */
	struct queue_entry *next;	/* mu: on the skip list */
	struct queue_slot *slot;	/* mu: while running */
	struct dx_outcome outcome;	/* mu, written by the dispatcher only */
};

/*
 * One fan-out slot: a worker thread's state.  Slots are kept (with their
 * abort descriptor) while idle, up to the fan-out, and reused.
 */
struct queue_slot {
	struct dx_queue	*q;		/* constant */
	struct queue_entry *e;		/* mu; constant while the worker runs */
	struct dx_ctl	 ctl;		/* set before the worker starts */
	int		 sig[2];	/* abort descriptor: [0] polled, [1] written */
	_Atomic int	 why;		/* this job's abort reason; DX_OK if none */
	bool		 busy;		/* mu: a worker runs (or ran) in it */
	bool		 signalled;	/* mu: sig was written since last drained */
	pthread_t	 tid;		/* dispatcher */
	struct dx_result res;		/* the worker's until it is on the done list */
	struct queue_slot *next;	/* mu: on the done list or the idle list */
};

struct dx_queue {
	/* Constant after dx_queue_new(). */
	struct dx_queue_opts opts;	/* opts.fanout is only the initial one */
	dx_exec_fn	 exec;
	void		*exec_arg;

	/* Lock-free: written by whoever aborts first, read by anyone. */
	_Atomic int	 abort_why;	/* enum dx_kind; DX_OK until aborted */

	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* mu: the dispatcher has something to do */
	pthread_cond_t	 idle_cv;	/* mu: a job finished, or the dispatcher ended */

	/* The jobs. */
	struct queue_entry *chunk[QUEUE_NCHUNKS];	/* mu */
	size_t		 njobs;		/* mu */
	size_t		 nfinished;	/* mu: jobs whose done() returned */
	struct queue_entry **heap;	/* mu: waiting jobs, best first */
	size_t		 nheap;		/* mu */
	size_t		 heapcap;	/* mu */
	struct queue_entry *skip_head;	/* mu: aborted waiting jobs, FIFO */
	struct queue_entry *skip_tail;	/* mu */

	/* The slots. */
	struct queue_slot **slots;	/* mu: every slot, busy or idle */
	size_t		 nslots;	/* mu */
	size_t		 slotcap;	/* mu */
	struct queue_slot *idle;	/* mu: idle slots, a stack */
	struct queue_slot *done_head;	/* mu: slots whose worker finished, FIFO */
	struct queue_slot *done_tail;	/* mu */
	size_t		 running;	/* mu: worker threads alive (not yet joined) */
	size_t		 peak;		/* mu: most alive at once */
	size_t		 fanout;	/* mu: dx_queue_resize() */
	bool		 blocked;	/* mu: a start failed with EAGAIN; retry after a join */

	/* Life cycle. */
	bool		 started;	/* mu: dx_queue_start() or dx_queue_run() */
	bool		 threaded;	/* mu: the dispatcher is a thread of ours */
	bool		 paused;	/* mu: dx_queue_pause() or dx_queue_drain() */
	bool		 stopping;	/* mu: dx_queue_stop(): end when idle */
	bool		 closed;	/* mu: no more jobs accepted */
	bool		 ended;		/* mu: the dispatcher loop returned */
	bool		 joined;	/* mu: someone joins (or joined) its thread */
	size_t		 nwaiters;	/* mu: threads sleeping on idle_cv */
	pthread_t	 dispatcher;	/* mu: valid once started */
	int64_t		 deadline;	/* constant once started; 0 = none */
	dx_done_fn	 done;		/* constant once started */
	void		*done_arg;	/* constant once started */
	size_t		 failures;	/* dispatcher: failed jobs so far */
	sigset_t	 blocked_sigs;	/* constant: signals our threads never take */
	pthread_attr_t	 attr;		/* constant once started: worker threads */
	bool		 have_attr;	/* constant once started */
};

/* queue.c */
struct queue_entry *queue_entry_get(const struct dx_queue *, size_t id);	/* mu */
void	queue_abort_locked(struct dx_queue *, enum dx_kind why);		/* mu */
bool	queue_on_dispatcher(const struct dx_queue *);				/* mu */

/* queue_dispatch.c */
void	queue_dispatch(struct dx_queue *);	/* the loop; returns when it ends */
void	*queue_dispatch_main(void *);		/* the dispatcher thread */
void	queue_slot_signal(struct queue_slot *);	/* mu */
void	queue_slot_free(struct queue_slot *);
void	queue_slots_trim(struct dx_queue *);	/* mu: idle slots over the fan-out */
void	queue_slots_prepare(struct dx_queue *, size_t n);	/* mu */

/* queue_order.c: the heap of waiting jobs, (priority desc, id asc).  mu. */
int	queue_heap_push(struct dx_queue *, struct queue_entry *);
struct queue_entry *queue_heap_pop(struct dx_queue *);
void	queue_heap_remove(struct dx_queue *, struct queue_entry *);
void	queue_heap_fix(struct dx_queue *, struct queue_entry *);

#endif
