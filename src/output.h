/*
 * output.h - what dronex exec prints on stdout: --format json (one
 * document at the end), jsonl (a line per drone as it finishes, then a
 * summary line) or text (identical outputs gathered, failures last), and
 * the progress line on stderr.
 *
 * dx_out_drone() is called from the queue's done callback and copies what
 * it needs; in jsonl mode it prints at once and keeps nothing, so memory
 * stays bounded by the fan-out.
 */
#ifndef DX_OUTPUT_H
#define DX_OUTPUT_H

#include <stdio.h>

#include "dronex.h"

enum dx_format {
	DX_FMT_JSON = 0,
	DX_FMT_JSONL,
	DX_FMT_TEXT
};

struct dx_out_opts {
	enum dx_format	 format;
	bool		 pretty;
	bool		 progress;	/* a live line on stderr */
	const char	*host_key_check; /* "strict", "accept-new", "off" */
	int64_t		 started_ms;	/* CLOCK_REALTIME ms */
	size_t		 ndrones;
	const char	*shard;		/* "K/N" when the run is a shard, else NULL */
	FILE		*stream;	/* where results go; NULL: stdout */
};

struct dx_out;

struct dx_out	*dx_out_new(const struct dx_out_opts *, struct dx_err *);
void		 dx_out_free(struct dx_out *);
/*
 * Records (json, text) or prints (jsonl) one finished drone; host, port and
 * user say where it connected.  0, or -1 with err set: DX_OUTPUT when the
 * results could not be written (the message carries the system's error
 * text; exit status 3), DX_INTERNAL when out of memory.
 */
int		 dx_out_drone(struct dx_out *, size_t index, const char *name,
		    const char *host, int port, const char *user,
		    const struct dx_result *, struct dx_err *);
/* Prints the document (json, text) or the summary line (jsonl); as above. */
int		 dx_out_finish(struct dx_out *, const struct dx_summary *,
		    const char *error, int64_t elapsed_ms, struct dx_err *);

#endif
