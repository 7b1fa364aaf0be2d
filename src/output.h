/*
 * output.h - what dronex prints: for exec, --format json (one document at
 * the end), jsonl (a line per drone as it finishes, then a summary line)
 * or text (identical outputs gathered, failures last), and the progress
 * line on stderr; for list, the selected drones with their effective
 * settings, or one drone's settings with their sources (--explain).
 * Everything goes to a stream the caller gives (only the CLI picks stdout).
 *
 * dx_out_drone() is called from the queue's done callback and copies what
 * it needs; in jsonl mode it prints at once and keeps nothing, so memory
 * stays bounded by the fan-out.
 *
 * The progress line (opts.progress) is redrawn after each drone and erased
 * ("\r" and erase-line) before the results are written, so no stale
 * progress text stays on the terminal; dx_out_progress_stop() erases it
 * at once and for good (an interrupt).
 */
#ifndef DX_OUTPUT_H
#define DX_OUTPUT_H

#include <stdio.h>

#include "dronex.h"
#include "inventory.h"
#include "target.h"

enum dx_format {
	DX_FMT_JSON = 0,
	DX_FMT_JSONL,
	DX_FMT_TEXT
};

struct dx_out_opts {
	enum dx_format	 format;
	bool		 pretty;
	FILE		*progress;	/* a live line there (a terminal), or NULL */
	const char	*host_key_check; /* "strict", "accept-new", "off" */
	int64_t		 started_ms;	/* CLOCK_REALTIME ms */
	size_t		 ndrones;
	const char	*shard;		/* "K/N" when the run is a shard, else NULL */
	const char	*run;		/* the run digest of a shard, else NULL */
	FILE		*stream;	/* where results go (required) */
	/*
	 * text: own_calls[index] is how many of drone index's calls are its
	 * inventory's own, run before the command line's; their output is
	 * not gathered.  NULL: every call's output is (a run with no
	 * command-line calls).  Borrowed for the writer's life.
	 */
	const size_t	*own_calls;
	bool		 color;		/* text: bold headers, red failures */
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
/*
 * Erases the progress line and draws it no more.  The one function that
 * another thread may call while the writer is fed (the CLI's signal
 * thread): a redraw racing it is erased again before the results.
 */
void		 dx_out_progress_stop(struct dx_out *);
/*
 * Writes s to f with every control character, terminal escape and byte
 * that is not UTF-8 escaped, as --format text shows them ("\x1b", "\r").
 */
void		 dx_out_put_escaped(FILE *f, const char *s);
/*
 * The consolidated error on stderr (SPEC section 5), escaped: with quiet
 * the one line "dronex: ERROR", else one line per drone that is not ok,
 * "dronex: drone NAME failed: KIND: MESSAGE" ("skipped" for skipped ones).
 * exec, merge and wait print it the same way through this.
 */
void		 dx_out_error_line(FILE *f, const char *error);
void		 dx_out_failure_line(FILE *f, const char *name,
		    enum dx_status, enum dx_kind, const char *msg);
/* Prints the document (json, text) or the summary line (jsonl); as above. */
int		 dx_out_finish(struct dx_out *, const struct dx_summary *,
		    const char *error, int64_t elapsed_ms, struct dx_err *);

/*
 * `dronex list`: one JSON array, an object per drone (name, host, port,
 * user, identity, known_hosts, priority, labels, calls, jump,
 * connect_timeout, vars, and shard when shard is not NULL), the
 * connection values being the effective ones of targets[i] for
 * inv->drones[idx[i]]; then a newline, flushed.  0, or -1 with err set:
 * DX_OUTPUT when the stream could not be written (the system's error
 * text; exit status 3), DX_INTERNAL when out of memory.
 */
int		 dx_out_list(FILE *, const struct dx_inventory *inv,
		    const size_t *idx, const struct dx_target *targets, size_t n,
		    const char *shard, bool pretty, struct dx_err *);
/*
 * `dronex list --explain NAME`: one JSON array, an object per setting of
 * t in DX_SETTING_MAP order: {"setting", "value", "source", "where"}
 * (where is null for a built-in default).  Returns as dx_out_list().
 */
int		 dx_out_explain(FILE *, const struct dx_target *t, bool pretty,
		    struct dx_err *);

#endif
