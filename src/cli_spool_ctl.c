/*
 * cli_spool_ctl.c - "dronex status" (status.json as JSON, or in
 * Prometheus' text exposition format) and the control commands (pause,
 * resume, resize, priority: a control file, then serve's reply).
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
 * status
 */

/* "2026-12-02T01:33:00.123Z" to Unix seconds; NAN if it is not one. */
static double
spool_iso_seconds(const char *s)
{
	struct tm tm;
	int ms = 0, n = 0;

	if (s == NULL)
		return NAN;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
		return NAN;
	s += n;
	if (*s == '.') {
		int digits = 0;

		for (s++; *s >= '0' && *s <= '9'; s++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*s - '0');
		for (; digits < 3; digits++)
			ms *= 10;
	}
	if (*s != 'Z')
		return NAN;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm) + ms / 1000.0;
}

/* A label value in the text exposition format: \\, \" and \n escaped. */
static void
spool_prom_label(FILE *f, const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
}

static void
spool_prom_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
spool_prom_num(FILE *f, const char *name, const char *type, const char *help,
    json_t *v)
{
	spool_prom_head(f, name, type, help);
	if (json_is_boolean(v))
		fprintf(f, "%s %d\n", name, json_is_true(v) ? 1 : 0);
	else if (json_is_number(v))
		fprintf(f, "%s %.17g\n", name, json_number_value(v));
	else
		fprintf(f, "%s NaN\n", name);
}

/* A summary in seconds from {"count", "mean", "p50", "p99"} in ms. */
static void
spool_prom_summary(FILE *f, const char *name, const char *help, json_t *v)
{
	double count = json_number_value(json_object_get(v, "count"));
	double mean = json_number_value(json_object_get(v, "mean"));
	static const char *const q[][2] = { { "0.5", "p50" }, { "0.99", "p99" } };

	spool_prom_head(f, name, "summary", help);
	for (size_t i = 0; i < 2; i++) {
		json_t *x = json_object_get(v, q[i][1]);

		if (json_is_number(x))
			fprintf(f, "%s{quantile=\"%s\"} %.17g\n", name, q[i][0],
			    json_number_value(x) / 1000.0);
		else
			fprintf(f, "%s{quantile=\"%s\"} NaN\n", name, q[i][0]);
	}
	fprintf(f, "%s_sum %.17g\n", name, count * mean / 1000.0);
	fprintf(f, "%s_count %.17g\n", name, count);
}

static void
spool_prometheus(FILE *f, json_t *st)
{
	static const struct {
		const char	*key, *name, *type, *help;
	} g[] = {
		{ "pending", "dronex_serve_pending", "gauge",
		  "Requests accepted and waiting to start." },
		{ "running", "dronex_serve_running", "gauge",
		  "Requests with at least one drone started." },
		{ "received", "dronex_serve_received_total", "counter",
		  "Requests received since serve started." },
		{ "completed", "dronex_serve_completed_total", "counter",
		  "Requests completed since serve started." },
		{ "aborted", "dronex_serve_aborted_total", "counter",
		  "Requests aborted since serve started." },
		{ "warm_sessions", "dronex_serve_warm_sessions", "gauge",
		  "Authenticated SSH sessions kept open between requests." },
		{ "busy_sessions", "dronex_serve_busy_sessions", "gauge",
		  "Sessions running a call now." },
		{ "max_sessions", "dronex_serve_max_sessions", "gauge",
		  "The most sessions serve keeps." },
		{ "fanout", "dronex_serve_fanout", "gauge",
		  "Drones in flight at once, shared by all requests." },
		{ "paused", "dronex_serve_paused", "gauge",
		  "1 while no new request starts (dronex pause)." },
		{ "draining", "dronex_serve_draining", "gauge",
		  "1 while serve finishes its running requests before exiting." },
		{ "drones", "dronex_serve_drones", "gauge",
		  "Drones in serve's inventory." },
	};
	json_t *cooled, *c;
	size_t i;

	for (i = 0; i < sizeof(g) / sizeof(g[0]); i++)
		spool_prom_num(f, g[i].name, g[i].type, g[i].help,
		    json_object_get(st, g[i].key));
	spool_prom_summary(f, "dronex_serve_wait_seconds",
	    "Time from a request's arrival to its start.",
	    json_object_get(st, "wait_ms"));
	spool_prom_summary(f, "dronex_serve_run_seconds",
	    "Time from a request's start to its result.",
	    json_object_get(st, "run_ms"));
	spool_prom_head(f, "dronex_serve_updated_timestamp_seconds", "gauge",
	    "When serve last wrote its status (Unix time).");
	fprintf(f, "dronex_serve_updated_timestamp_seconds %.17g\n",
	    spool_iso_seconds(json_string_value(json_object_get(st, "updated"))));
	cooled = json_object_get(st, "cooled");
	spool_prom_head(f, "dronex_serve_drone_cooled", "gauge",
	    "A drone cooled down after repeated connection failures: the Unix "
	    "time it is tried again.");
	json_array_foreach(cooled, i, c) {
		const char *name = json_string_value(json_object_get(c, "drone"));

		if (name == NULL)
			continue;
		fputs("dronex_serve_drone_cooled{drone=\"", f);
		spool_prom_label(f, name);
		fprintf(f, "\"} %.17g\n",
		    spool_iso_seconds(json_string_value(json_object_get(c, "until"))));
	}
	spool_prom_head(f, "dronex_serve_drone_cooled_failures", "gauge",
	    "Connection failures that cooled the drone down.");
	json_array_foreach(cooled, i, c) {
		const char *name = json_string_value(json_object_get(c, "drone"));

		if (name == NULL)
			continue;
		fputs("dronex_serve_drone_cooled_failures{drone=\"", f);
		spool_prom_label(f, name);
		fprintf(f, "\"} %lld\n",
		    (long long)json_integer_value(json_object_get(c, "failures")));
	}
}

int
cli_spool_status(int argc, char **argv)
{
	struct cli_spool_opts o;
	struct dx_err err = { 0 };
	struct dx_spool *sp;
	json_error_t jerr;
	json_t *st = NULL;
	bool prom = false;
	char *buf = NULL;
	size_t len;
	int rc = DX_EXIT_FAILED, r;

	if ((r = cli_spool_parse(argc, argv, SO_FORMAT | SO_PRETTY, 0,
	    "status --spool DIR [--format json|prometheus] [--pretty]", &o)) != 0)
		return r == 1 ? DX_EXIT_OK : DX_EXIT_USAGE;
	if (o.format != NULL && strcmp(o.format, "prometheus") == 0)
		prom = true;
	else if (o.format != NULL && strcmp(o.format, "json") != 0) {
		cli_fail("option '--format': '%s' is not json or prometheus", o.format);
		return DX_EXIT_USAGE;
	}
	if (prom && o.pretty) {
		cli_fail("option '--pretty' does nothing with --format prometheus");
		return DX_EXIT_USAGE;
	}
	if ((sp = cli_spool_open(o.spool, false)) == NULL)
		return DX_EXIT_USAGE;
	if (!dx_spool_serve_running(sp, NULL)) {
		cli_fail("serve is not running on '%s'", o.spool);
		goto out;
	}
	if (dx_spool_read(sp, NULL, "status.json", SPOOL_STATUS_MAX, &buf, &len,
	    &err) == -1) {
		cli_fail("%s", errno == ENOENT ? "serve has not written status.json "
		    "yet" : err.msg);
		goto out;
	}
	if ((st = json_loadb(buf, len, 0, &jerr)) == NULL || !json_is_object(st)) {
		cli_fail("'%s/status.json' is not a JSON object: %s", o.spool,
		    st == NULL ? jerr.text : "wrong type");
		goto out;
	}
	errno = 0;
	if (prom)
		spool_prometheus(stdout, st);
	else
		cli_spool_put(stdout, st, o.pretty ? JSON_INDENT(2) : JSON_COMPACT);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		cli_fail("cannot write the status: %s", strerror(errno ? errno : EIO));
		rc = DX_EXIT_OUTPUT;
		goto out;
	}
	rc = DX_EXIT_OK;
out:
	json_decref(st);
	free(buf);
	dx_spool_close(sp);
	return rc;
}

/*
 * pause, resume, resize N, priority ID P: a control file, then serve's reply.
 */
int
cli_spool_control(int argc, char **argv)
{
	const char *cmd = argv[0];
	struct cli_spool_opts o;
	struct cli_spool_watch w = { -1 };
	struct dx_err err = { 0 };
	struct dx_spool *sp = NULL;
	json_t *ctl = NULL, *reply = NULL;
	char cid[DX_SPOOL_ID_SIZE], json_name[DX_SPOOL_ID_SIZE + 8];
	char reply_name[DX_SPOOL_ID_SIZE + 8], *text = NULL, *buf = NULL;
	const char *usage;
	long long v = 0;
	int64_t deadline;
	size_t len;
	int nargs, rc = DX_EXIT_USAGE, r;

	if (strcmp(cmd, "resize") == 0) {
		nargs = 1;
		usage = "resize --spool DIR N";
	} else if (strcmp(cmd, "priority") == 0) {
		nargs = 2;
		usage = "priority --spool DIR ID P";
	} else {
		nargs = 0;
		usage = strcmp(cmd, "pause") == 0 ? "pause --spool DIR" :
		    "resume --spool DIR";
	}
	if ((r = cli_spool_parse(argc, argv, 0, nargs, usage, &o)) != 0)
		return r == 1 ? DX_EXIT_OK : DX_EXIT_USAGE;
	if (nargs > 0) {
		const char *num = o.args[nargs - 1];
		long long lo = nargs == 1 ? 1 : INT_MIN, hi = nargs == 1 ? 100000 : INT_MAX;
		char *end;

		errno = 0;
		v = strtoll(num, &end, 10);
		if (num[0] == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi) {
			cli_fail("%s: '%s' is not a whole number from %lld to %lld",
			    nargs == 1 ? "resize" : "priority", num, lo, hi);
			return DX_EXIT_USAGE;
		}
		if (nargs == 2 && cli_spool_check_id(o.args[0]) == -1)
			return DX_EXIT_USAGE;
	}
	if ((sp = cli_spool_open(o.spool, false)) == NULL)
		return DX_EXIT_USAGE;
	rc = DX_EXIT_FAILED;
	if (!dx_spool_serve_running(sp, NULL)) {
		cli_fail("serve is not running on '%s'", o.spool);
		goto out;
	}
	ctl = json_pack("{s:i, s:s}", "dronex_control", 1, "op", cmd);
	if (ctl != NULL && nargs == 1)
		json_object_set_new(ctl, "fanout", json_integer(v));
	if (ctl != NULL && nargs == 2) {
		json_object_set_new(ctl, "id", json_string(o.args[0]));
		json_object_set_new(ctl, "priority", json_integer(v));
	}
	if (ctl == NULL || (text = json_dumps(ctl, JSON_COMPACT)) == NULL) {
		cli_fail("out of memory");
		goto out;
	}
	if (dx_spool_new_id(sp, cid, sizeof(cid), &err) == -1) {
		cli_fail("%s", err.msg);
		goto out;
	}
	snprintf(json_name, sizeof(json_name), "%s.json", cid);
	snprintf(reply_name, sizeof(reply_name), "%s.reply", cid);
	cli_spool_watch_start(&w, sp, "control");
	if (dx_spool_write(sp, "control", json_name, text, strlen(text), false,
	    &err) == -1) {
		cli_fail("%s", err.msg);
		goto out;
	}
	deadline = dx_now_ms() + SPOOL_REPLY_MS;
	while (!dx_spool_exists(sp, "control", reply_name)) {
		if (dx_now_ms() >= deadline) {
			/* Not applied yet: take it back, so it is not applied late. */
			dx_spool_remove(sp, "control", json_name, NULL);
			cli_fail("serve on '%s' did not answer within %d s", o.spool,
			    SPOOL_REPLY_MS / 1000);
			goto out;
		}
		cli_spool_watch_sleep(&w, deadline);
	}
	if (dx_spool_read(sp, "control", reply_name, DX_SPOOL_SMALL_MAX, &buf, &len,
	    &err) == -1) {
		cli_fail("%s", err.msg);
		goto out;
	}
	dx_spool_remove(sp, "control", reply_name, NULL);
	if ((reply = json_loadb(buf, len, 0, NULL)) == NULL ||
	    !json_is_object(reply)) {
		cli_fail("serve's reply '%s' is not a JSON object", reply_name);
		goto out;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		const char *e = json_string_value(json_object_get(reply, "error"));

		cli_fail("%s: %s", cmd, e != NULL ? e : "refused by serve");
		goto out;
	}
	rc = DX_EXIT_OK;
out:
	json_decref(reply);
	json_decref(ctl);
	free(text);
	free(buf);
	cli_spool_watch_stop(&w);
	dx_spool_close(sp);
	return rc;
}

