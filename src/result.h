/*
 * result.h - drone results as JSON (SPEC section 4).  The other half of
 * result.c, a result's memory (dx_result_release(), dx_result_add_call()),
 * is public and declared in dronex.h.
 *
 * Every json_t returned is a new reference the caller owns (json_decref);
 * NULL means out of memory.  Output bytes that are valid UTF-8 become a
 * JSON string under KEY; anything else becomes base64 under KEY_base64, so
 * nothing is dropped and nothing is mangled.  dx_err_json() and
 * dx_result_json() are public: dronex.h declares them.
 */
#ifndef DX_RESULT_H
#define DX_RESULT_H

#include <jansson.h>

#include "base64.h"
#include "dronex.h"
#include "utf8.h"

/* Sets obj[key] (UTF-8) or obj[key + "_base64"]; 0 or -1 (out of memory). */
int	 dx_json_set_bytes(json_t *obj, const char *key, const char *data, size_t len);
/*
 * A string from a server, a user or a file as a JSON string: null for
 * NULL, a copy with invalid bytes made '?' (dx_utf8_scrub) if it is not
 * UTF-8.  NULL only when out of memory.
 */
json_t	*dx_json_text(const char *s);
/*
 * The small object that stands for a drone whose result could not be
 * encoded: where it connected, its status and attempts, no calls, and an
 * error of kind "internal" that says so.  dx_result_json() (public, in
 * dronex.h) returns it when the full object cannot be built.
 */
json_t	*dx_result_json_fallback(const char *host, int port, const char *user,
	    const struct dx_result *);
/* "2026-11-23T10:00:00.123Z" for a CLOCK_REALTIME time in ms. */
void	 dx_iso8601_ms(int64_t ms, char buf[80]);

#endif
