/*
 * output_int.h - what output.c shares with output_text.c: the writer's
 * state and its write helpers, which remember the first failure (see
 * output.c), and the text format's own record of the drones.
 *
 * Nothing here is for callers outside output*.c.
 */
#ifndef DX_OUTPUT_INT_H
#define DX_OUTPUT_INT_H

#include <stdatomic.h>

#include "output.h"

struct dx_out_text;			/* output_text.c */

struct dx_out {
	struct dx_out_opts opts;
	FILE		*f;		/* opts.stream */
	json_t		*drones;	/* json: index -> object (array slots) */
	char	       **names;		/* json: index -> name */
	struct dx_out_text *text;	/* text: the gathered drones */
	size_t		 done, failed;
	bool		 progress_shown; /* a progress line is on the terminal */
	atomic_bool	 progress_stopped; /* dx_out_progress_stop() was called */
	bool		 wfail;		/* a write failed ... */
	int		 werrno;	/* ... with this errno */
};

/* Write helpers: no-ops once a write failed; the failure is remembered. */
void	dx_out_write(struct dx_out *, const void *, size_t);
void	dx_out_printf(struct dx_out *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	dx_out_flush(struct dx_out *);
/* Sets err for a failure of the output: DX_OUTPUT for a write, else OOM. */
int	dx_out_fail(const struct dx_out *, struct dx_err *);

/*
 * The text format (output_text.c).  dx_out_text_new() returns NULL when
 * out of memory; dx_out_text_drone() keeps a copy of what it needs of one
 * drone (0, or -1 when out of memory); dx_out_text_finish() writes the
 * gathered outputs, the failures and the summary line (0, or -1 with err
 * set as dx_out_fail() sets it).
 */
struct dx_out_text *dx_out_text_new(size_t ndrones);
void	dx_out_text_free(struct dx_out_text *);
int	dx_out_text_drone(struct dx_out *, size_t index, const char *name,
	    const struct dx_result *);
int	dx_out_text_finish(struct dx_out *, const struct dx_summary *,
	    int64_t elapsed_ms, struct dx_err *);

#endif
