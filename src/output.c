/*
 * output.c - printing results for people and programs (SPEC section 4).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "result.h"

struct out_text {			/* one drone, for --format text */
	char		*name;
	char		*body;		/* what the drone printed, or NULL */
	enum dx_status	 status;
	struct dx_err	 error;
};

struct dx_out {
	struct dx_out_opts opts;
	json_t		*drones;	/* json: index -> object (array slots) */
	char	       **names;		/* json: index -> name */
	struct out_text	*text;		/* text: index -> record */
	size_t		 done, failed;
};

struct dx_out *
dx_out_new(const struct dx_out_opts *opts, struct dx_err *err)
{
	struct dx_out *o;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		goto oom;
	o->opts = *opts;
	if (opts->format == DX_FMT_JSON) {
		if ((o->drones = json_array()) == NULL ||
		    (o->names = calloc(opts->ndrones + 1, sizeof(char *))) == NULL)
			goto oom;
		for (size_t i = 0; i < opts->ndrones; i++)
			if (json_array_append_new(o->drones, json_null()) == -1)
				goto oom;
	} else if (opts->format == DX_FMT_TEXT) {
		if ((o->text = calloc(opts->ndrones + 1, sizeof(*o->text))) == NULL)
			goto oom;
	}
	return o;
oom:
	dx_out_free(o);
	dx_err_set(err, DX_INTERNAL, "out of memory");
	return NULL;
}

void
dx_out_free(struct dx_out *o)
{
	if (o == NULL)
		return;
	json_decref(o->drones);
	if (o->names != NULL)
		for (size_t i = 0; i < o->opts.ndrones; i++)
			free(o->names[i]);
	free(o->names);
	if (o->text != NULL)
		for (size_t i = 0; i < o->opts.ndrones; i++) {
			free(o->text[i].name);
			free(o->text[i].body);
		}
	free(o->text);
	free(o);
}

static size_t
out_flags(const struct dx_out *o)
{
	return o->opts.pretty ? JSON_INDENT(2) : JSON_COMPACT;
}

static void
out_progress(struct dx_out *o, bool last)
{
	if (!o->opts.progress)
		return;
	fprintf(stderr, "\rdronex: %zu/%zu drones done, %zu not ok%s",
	    o->done, o->opts.ndrones, o->failed, last ? "\n" : "");
	fflush(stderr);
}

/* What a drone printed, for --format text: stdout then stderr per call. */
static char *
out_text_body(const struct dx_result *res)
{
	char *body = NULL;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&body, &len)) == NULL)
		return NULL;
	for (size_t i = 0; i < res->ncalls; i++) {
		const struct dx_call_result *c = &res->calls[i];
		const struct dx_buf *b[2] = { &c->out, &c->err };

		for (int k = 0; k < 2; k++) {
			if (b[k]->len == 0)
				continue;
			if (dx_utf8_valid(b[k]->data, b[k]->len))
				fwrite(b[k]->data, 1, b[k]->len, f);
			else
				fprintf(f, "[%zu bytes of binary %s]\n", b[k]->len,
				    k ? "stderr" : "stdout");
			if (b[k]->data[b[k]->len - 1] != '\n')
				fputc('\n', f);
			if (b[k]->truncated)
				fprintf(f, "[%s truncated]\n", k ? "stderr" : "stdout");
		}
	}
	if (fclose(f) != 0) {
		free(body);
		return NULL;
	}
	return body;
}

int
dx_out_drone(struct dx_out *o, size_t index, const char *name,
    const char *host, int port, const char *user, const struct dx_result *res,
    struct dx_err *err)
{
	json_t *obj, *line;
	int rc = 0;

	o->done++;
	if (res->status != DX_ST_OK)
		o->failed++;
	switch (o->opts.format) {
	case DX_FMT_JSON:
		if ((obj = dx_result_json(host, port, res)) == NULL ||
		    json_array_set_new(o->drones, index, obj) == -1 ||
		    (o->names[index] = strdup(name)) == NULL)
			rc = -1;
		break;
	case DX_FMT_JSONL:
		if ((obj = dx_result_json(host, port, res)) == NULL ||
		    (line = json_pack("{s:s}", "name", name)) == NULL) {
			json_decref(obj);
			rc = -1;
			break;
		}
		json_object_update(line, obj);
		json_decref(obj);
		/* One line per drone, whatever --pretty says: it is a stream. */
		if (json_dumpf(line, stdout, JSON_COMPACT) == -1)
			rc = -1;
		json_decref(line);
		fputc('\n', stdout);
		fflush(stdout);
		break;
	case DX_FMT_TEXT:
		o->text[index].status = res->status;
		o->text[index].error = res->error;
		if ((o->text[index].name = strdup(name)) == NULL ||
		    (o->text[index].body = out_text_body(res)) == NULL)
			rc = -1;
		break;
	}
	out_progress(o, false);
	(void)user;
	if (rc == -1)
		dx_err_set(err, DX_INTERNAL, "out of memory");
	return rc;
}

static int
out_finish_text(struct dx_out *o, const struct dx_summary *sum)
{
	size_t n = o->opts.ndrones;
	bool *shown;

	if ((shown = calloc(n + 1, sizeof(bool))) == NULL)
		return -1;
	/*
	 * Drones whose output is identical share one header, as clubak and
	 * dshbak print them; groups appear in the order of their first drone.
	 */
	for (size_t i = 0; i < n; i++) {
		const char *body = o->text[i].body;
		size_t count = 0;

		if (shown[i] || body == NULL || body[0] == '\0')
			continue;
		printf("---------------- ");
		for (size_t j = i; j < n; j++)
			if (!shown[j] && o->text[j].body != NULL &&
			    strcmp(o->text[j].body, body) == 0) {
				printf("%s%s", count ? "," : "", o->text[j].name);
				shown[j] = true;
				count++;
			}
		printf(" (%zu)\n%s", count, body);
	}
	free(shown);
	printf("---------------- %zu drones: %zu ok, %zu failed, %zu skipped\n",
	    sum->drones, sum->ok, sum->failed, sum->skipped);
	for (size_t i = 0; i < n; i++)
		if (o->text[i].name != NULL && o->text[i].status != DX_ST_OK)
			printf("%s %s: %s: %s\n", o->text[i].name,
			    dx_status_name(o->text[i].status),
			    dx_kind_name(o->text[i].error.kind), o->text[i].error.msg);
	return 0;
}

int
dx_out_finish(struct dx_out *o, const struct dx_summary *sum,
    const char *error, int64_t elapsed_ms, struct dx_err *err)
{
	char started[80];
	json_t *doc, *drones;
	int rc = -1;

	out_progress(o, true);
	if (o->opts.format == DX_FMT_TEXT)
		return out_finish_text(o, sum);
	dx_iso8601_ms(o->opts.started_ms, started);
	doc = json_pack("{s:i, s:s, s:I, s:s, s:{s:I, s:I, s:I, s:I}}",
	    "dronex", 1, "started", started, "elapsed_ms", (json_int_t)elapsed_ms,
	    "host_key_check", o->opts.host_key_check,
	    "summary", "drones", (json_int_t)sum->drones, "ok", (json_int_t)sum->ok,
	    "failed", (json_int_t)sum->failed, "skipped", (json_int_t)sum->skipped);
	if (doc == NULL)
		return -1;
	if (o->opts.format == DX_FMT_JSON) {
		if ((drones = json_object()) == NULL ||
		    json_object_set_new(doc, "drones", drones) == -1)
			goto out;
		for (size_t i = 0; i < o->opts.ndrones; i++)
			if (o->names[i] != NULL &&
			    json_object_set(drones, o->names[i],
			    json_array_get(o->drones, i)) == -1)
				goto out;
	}
	if (json_object_set_new(doc, "error",
	    error ? json_string(error) : json_null()) == -1)
		goto out;
	if (json_dumpf(doc, stdout, o->opts.format == DX_FMT_JSONL ?
	    JSON_COMPACT : out_flags(o)) == -1)
		goto out;
	fputc('\n', stdout);
	rc = fflush(stdout) == 0 ? 0 : -1;
out:
	json_decref(doc);
	if (rc == -1)
		dx_err_set(err, DX_INTERNAL, "out of memory or stdout closed");
	return rc;
}
