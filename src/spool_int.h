/*
 * spool_int.h - what the spool's files (spool.c, spool_lock.c,
 * spool_journal.c) share; not installed, not for other modules.
 */
#ifndef DX_SPOOL_INT_H
#define DX_SPOOL_INT_H

#include <sys/stat.h>

#include <pthread.h>
#include <stdint.h>

#include "spool.h"

#define SPOOL_NSUBS	7	/* tmp, requested, ... control (spool.c) */

struct dx_spool {
	char		*path;
	int		 dirfd;
	int		 subfd[SPOOL_NSUBS];
	int		 lockfd;		/* -1 until dx_spool_lock() */
	pthread_mutex_t	 mu;
	uint64_t	 last_us;		/* mu: the last id's time */
	unsigned	 counter;		/* mu: per-spool id counter */
};

/* "DIR/sub/name" (sub NULL or "." for DIR itself), for messages. */
void	dx_spool_where(const struct dx_spool *, const char *sub, const char *name,
	    char *buf, size_t size);
/* The descriptor of sub after checking name (dx_spool_name_ok()); -1 + err. */
int	dx_spool_subfd(const struct dx_spool *, const char *sub, const char *name,
	    struct dx_err *);
/* Why a spool file's fstat is refused (into why), or 0; max 0: no limit. */
int	dx_spool_file_ok(const struct stat *, size_t max, char *why, size_t size);
/*
 * Opens sub/name with flags (O_RDONLY, or O_RDWR|O_APPEND) without
 * following a symlink or blocking on a FIFO, and checks the descriptor
 * (dx_spool_file_ok()): the fd, or -1 with errno and err.
 */
int	dx_spool_open_safe(struct dx_spool *, const char *sub, const char *name,
	    int flags, size_t max, struct stat *, struct dx_err *);
/* write(2) until done; -1 with errno. */
int	dx_spool_write_all(int fd, const void *buf, size_t len);

#endif
