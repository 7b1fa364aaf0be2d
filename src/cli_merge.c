/*
 * cli_merge.c - "dronex merge FILE...": the results of the shards of one
 * run (each written by "dronex exec --shard K/N", as --format json or
 * jsonl) joined into the one document a single run would have printed,
 * with one summary, one consolidated error (queue_error.h words it as exec
 * does), the failure lines on stderr, and exec's exit status.
 *
 * Theory of operation.  Each file is read whole and parsed: a JSON
 * document, or else a jsonl stream (a line per drone, then the summary
 * line).  Both become the same in-memory shape: the top-level fields (the
 * "head") and an object from drone name to result.  Every file is checked
 * to be a dronex result before anything is joined; then the files are
 * checked against each other: all shards or none, the same N, the same
 * "run" digest (cli.c: the selection before the shard and the calls), no
 * K twice, no K missing, and no drone twice.  Any of these is exit 2 with
 * the files named, and nothing is printed on stdout.  Unsharded documents
 * of disjoint drones may be joined too (a fleet run piece by piece); the
 * same drone twice is refused there as well.
 *
 * The merged document: "dronex": 1, "started" the earliest start,
 * "elapsed_ms" from it to the latest end, "host_key_check" the least
 * strict of the inputs' (a merged result never hides an "off"), "run"
 * when the inputs are shards, "summary" counted from the drones, "drones"
 * in natural name order (n2 before n10, whatever the order of the files),
 * and "error".
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "cli_int.h"
#include "dronex.h"
#include "queue_error.h"

/* The shards a missing-shard message lists before "and K more". */
#define MERGE_LIST_MISSING	8

/* One input file, parsed. */
struct merge_in {
	const char	*path;
	json_t		*head;		/* top-level fields but "drones" (owned) */
	json_t		*drones;	/* name -> result object (owned) */
	unsigned	 k, n;		/* "shard": "K/N", or 0/0 */
	const char	*run;		/* "run", borrowed from head, or NULL */
	int64_t		 start_ms, end_ms;
};

/* One drone of the merged run. */
struct merge_drone {
	const char	*name;		/* borrowed from its file's drones */
	json_t		*obj;		/* borrowed */
	size_t		 file;
	enum dx_status	 status;
	enum dx_kind	 kind;
	const char	*msg;		/* error.message, or "" */
};

static const char merge_usage[] =
"usage: dronex merge [--pretty] [-q] FILE...\n"
"Joins the results of the shards of one run (dronex exec --shard K/N,\n"
"--format json or jsonl; - reads stdin) into one document on stdout.\n";

/* The whole of path ("-": stdin) as a NUL-terminated string; NULL (printed). */
static char *
merge_read(const char *path, size_t *lenp)
{
	const char *name = strcmp(path, "-") == 0 ? "standard input" : path;
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0;
	struct stat st;
	ssize_t r;
	int fd;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		cli_fail("cannot read '%s': %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		cli_fail("cannot read '%s': it is a directory", path);
		goto fail;
	}
	for (;;) {
		if (cap - len < 2) {
			cap = cap ? cap * 2 : 65536;
			if ((nb = realloc(buf, cap)) == NULL) {
				cli_fail("out of memory reading %s", name);
				goto fail;
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			cli_fail("cannot read %s: %s", name, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	if (fd != STDIN_FILENO)
		close(fd);
	*lenp = len;
	return buf;
fail:
	if (fd != STDIN_FILENO)
		close(fd);
	free(buf);
	return NULL;
}

/* "2026-11-23T10:00:00.123Z" to ms since the epoch; -1 if it is not one. */
static int64_t
merge_time(const json_t *v)
{
	struct tm tm;
	int ms = 0, n = 0;
	const char *s;

	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &n) != 7 ||
	    s[n] != '\0')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

/* "K/N" with 1 <= K <= N; 0 or -1. */
static int
merge_shard(const char *s, unsigned *k, unsigned *n)
{
	unsigned long kk, nn;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	kk = strtoul(s, &end, 10);
	if (*end != '/' || !isdigit((unsigned char)end[1]))
		return -1;
	nn = strtoul(end + 1, &end, 10);
	if (*end != '\0' || kk < 1 || kk > nn || nn > 100000)
		return -1;
	*k = (unsigned)kk;
	*n = (unsigned)nn;
	return 0;
}

/*
 * A jsonl stream: "drone" lines then one "summary" line.  Fills in->head
 * and in->drones; 0, or -1 (printed).  first is the error of parsing the
 * whole text as one document, reported when the text is not jsonl either.
 */
static int
merge_parse_jsonl(struct merge_in *in, char *text, const json_error_t *first)
{
	char *line = text, *nl;
	size_t lineno = 0;
	json_error_t je;
	json_t *v = NULL, *name, *type;
	const char *t;

	if ((in->drones = json_object()) == NULL)
		goto oom;
	for (; *line != '\0'; line = nl) {
		lineno++;
		if ((nl = strchr(line, '\n')) != NULL)
			*nl++ = '\0';
		else
			nl = line + strlen(line);
		if (line[strspn(line, " \t\r")] == '\0')
			continue;
		if (in->head != NULL) {
			cli_fail("'%s' line %zu: a line after the summary line: not a "
			    "dronex result", in->path, lineno);
			return -1;
		}
		v = json_loads(line, JSON_REJECT_DUPLICATES, &je);
		type = json_object_get(v, "type");
		t = json_is_string(type) ? json_string_value(type) : NULL;
		if (v == NULL || t == NULL) {
			json_decref(v);
			/* Not jsonl from its first line: say why the document failed. */
			if (lineno == 1 || json_object_size(in->drones) == 0)
				cli_fail("'%s' is not JSON: line %d column %d: %s",
				    in->path, first->line, first->column, first->text);
			else if (v == NULL)
				cli_fail("'%s' line %zu is not JSON: column %d: %s",
				    in->path, lineno, je.column, je.text);
			else
				cli_fail("'%s' line %zu has no \"type\": not a dronex "
				    "result", in->path, lineno);
			return -1;
		}
		if (strcmp(t, "summary") == 0) {
			json_object_del(v, "type");
			in->head = v;
			v = NULL;
			continue;
		}
		name = json_object_get(v, "name");
		if (strcmp(t, "drone") != 0 || !json_is_string(name)) {
			cli_fail("'%s' line %zu is neither a drone with a name nor the "
			    "summary: not a dronex result", in->path, lineno);
			json_decref(v);
			return -1;
		}
		if (json_object_get(in->drones, json_string_value(name)) != NULL) {
			cli_fail("'%s' line %zu: drone '%s' is listed twice", in->path,
			    lineno, json_string_value(name));
			json_decref(v);
			return -1;
		}
		json_incref(name);
		json_object_del(v, "type");
		json_object_del(v, "name");
		if (json_object_set_new(in->drones, json_string_value(name), v) == -1) {
			json_decref(name);
			goto oom;
		}
		json_decref(name);
		v = NULL;
	}
	if (in->head == NULL) {
		cli_fail("'%s' has no summary line: a jsonl result of a run that did "
		    "not finish?", in->path);
		return -1;
	}
	return 0;
oom:
	json_decref(v);
	cli_fail("out of memory");
	return -1;
}

/* The text of one file into in (a document or jsonl); 0 or -1 (printed). */
static int
merge_parse(struct merge_in *in, char *text, size_t len)
{
	json_error_t je;
	json_t *doc, *type;

	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	type = json_object_get(doc, "type");
	if (doc == NULL || json_is_string(type)) {
		/* jsonl, or a jsonl stream of one summary line (no drones). */
		json_decref(doc);
		return merge_parse_jsonl(in, text, &je);
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		cli_fail("'%s' is not a dronex result: not a JSON object", in->path);
		return -1;
	}
	in->drones = json_incref(json_object_get(doc, "drones"));
	json_object_del(doc, "drones");
	in->head = doc;
	return 0;
}

/* Checks one drone's result; fills d; 0 or -1 (printed). */
static int
merge_check_drone(const struct merge_in *in, const char *name, json_t *obj,
    struct merge_drone *d)
{
	json_t *st, *e, *kind, *msg;
	const char *s, *why = NULL;

	memset(d, 0, sizeof(*d));
	d->name = name;
	d->obj = obj;
	d->msg = "";
	st = json_object_get(obj, "status");
	s = json_is_string(st) ? json_string_value(st) : "";
	if (strcmp(s, "ok") == 0)
		d->status = DX_ST_OK;
	else if (strcmp(s, "failed") == 0)
		d->status = DX_ST_FAILED;
	else if (strcmp(s, "skipped") == 0)
		d->status = DX_ST_SKIPPED;
	else
		why = "its \"status\" is not ok, failed or skipped";
	e = json_object_get(obj, "error");
	if (why == NULL && e != NULL && !json_is_null(e)) {
		kind = json_object_get(e, "kind");
		msg = json_object_get(e, "message");
		if (!json_is_string(kind) ||
		    dx_kind_parse(json_string_value(kind), &d->kind) == -1)
			why = "its error has no \"kind\" dronex knows";
		else if (!json_is_string(msg))
			why = "its error has no \"message\"";
		else
			d->msg = json_string_value(msg);
	}
	if (why == NULL && d->status == DX_ST_FAILED && d->kind == DX_OK)
		why = "it failed without an error";
	if (why != NULL) {
		cli_fail("'%s' is not a dronex result: drone '%s': %s", in->path,
		    name, why);
		return -1;
	}
	return 0;
}

/*
 * Checks that in is a dronex result and fills k, n, run and the times.
 * 0 or -1 (printed).
 */
static int
merge_check(struct merge_in *in)
{
	json_t *h = in->head, *v, *sum;
	const char *why = NULL;

	v = json_object_get(h, "dronex");
	sum = json_object_get(h, "summary");
	if (!json_is_object(h) || !json_is_integer(v))
		why = "no \"dronex\" version field";
	else if (json_integer_value(v) != 1)
		why = "a \"dronex\" version this dronex does not read";
	else if (!json_is_object(in->drones))
		why = "no \"drones\" object";
	else if (!json_is_object(sum) ||
	    !json_is_integer(json_object_get(sum, "drones")))
		why = "no \"summary\" with a drone count";
	else if (json_integer_value(json_object_get(sum, "drones")) !=
	    (json_int_t)json_object_size(in->drones))
		why = "its summary does not count the drones it lists (cut short?)";
	else if ((in->start_ms = merge_time(json_object_get(h, "started"))) == -1)
		why = "no \"started\" time";
	else if (!json_is_integer(v = json_object_get(h, "elapsed_ms")) ||
	    json_integer_value(v) < 0)
		why = "no \"elapsed_ms\"";
	if (why != NULL) {
		cli_fail("'%s' is not a dronex result: %s", in->path, why);
		return -1;
	}
	in->end_ms = in->start_ms + (int64_t)json_integer_value(v);
	if ((v = json_object_get(h, "shard")) != NULL) {
		if (!json_is_string(v) ||
		    merge_shard(json_string_value(v), &in->k, &in->n) == -1) {
			cli_fail("'%s' is not a dronex result: its \"shard\" is not K/N",
			    in->path);
			return -1;
		}
		v = json_object_get(h, "run");
		if (!json_is_string(v)) {
			cli_fail("'%s' is shard %u/%u without a \"run\" digest (from an "
			    "older dronex?): cannot tell which run it belongs to",
			    in->path, in->k, in->n);
			return -1;
		}
		in->run = json_string_value(v);
	}
	return 0;
}

/*
 * The files against each other: all shards of one run, each K once, none
 * missing; or none a shard.  0 or -1 (printed).
 */
static int
merge_check_shards(const struct merge_in *in, size_t nin)
{
	const struct merge_in *a = &in[0];
	size_t *by_k = NULL, i, missing = 0;
	unsigned k;
	int rc = -1;

	for (i = 1; i < nin; i++) {
		const struct merge_in *b = &in[i];

		if ((a->n == 0) != (b->n == 0)) {
			const struct merge_in *s = a->n ? a : b, *u = a->n ? b : a;

			cli_fail("'%s' is shard %u/%u of a run but '%s' is not a shard: "
			    "results of different runs", s->path, s->k, s->n, u->path);
			return -1;
		}
		if (a->n != b->n) {
			cli_fail("'%s' is shard %u/%u but '%s' is shard %u/%u: shards of "
			    "different runs", a->path, a->k, a->n, b->path, b->k, b->n);
			return -1;
		}
		if (a->n != 0 && strcmp(a->run, b->run) != 0) {
			cli_fail("'%s' (run %s) and '%s' (run %s) are shards of different "
			    "runs: other drones or other calls", a->path, a->run,
			    b->path, b->run);
			return -1;
		}
	}
	if (a->n == 0)
		return 0;
	if ((by_k = calloc((size_t)a->n + 1, sizeof(*by_k))) == NULL) {
		cli_fail("out of memory");
		return -1;
	}
	for (i = 0; i < nin; i++) {
		if (by_k[in[i].k] != 0) {
			cli_fail("'%s' and '%s' are both shard %u/%u: overlapping shards",
			    in[by_k[in[i].k] - 1].path, in[i].path, in[i].k, in[i].n);
			goto out;
		}
		by_k[in[i].k] = i + 1;
	}
	for (k = 1; k <= a->n; k++)
		missing += by_k[k] == 0;
	if (missing > 0) {
		size_t listed = 0;

		fprintf(stderr, "dronex: %zu of %u shards missing:", missing, a->n);
		for (k = 1; k <= a->n && listed < MERGE_LIST_MISSING; k++)
			if (by_k[k] == 0)
				fprintf(stderr, "%s %u/%u", listed++ ? "," : "", k, a->n);
		if (missing > listed)
			fprintf(stderr, " and %zu more", missing - listed);
		fprintf(stderr, " (given:");
		for (i = 0; i < nin && i < MERGE_LIST_MISSING; i++)
			fprintf(stderr, "%s '%s' %u/%u", i ? "," : "", in[i].path,
			    in[i].k, in[i].n);
		if (nin > i)
			fprintf(stderr, " and %zu more", nin - i);
		fprintf(stderr, ")\n");
		goto out;
	}
	rc = 0;
out:
	free(by_k);
	return rc;
}

/*
 * Natural order: runs of digits compare as numbers (n2 before n10), equal
 * numbers with less zero padding first, everything else byte by byte.
 */
static int
merge_natcmp(const char *a, const char *b)
{
	while (*a != '\0' && *b != '\0') {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			const char *x = a, *y = b;
			size_t za, zb, la, lb;
			int c;

			while (*x == '0')
				x++;
			while (*y == '0')
				y++;
			za = (size_t)(x - a);
			zb = (size_t)(y - b);
			for (la = 0; isdigit((unsigned char)x[la]); la++)
				;
			for (lb = 0; isdigit((unsigned char)y[lb]); lb++)
				;
			if (la != lb)
				return la < lb ? -1 : 1;
			if ((c = memcmp(x, y, la)) != 0)
				return c;
			if (za != zb)
				return za < zb ? -1 : 1;
			a = x + la;
			b = y + lb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return *a != '\0' ? 1 : *b != '\0' ? -1 : 0;
}

static int
merge_drone_cmp(const void *pa, const void *pb)
{
	const struct merge_drone *a = pa, *b = pb;
	int c = merge_natcmp(a->name, b->name);

	return c != 0 ? c : strcmp(a->name, b->name);
}

/* The least strict host-key policy of the inputs ("off" < "accept-new" < "strict"). */
static json_t *
merge_host_key_check(const struct merge_in *in, size_t nin)
{
	static const char *const order[] = { "off", "accept-new", "strict" };
	int best = -1, r;
	const json_t *first = json_object_get(in[0].head, "host_key_check");

	for (size_t i = 0; i < nin; i++) {
		const json_t *v = json_object_get(in[i].head, "host_key_check");

		if (!json_is_string(v))
			continue;
		for (r = 0; r < 3; r++)
			if (strcmp(json_string_value(v), order[r]) == 0)
				break;
		if (r < 3 && (best == -1 || r < best))
			best = r;
	}
	if (best >= 0)
		return json_string(order[best]);
	return first != NULL ? json_deep_copy(first) : json_null();
}

static int
merge_dump_cb(const char *buf, size_t size, void *arg)
{
	return fwrite(buf, 1, size, arg) == size ? 0 : -1;
}

/*
 * Builds and prints the merged document, then the failure lines; returns
 * the exit status.
 */
static int
merge_emit(struct merge_in *in, size_t nin, struct merge_drone *d, size_t nd,
    bool pretty, bool quiet)
{
	struct dx_error_entry *ev = NULL;
	json_t *doc = NULL, *drones;
	struct dx_summary sum = { 0 };
	int64_t t0 = in[0].start_ms, t1 = in[0].end_ms;
	char started[80];
	char *error = NULL;
	size_t i;
	int rc = DX_EXIT_FAILED;

	for (i = 1; i < nin; i++) {
		if (in[i].start_ms < t0)
			t0 = in[i].start_ms;
		if (in[i].end_ms > t1)
			t1 = in[i].end_ms;
	}
	if ((ev = calloc(nd + 1, sizeof(*ev))) == NULL)
		goto oom;
	sum.drones = nd;
	for (i = 0; i < nd; i++) {
		ev[i].name = d[i].name;
		ev[i].status = d[i].status;
		ev[i].kind = d[i].kind;
		sum.ok += d[i].status == DX_ST_OK;
		sum.failed += d[i].status == DX_ST_FAILED;
		sum.skipped += d[i].status == DX_ST_SKIPPED;
	}
	if (sum.failed + sum.skipped > 0 && (error = dx_error_line(ev, nd)) == NULL)
		goto oom;
	/* The started time as exec writes it: whole milliseconds, UTC. */
	{
		time_t s = (time_t)(t0 / 1000);
		struct tm tm;

		gmtime_r(&s, &tm);
		snprintf(started, sizeof(started), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, (int)(t0 % 1000));
	}
	if ((doc = json_object()) == NULL || (drones = json_object()) == NULL)
		goto oom;
	if (json_object_set_new(doc, "dronex", json_integer(1)) == -1 ||
	    json_object_set_new(doc, "started", json_string(started)) == -1 ||
	    json_object_set_new(doc, "elapsed_ms", json_integer((json_int_t)(t1 - t0))) == -1 ||
	    json_object_set_new(doc, "host_key_check",
	    merge_host_key_check(in, nin)) == -1 ||
	    (in[0].run != NULL &&
	    json_object_set_new(doc, "run", json_string(in[0].run)) == -1) ||
	    json_object_set_new(doc, "summary", json_pack("{s:I, s:I, s:I, s:I}",
	    "drones", (json_int_t)sum.drones, "ok", (json_int_t)sum.ok,
	    "failed", (json_int_t)sum.failed, "skipped", (json_int_t)sum.skipped)) == -1 ||
	    json_object_set_new(doc, "drones", drones) == -1)
		goto oom;
	for (i = 0; i < nd; i++)
		if (json_object_set(drones, d[i].name, d[i].obj) == -1)
			goto oom;
	if (json_object_set_new(doc, "error",
	    error != NULL ? json_string(error) : json_null()) == -1)
		goto oom;
	errno = 0;
	if (json_dump_callback(doc, merge_dump_cb, stdout,
	    pretty ? JSON_INDENT(2) : JSON_COMPACT) == -1 || fputc('\n', stdout) == EOF ||
	    fflush(stdout) != 0 || ferror(stdout)) {
		cli_fail("cannot write the results: %s",
		    strerror(errno != 0 ? errno : EIO));
		rc = DX_EXIT_OUTPUT;
		goto out;
	}
	if (error != NULL && quiet)
		dx_out_error_line(stderr, error);
	else if (error != NULL)
		for (i = 0; i < nd; i++)
			if (d[i].status != DX_ST_OK)
				dx_out_failure_line(stderr, d[i].name, d[i].status,
				    d[i].kind, d[i].msg);
	rc = sum.failed + sum.skipped == 0 ? DX_EXIT_OK : DX_EXIT_FAILED;
	goto out;
oom:
	cli_fail("out of memory");
out:
	json_decref(doc);
	free(error);
	free(ev);
	return rc;
}

int
cli_merge(int argc, char **argv)
{
	struct merge_in *in = NULL;
	struct merge_drone *d = NULL;
	json_t *seen = NULL, *obj;
	const char *name;
	size_t nin = 0, nd = 0, total = 0, i, len;
	bool pretty = false, quiet = false, stdin_used = false;
	char *text;
	int rc = DX_EXIT_USAGE, a;

	for (a = 1; a < argc && argv[a][0] == '-' && argv[a][1] != '\0'; a++) {
		if (strcmp(argv[a], "--") == 0) {
			a++;
			break;
		}
		if (strcmp(argv[a], "--pretty") == 0)
			pretty = true;
		else if (strcmp(argv[a], "-q") == 0 || strcmp(argv[a], "--quiet") == 0)
			quiet = true;
		else if (strcmp(argv[a], "-h") == 0 || strcmp(argv[a], "--help") == 0) {
			fputs(merge_usage, stdout);
			return DX_EXIT_OK;
		} else {
			cli_fail("option '%s' does nothing for 'dronex merge' (it takes "
			    "--pretty, -q and result files)", argv[a]);
			return DX_EXIT_USAGE;
		}
	}
	if (a == argc) {
		cli_fail("merge: give the result files of the shards (try dronex "
		    "merge --help)");
		return DX_EXIT_USAGE;
	}
	if ((in = calloc((size_t)(argc - a) + 1, sizeof(*in))) == NULL ||
	    (seen = json_object()) == NULL) {
		cli_fail("out of memory");
		goto out;
	}
	for (; a < argc; a++, nin++) {
		in[nin].path = argv[a];
		if (strcmp(argv[a], "-") == 0) {
			if (stdin_used) {
				cli_fail("merge: '-' (standard input) given twice");
				goto out;
			}
			stdin_used = true;
		}
		if ((text = merge_read(argv[a], &len)) == NULL)
			goto out;
		if (merge_parse(&in[nin], text, len) == -1) {
			free(text);
			nin++;
			goto out;
		}
		free(text);
		if (merge_check(&in[nin]) == -1) {
			nin++;
			goto out;
		}
		total += json_object_size(in[nin].drones);
	}
	if (merge_check_shards(in, nin) == -1)
		goto out;
	if ((d = calloc(total + 1, sizeof(*d))) == NULL) {
		cli_fail("out of memory");
		goto out;
	}
	for (i = 0; i < nin; i++)
		json_object_foreach(in[i].drones, name, obj) {
			json_t *prev = json_object_get(seen, name);

			if (prev != NULL) {
				cli_fail("drone '%s' is in both '%s' and '%s': overlapping "
				    "results", name, in[json_integer_value(prev)].path,
				    in[i].path);
				goto out;
			}
			if (json_object_set_new(seen, name,
			    json_integer((json_int_t)i)) == -1) {
				cli_fail("out of memory");
				goto out;
			}
			if (merge_check_drone(&in[i], name, obj, &d[nd]) == -1)
				goto out;
			d[nd++].file = i;
		}
	qsort(d, nd, sizeof(*d), merge_drone_cmp);
	rc = merge_emit(in, nin, d, nd, pretty, quiet);
out:
	for (i = 0; in != NULL && i < nin; i++) {
		json_decref(in[i].head);
		json_decref(in[i].drones);
	}
	json_decref(seen);
	free(in);
	free(d);
	return rc;
}
