/*
 * inventory_int.h - what inventory.c (the document) and inventory_check.c
 * (one value at a time) share.  Not installed, not for other modules.
 *
 * Every checker takes the JSON path of its value (for the position of an
 * error), checks the value, and stores it in *out (a string the inventory
 * then owns, replacing any earlier one); it returns 0, or -1 with the error
 * set through dx_inv_fail().
 */
#ifndef DX_INVENTORY_INT_H
#define DX_INVENTORY_INT_H

#include <limits.h>
#include <stdbool.h>

#include <jansson.h>

#include "inventory.h"
#include "jsonpos.h"

/* poll(2) takes an int of milliseconds. */
#define INV_MAX_TIMEOUT_S	(INT_MAX / 1000)

/* What a parse is working on, for messages. */
struct dx_inv_ctx {
	const char	*text;
	size_t		 len;
	const char	*file;
	struct dx_err	*err;
	char		 who[96];	/* "drone 'x'", "drones[3]", "defaults" or "" */
};

/*
 * Fails with "FILE:LINE:COL: WHO: field 'FIELD': what", positioned at the
 * value at path (or its key).  field may be NULL.  Returns -1.
 */
int	dx_inv_fail(struct dx_inv_ctx *, const struct dx_jsonpos_step *path,
	    size_t np, bool at_key, const char *field, const char *fmt, ...)
	    __attribute__((format(printf, 6, 7)));

/* Why a drone name cannot be used, or NULL if it can. */
const char *dx_inv_bad_name(const char *name);
/* jansson's wording, in plain words where it names jansson's internals. */
const char *dx_inv_plain(const char *text, char *buf, size_t size);

int	dx_inv_string(struct dx_inv_ctx *, const struct dx_jsonpos_step *,
	    size_t np, const char *field, json_t *v, const char **out);
int	dx_inv_dup(struct dx_inv_ctx *, const char *s, char **out);
/* host, user and jump: a string that OpenSSH would accept as a host. */
int	dx_inv_host(struct dx_inv_ctx *, const struct dx_jsonpos_step *,
	    size_t np, const char *field, json_t *v, char **out);
/* identity, known_hosts: a non-empty string, "~" expanded. */
int	dx_inv_path(struct dx_inv_ctx *, const struct dx_jsonpos_step *,
	    size_t np, const char *field, json_t *v, char **out);
int	dx_inv_port(struct dx_inv_ctx *, const struct dx_jsonpos_step *,
	    size_t np, json_t *v, int *out);
/* connect_timeout: seconds, rounded up to whole milliseconds. */
int	dx_inv_timeout(struct dx_inv_ctx *, const struct dx_jsonpos_step *,
	    size_t np, json_t *v, int64_t *out);
/* labels and calls: an array of non-empty strings (path has room for one more step). */
int	dx_inv_strings(struct dx_inv_ctx *, struct dx_jsonpos_step *path,
	    size_t np, const char *field, json_t *v, char ***out, size_t *nout);
/* vars: any JSON object, kept as it is and never interpreted. */
int	dx_inv_vars(struct dx_inv_ctx *, const struct dx_jsonpos_step *,
	    size_t np, json_t *v);

#endif
