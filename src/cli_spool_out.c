/*
 * cli_spool_out.c - how "dronex wait" prints a result: exactly as exec
 * would have printed it (json, jsonl), with exec's lines on stderr and
 * exec's exit status (cli_spool.c waits for it).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "cli_int.h"
#include "dronex.h"
#include "spool.h"
#include "cli_spool_int.h"

/*
 * Results: printed as exec prints its own (cli_exec.c, output.c), exit
 * status as exec's.
 */
int
cli_spool_put(FILE *f, json_t *v, size_t flags)
{
	if (json_dumpf(v, f, flags) == -1 || fputc('\n', f) == EOF)
		return -1;
	return 0;
}

int
cli_spool_print_result(const char *id, const char *buf, size_t len,
    enum dx_format fmt, bool pretty, bool quiet)
{
	json_t *doc, *drones, *d, *v;
	json_error_t jerr;
	const char *name, *error;
	size_t flags = pretty ? JSON_INDENT(2) : JSON_COMPACT;
	int rc = DX_EXIT_FAILED;

	if ((doc = json_loadb(buf, len, JSON_ALLOW_NUL, &jerr)) == NULL ||
	    !json_is_object(doc)) {
		cli_fail("the result of request %s is not a JSON document: %s", id,
		    doc == NULL ? jerr.text : "not an object");
		json_decref(doc);
		return DX_EXIT_FAILED;
	}
	drones = json_object_get(doc, "drones");
	error = json_string_value(json_object_get(doc, "error"));
	errno = 0;
	if (fmt == DX_FMT_JSONL) {
		json_t *line, *sum = json_deep_copy(doc);
		int bad = sum == NULL;

		json_object_foreach(drones, name, d) {
			if (bad || (line = json_object()) == NULL) {
				bad = 1;
				break;
			}
			bad = json_object_set_new(line, "type", json_string("drone")) ||
			    json_object_set_new(line, "name", json_string(name)) ||
			    json_object_update(line, d) ||
			    cli_spool_put(stdout, line, JSON_COMPACT);
			json_decref(line);
		}
		if (!bad && (line = json_object()) != NULL) {
			json_object_del(sum, "drones");
			bad = json_object_set_new(line, "type", json_string("summary")) ||
			    json_object_update(line, sum) ||
			    cli_spool_put(stdout, line, JSON_COMPACT);
			json_decref(line);
		}
		json_decref(sum);
		if (bad && !ferror(stdout))
			cli_fail("out of memory printing the result");
	} else if (cli_spool_put(stdout, doc, flags) == -1 && !ferror(stdout))
		cli_fail("out of memory printing the result");
	if (fflush(stdout) == EOF || ferror(stdout)) {
		cli_fail("cannot write the results: %s", strerror(errno ? errno : EIO));
		json_decref(doc);
		return DX_EXIT_OUTPUT;
	}
	if (json_is_true(json_object_get(doc, "refused"))) {
		cli_fail("%s", error != NULL ? error : "the request was refused");
		json_decref(doc);
		return DX_EXIT_USAGE;
	}
	if (error != NULL && quiet)
		cli_fail("%s", error);
	else if (error != NULL)
		json_object_foreach(drones, name, d) {
			const char *st = json_string_value(json_object_get(d, "status"));
			json_t *e = json_object_get(d, "error");

			if (st == NULL || strcmp(st, "ok") == 0)
				continue;
			fprintf(stderr, "dronex: drone %s %s: %s: %s\n", name, st,
			    json_string_value(json_object_get(e, "kind")) ?: "internal",
			    json_string_value(json_object_get(e, "message")) ?: "");
		}
	v = json_object_get(doc, "summary");
	if (json_integer_value(json_object_get(v, "failed")) == 0 &&
	    json_integer_value(json_object_get(v, "skipped")) == 0 &&
	    json_is_object(v))
		rc = DX_EXIT_OK;
	json_decref(doc);
	return rc;
}

