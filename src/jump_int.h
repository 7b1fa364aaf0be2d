/*
 * jump_int.h - the inside of the jump registry, shared by jump.c (the
 * registry: requests, sessions and their life cycle) and pump.c (the
 * poll loop that relays a session's channels to socketpairs).  Nothing
 * else includes it.  Locks: "reg->lock" beside a field says the
 * registry's mutex guards it; "the pump's own" fields are touched by the
 * node's pump thread alone.
 */
#ifndef DX_JUMP_INT_H
#define DX_JUMP_INT_H

#include <poll.h>
#include <pthread.h>
#include <stdbool.h>

#include "conn_int.h"
#include "jump.h"

#define DX_JUMP_BUF		32768	/* per direction per pipe */
#define DX_JUMP_POLL_MAX_MS	60000
#define DX_JUMP_CLOSE_MAX_MS	5000	/* wait for a channel's close, at most */

/* What failed, hop by hop: the requester formats it with its own chain. */
struct dx_jump_fail {
	enum dx_kind	 kind;		/* DX_OK: no failure */
	size_t		 hop;		/* 1-based index of the failing hop */
	bool		 channel;	/* the last hop could not reach host */
	char		 name[128];	/* the failing hop's name */
	char		 msg[256];
};

enum dx_jump_req_state { JR_PENDING, JR_DONE, JR_ABANDONED };

struct dx_jump_req {
	struct dx_jump_req	*next;
	char		*host;
	int		 port;
	int64_t		 budget_ms;
	int64_t		 until;		/* pump: the channel's open deadline */
	int		 end;		/* the pump's end of the socketpair */
	int		 evfd;		/* signalled once the request is done */
	enum dx_jump_req_state state;	/* reg->lock */
	struct dx_jump_fail fail;		/* reg->lock; valid when JR_DONE */
};

struct dx_jump_pipe {
	LIBSSH2_CHANNEL	*ch;
	int		 fd;
	char		 up[DX_JUMP_BUF];	/* fd -> channel */
	size_t		 uplen, upoff;
	char		 down[DX_JUMP_BUF]; /* channel -> fd */
	size_t		 downlen, downoff;
	bool		 rd;		/* fd may have data (poll said so) */
	bool		 fd_eof;	/* the inner end stopped writing */
	bool		 eof_sent;	/* ... and the channel was told */
	bool		 ch_eof;	/* the server's end stopped writing */
	bool		 closing;	/* freeing the channel */
	int64_t		 close_since;	/* when the freeing started */
};

/* An ended pump thread, to be joined (its thread-local state freed). */
struct dx_jump_ended {
	struct dx_jump_ended *next;
	pthread_t	 th;
};

struct dx_jump_node {
	struct dx_jump_reg *reg;
	struct dx_jump_ended *ended;	/* made with the node, used at its end */
	struct dx_jump_node *next;		/* reg->lock */
	char		*key;
	struct dx_target *hops;		/* copies of the chain */
	size_t		 n;
	int		 wake;		/* eventfd: new requests, abandons */
	int		 abortfd;	/* eventfd: the registry is closing */
	struct dx_ctl	 ctl;		/* the session's own: abortfd only */

	/* reg->lock */
	bool		 findable;	/* new requests may join */
	size_t		 refs;		/* requests and pipes */
	struct dx_jump_req	*reqs;		/* handed over, not taken yet */

	/* The pump's own. */
	struct dx_conn	*c;
	struct dx_jump_fail fail;		/* why the session died */
	bool		 dead;
	struct dx_jump_req	*opening;	/* taken, in order; head is opened */
	struct dx_jump_pipe **pipes;
	size_t		 npipes, cap;
	struct dx_jump_pipe *pending;	/* its write is half sent */
	bool		 drained;	/* a channel read this round read the
					   socket: other channels' data is
					   queued in libssh2 now */
	struct pollfd	*pfd;
	size_t		 pfdcap;
};

struct dx_jump_reg {
	struct dx_conn_shared *sh;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;		/* a pump ended */
	struct dx_jump_node *nodes;	/* every running pump's node */
	struct dx_jump_ended *ended;	/* pumps that ended, not joined yet */
	size_t		 npumps;
	bool		 closing;
};

/* Wakes a poll() on the eventfd; reads its counter back to 0. */
void	dx_jump_signal(int fd);
void	dx_jump_drain(int fd);
void	dx_jump_fail_set(struct dx_jump_fail *, enum dx_kind kind, size_t hop,
	    const char *name, bool channel, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));
/* Answers a request (reg->lock held); frees it if its requester gave up. */
void	dx_jump_req_done(struct dx_jump_node *, struct dx_jump_req *,
	    const struct dx_jump_fail *);
/* The session is gone (its failure f, or e, or "lost: why"). */
void	dx_jump_die(struct dx_jump_node *, const struct dx_jump_fail *f);
void	dx_jump_die_err(struct dx_jump_node *, const struct dx_err *e);
void	dx_jump_die_lost(struct dx_jump_node *, const char *why);
/* Takes the handed-over requests; false when the pump is to end. */
bool	dx_jump_take(struct dx_jump_node *);

/* pump.c: the loop of an open session, until dx_jump_take() says end. */
void	dx_pump_loop(struct dx_jump_node *);
/* Drops pipe i (its channel freed or left to libssh2) and its reference. */
void	dx_pump_pipe_free(struct dx_jump_node *, size_t i);

#endif
