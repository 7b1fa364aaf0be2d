/*
 * pool_int.h - the warm pool's insides, shared by pool.c (entries, the
 * idle list, the pool's thread) and pool_reopen.c (the background
 * re-opener of sessions that died while idle).  Not installed.
 */
#ifndef DX_POOL_INT_H
#define DX_POOL_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "pool.h"
#include "throttle.h"

enum pool_state {
	POOL_CLOSED = 0,
	POOL_IDLE,
	POOL_BUSY,
	POOL_KEEPALIVE,
	POOL_REOPEN		/* the re-opener opens it now (takes wait) */
};

struct pool_entry {
	char			*name;		/* owned; the key */
	struct dx_conn		*c;		/* lock; NULL when closed */
	enum pool_state		 state;		/* lock */
	bool			 stale;		/* lock; forgotten while busy */
	struct pool_entry	*prev, *next;	/* lock; the idle list */
	int			 fd;		/* lock; c's descriptor while idle */
	int64_t			 idle_since;	/* lock; monotonic ms */
	int64_t			 ka_due;	/* lock; 0: no keepalives */
	struct dx_throttle	 th;		/* lock */
	/* The re-open FIFO (pool_reopen.c); only CLOSED entries are on it. */
	bool			 queued;	/* lock; on the FIFO */
	struct pool_entry	*rprev, *rnext;	/* lock */
	int64_t			 rdue;		/* lock; first attempt not before */
	const struct dx_target	*rtarget;	/* lock; the dead session's */
};

struct dx_pool {
	struct dx_conn_shared	*shared;	/* read-only */
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;		/* an entry stopped being busy */
	struct dx_pool_opts	 opts;		/* lock (max_sessions) */
	struct pool_entry      **tab;		/* lock; open addressing by name */
	size_t			 tabsize;	/* lock; a power of two */
	size_t			 nent;		/* lock */
	struct pool_entry	*lru, *mru;	/* lock; idle list ends */
	size_t			 nwarm, nbusy;	/* lock */
	bool			 woken;		/* lock; eventfd written, not read */
	int64_t			 sleep_until;	/* lock; when the thread's wait ends */
	bool			 stop;		/* lock */
	int			 efd;		/* the thread's wake-up */
	int			 epfd;		/* the idle sockets (and efd) */
	pthread_t		 thread;
	/* The re-opener (pool_reopen.c). */
	pthread_cond_t		 rcond;		/* FIFO grew, or stop (monotonic) */
	struct pool_entry	*rhead, *rtail;	/* lock; the FIFO */
	size_t			 nreopen;	/* lock; 0 or 1: an open in flight */
	size_t			 reopened, reopen_failed; /* lock; counters */
	bool			 rstarted;	/* lock; its thread runs */
	pthread_t		 rthread;
	int			 rabort;	/* eventfd: the open's abort */
	struct dx_ctl		 rctl;		/* re-opener thread only */
};

/* pool.c, lock held: parks e (BUSY or REOPEN, c open) idle; 0 or -1. */
int		 pool_park(struct dx_pool *, struct pool_entry *, int fd);
/* True when `extra` more sessions would go over the limit; lock held. */
bool		 pool_full(const struct dx_pool *, size_t extra);
/* Closes and frees a connection nobody else can reach; lock not held. */
void		 pool_close(struct dx_conn *);

/* pool_reopen.c.  Init/fini with the pool (0 or -1: no eventfd/cond). */
int		 pool_reopen_init(struct dx_pool *);
/* Joins the re-opener (p->stop set, lock not held), frees what it has. */
void		 pool_reopen_fini(struct dx_pool *);
/* Wakes the re-opener and cuts its open (stop); lock held. */
void		 pool_reopen_stop(struct dx_pool *);
/* Queues e (just made CLOSED: its session died idle, for target t). */
void		 pool_reopen_queue(struct dx_pool *, struct pool_entry *,
		    const struct dx_target *);
/* Takes e off the FIFO if on it (a take or forget wants it); lock held. */
void		 pool_reopen_dequeue(struct dx_pool *, struct pool_entry *);
/* Cuts an open in flight for e (forget); the caller waits on p->cond. */
void		 pool_reopen_abort(struct dx_pool *);

#endif
