/*
 * cli_spool_int.h - what the serve clients' files share: cli_spool.c
 * (submit, wait, abort and the common parts), cli_spool_out.c (printing a
 * result as exec would), cli_spool_ctl.c (status and the control
 * commands).  CLI code: these print and choose exit statuses.
 */
#ifndef DX_CLI_SPOOL_INT_H
#define DX_CLI_SPOOL_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "output.h"
#include "spool.h"

#define SPOOL_EXIT_TIMEOUT	4	/* wait timed out; the request was aborted */
#define SPOOL_ABORT_GRACE_MS	5000	/* wait: for the aborted result */
#define SPOOL_REPLY_MS		10000	/* control: for serve's reply */
#define SPOOL_RESULT_MAX	((size_t)2 << 30)
#define SPOOL_STATUS_MAX	((size_t)16 << 20)
#define SPOOL_NAMES_MAX		((size_t)16 << 20)	/* a ^FILE */

#define CLI_SPOOL_MAXARGS	64

/* Waiting for a name in a spool directory without spinning. */
struct cli_spool_watch {
	int		 fd;		/* inotify, or -1: look every 250 ms */
};

/* The options of the small commands: --spool and those the mask allows. */
enum {
	SO_TIMEOUT = 1 << 0, SO_FORMAT = 1 << 1, SO_PRETTY = 1 << 2, SO_QUIET = 1 << 3
};

struct cli_spool_opts {
	const char	*spool;
	int64_t		 timeout_ms;	/* 0: none */
	const char	*format;
	bool		 pretty, quiet;
	int		 nargs;
	char	       **args;		/* the operands, in av */
	char		*av[CLI_SPOOL_MAXARGS];	/* argv, negative numbers last */
};

/* The spool directory: --spool, else $DRONEX_SPOOL; NULL (printed). */
const char	*cli_spool_dir(const char *given);
/* dx_spool_open(), the failure printed; NULL. */
struct dx_spool	*cli_spool_open(const char *dir, bool create);
/* Watches sub with inotify (w->fd -1 when it cannot: then every 250 ms). */
void	 cli_spool_watch_start(struct cli_spool_watch *, struct dx_spool *,
	    const char *sub);
void	 cli_spool_watch_stop(struct cli_spool_watch *);
/* Sleeps until the directory changes or deadline (monotonic ms; 0: none). */
void	 cli_spool_watch_sleep(struct cli_spool_watch *, int64_t deadline);
/*
 * Parses argv (argv[0] the command) with exactly nargs operands; 0, 1
 * after --help, -1 (printed).
 */
int	 cli_spool_parse(int argc, char **argv, unsigned allowed, int nargs,
	    const char *usage, struct cli_spool_opts *);
/* 0 if id can be a request id, else -1 (printed). */
int	 cli_spool_check_id(const char *id);
/* Where request id is now ("requested" ... "complete"), or NULL. */
const char *cli_spool_locate(struct dx_spool *, const char *id);
/* v and a newline; -1 on a write error or out of memory. */
int	 cli_spool_put(FILE *, json_t *v, size_t flags);
/* Prints result document buf as exec would have; returns exec's exit status. */
int	 cli_spool_print_result(const char *id, const char *buf, size_t len,
	    enum dx_format, bool pretty, bool quiet);
int	 cli_spool_status(int argc, char **argv);
int	 cli_spool_control(int argc, char **argv);

#endif
