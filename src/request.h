/*
 * request.h - a serve request, the JSON document a client writes into the
 * spool's requested/ (SPEC section 7; man/dronex.1 documents it for
 * writers in any language):
 *
 *   {"dronex_request": 1,
 *    "selection": {"drones": ["web-[01-05]"], "exclude": ["web-03"],
 *                  "labels": ["prod"], "shard": "2/4"},
 *    "calls": ["uptime", {"base64": "..."}],
 *    "options": {"timeout": 5, "connect_timeout": 10, "deadline": 60,
 *                "retries": 2, "retry_delay": 1, "max_failures": 3,
 *                "fail_fast": true, "max_output": 1048576,
 *                "host_key_check": "strict", "user": "deploy", "port": 22,
 *                "stdin_base64": "..."},
 *    "priority": 0}
 *
 * Everything but "dronex_request" is optional: no selection means every
 * drone, no calls a reachability check, an absent option serve's default
 * (serve's own command-line options).  Seconds are JSON numbers (may be
 * fractional; > 0, retry_delay >= 0), counts and bytes whole numbers.  A
 * call that is not valid UTF-8 is {"base64": "..."}; a call may not hold a
 * NUL byte.  Unknown keys, wrong types, out-of-range values and a version
 * other than 1 are refused, and the message names the request and the
 * field: "request ID: field 'options.timeout': expected a number".
 *
 * Ownership: a parsed request owns every string and array in it;
 * dx_request_release() frees them (a no-op on a released, zeroed or failed
 * request).  dx_request_dump() returns a new string the caller frees.
 */
#ifndef DX_REQUEST_H
#define DX_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dronex.h"

#define DX_REQUEST_VERSION	1
/* Bounds shared with exec's command line. */
#define DX_REQUEST_MAX_SETS	256	/* drones, exclude: each */
#define DX_REQUEST_MAX_LABELS	64
#define DX_REQUEST_MAX_CALLS	4096
#define DX_REQUEST_MAX_STDIN	((size_t)64 << 20)

struct dx_request_opts {
	bool		 timeout_given;
	int64_t		 timeout_ms;		/* per call, > 0 */
	bool		 connect_timeout_given;
	int64_t		 connect_timeout_ms;	/* > 0 */
	bool		 deadline_given;
	int64_t		 deadline_ms;		/* the whole request, > 0 */
	bool		 retries_given;
	int		 retries;		/* 0..100 */
	bool		 retry_delay_given;
	int64_t		 retry_delay_ms;	/* >= 0 */
	bool		 max_failures_given;
	size_t		 max_failures;		/* >= 1 */
	bool		 fail_fast_given;
	bool		 fail_fast;
	bool		 max_output_given;
	size_t		 max_output;		/* bytes per stream per call, <= 1 TiB */
	bool		 host_key_check_given;
	enum dx_hostkey_policy host_key_check;
	char		*user;			/* NULL: not given */
	bool		 port_given;
	int		 port;			/* 1..65535 */
	bool		 stdin_given;
	unsigned char	*stdin_data;		/* stdin_len bytes (decoded), owned */
	size_t		 stdin_len;
};

struct dx_request {
	int		 priority;		/* higher first; default 0 */
	char	       **drones;		/* -w sets, as given */
	size_t		 ndrones;
	char	       **exclude;		/* -x sets */
	size_t		 nexclude;
	char	       **labels;		/* -g labels: all of them */
	size_t		 nlabels;
	char		*shard;			/* "K/N", or NULL */
	unsigned	 shard_k, shard_n;	/* shard_n 0: no shard */
	char	       **calls;			/* NUL-terminated; may be non-UTF-8 */
	size_t		 ncalls;
	struct dx_request_opts opts;
};

/* Zeroes r (priority 0, nothing given). */
void	 dx_request_init(struct dx_request *);
/*
 * Parses json (len bytes, need not be NUL-terminated) into r, which it
 * initialises.  where prefixes every message ("request ID"; NULL:
 * "request").  0, or -1 with err set (DX_USAGE for a refused document,
 * DX_INTERNAL for out of memory) and r released.
 */
int	 dx_request_parse(struct dx_request *, const char *json, size_t len,
	    const char *where, struct dx_err *);
/*
 * The request as JSON text (compact, keys sorted, one line, no trailing
 * newline): only the fields given; parsing it gives back the same request.
 * NULL with err set when out of memory or when r holds a value parse
 * would refuse (DX_USAGE, naming the field).
 */
char	*dx_request_dump(const struct dx_request *, struct dx_err *);
void	 dx_request_release(struct dx_request *);

#endif
