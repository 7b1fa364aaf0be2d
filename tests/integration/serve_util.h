/*
 * serve_util.h - helpers for the "dronex serve" tests: a serve process on
 * a fresh spool, requests and control files written the way any client
 * writes them (tmp/ + rename, SPEC section 7), and waits for results.
 * The tests write the spool files themselves, so they test the daemon's
 * side of the contract whatever the clients do.  Static functions: each
 * test program includes it once.
 */
#ifndef DX_SERVE_UTIL_H
#define DX_SERVE_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

struct srv {
	struct dxh_proc	 p;
	char		*spool;
	bool		 running;
};

static __attribute__((unused)) void
srv_sleep(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

/* Starts serve on spool with inventory inv and extra NULL-ended args. */
static __attribute__((unused)) void
srv_start_env(struct srv *s, const char *spool, const char *inv,
    const char *const *env, const char *const *extra)
{
	const char *argv[40];
	struct dxh_opts o;
	size_t n = 0;

	memset(&o, 0, sizeof(o));
	o.env = env;
	o.timeout = 170;
	argv[n++] = "serve";
	argv[n++] = "--spool";
	argv[n++] = spool;
	argv[n++] = "-i";
	argv[n++] = inv;
	for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 38; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	dxh_start(&s->p, argv, &o);
	s->running = true;
	/* Ready once it says so (the spool exists then), or once it exited. */
	{
		double end = dxh_now() + 15;

		while (dxh_now() < end && (s->p.err == NULL ||
		    strstr(s->p.err, "serving spool") == NULL))
			if (!dxh_pump(&s->p, 20))
				break;
	}
	if (s->spool != spool) {
		free(s->spool);
		s->spool = strdup(spool);
	}
}

static __attribute__((unused)) void
srv_start(struct srv *s, const char *spool, const char *inv,
    const char *const *extra)
{
	srv_start_env(s, spool, inv, NULL, extra);
}

/* Waits for serve to exit (up to secs) and fills r. */
static __attribute__((unused)) void
srv_finish(struct srv *s, struct dxh_run *r)
{
	dxh_finish(&s->p, r);
	s->running = false;
}

static __attribute__((unused)) void
srv_stop(struct srv *s)
{
	struct dxh_run r;

	if (!s->running)
		return;
	kill(s->p.pid, SIGTERM);
	srv_finish(s, &r);
	dxh_run_free(&r);
}

static __attribute__((unused)) char *
srv_path(const struct srv *s, const char *sub, const char *name)
{
	char *p;

	cr_assert(asprintf(&p, "%s/%s/%s", s->spool, sub, name) > 0);
	return p;
}

static __attribute__((unused)) bool
srv_exists(const struct srv *s, const char *sub, const char *name)
{
	char *p = srv_path(s, sub, name);
	bool e = dxh_exists(p);

	free(p);
	return e;
}

/* Pumps serve's stderr for up to ms (so its pipe never fills). */
static __attribute__((unused)) void
srv_pump(struct srv *s, int ms)
{
	double end = dxh_now() + ms / 1000.0, left;

	/* dxh_pump() returns at the first output: pump for the whole time. */
	while ((left = end - dxh_now()) > 0)
		if (!s->running || !dxh_pump(&s->p, (int)(left * 1000) + 1))
			srv_sleep(left > 0.02 ? 0.02 : left);
}

/* A request id as submit makes them, unique in this process. */
static __attribute__((unused)) void
srv_new_id(char *id, size_t len)
{
	static unsigned counter;
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(id, len, "%04d%02d%02dT%02d%02d%02d.%06ldZ-%010ld-%04u",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000, (long)getpid(), ++counter % 10000);
}

/* Writes text as sub/name the way clients do: tmp/, fsync, rename. */
static __attribute__((unused)) void
srv_put(const struct srv *s, const char *sub, const char *name, const char *text)
{
	char *tmp = srv_path(s, "tmp", name), *dst = srv_path(s, sub, name);
	int fd;

	cr_assert((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0,
	    "%s: %s", tmp, strerror(errno));
	cr_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	fsync(fd);
	close(fd);
	cr_assert(rename(tmp, dst) == 0, "%s: %s", dst, strerror(errno));
	free(tmp);
	free(dst);
}

/* Submits a request document; fills id. */
static __attribute__((unused)) void
srv_submit(const struct srv *s, const char *doc, char *id, size_t len)
{
	srv_new_id(id, len);
	srv_put(s, "requested", id, doc);
}

/* The result of id (waiting up to secs), or NULL. */
static __attribute__((unused)) json_t *
srv_result(struct srv *s, const char *id, double secs)
{
	char *p = srv_path(s, "complete", id);
	double end = dxh_now() + secs;
	json_t *doc = NULL;

	while (dxh_now() < end) {
		if (dxh_exists(p) && (doc = json_load_file(p, 0, NULL)) != NULL)
			break;
		srv_pump(s, 20);
	}
	free(p);
	return doc;
}

/* Writes a control document and returns its reply (waiting up to 10 s). */
static __attribute__((unused)) json_t *
srv_control(struct srv *s, const char *doc)
{
	char id[80], name[100], *p;
	double end = dxh_now() + 10;
	json_t *reply = NULL;

	srv_new_id(id, sizeof(id));
	snprintf(name, sizeof(name), "%s.json", id);
	srv_put(s, "control", name, doc);
	snprintf(name, sizeof(name), "%s.reply", id);
	p = srv_path(s, "control", name);
	while (dxh_now() < end) {
		if (dxh_exists(p) && (reply = json_load_file(p, 0, NULL)) != NULL)
			break;
		srv_pump(s, 20);
	}
	cr_assert(reply != NULL, "no reply to control %s", doc);
	unlink(p);
	free(p);
	return reply;
}

static __attribute__((unused)) bool
srv_ok(json_t *reply)
{
	bool ok = json_is_true(json_object_get(reply, "ok"));

	json_decref(reply);
	return ok;
}

static __attribute__((unused)) void
srv_abort(const struct srv *s, const char *id)
{
	srv_put(s, "aborting", id, "");
}

/* drones.NAME.FIELD (a string), or NULL. */
static __attribute__((unused)) const char *
srv_drone_str(json_t *doc, const char *drone, const char *field)
{
	return json_string_value(json_object_get(json_object_get(json_object_get(
	    doc, "drones"), drone), field));
}

static __attribute__((unused)) const char *
srv_drone_kind(json_t *doc, const char *drone)
{
	return json_string_value(json_object_get(json_object_get(json_object_get(
	    json_object_get(doc, "drones"), drone), "error"), "kind"));
}

/* status.json, read fresh (waiting up to 10 s for pred(status) to hold). */
static __attribute__((unused)) json_t *
srv_status(struct srv *s, bool (*pred)(json_t *))
{
	char *p;
	double end = dxh_now() + 10;
	json_t *st = NULL;

	cr_assert(asprintf(&p, "%s/status.json", s->spool) > 0);
	while (dxh_now() < end) {
		json_decref(st);
		if ((st = json_load_file(p, 0, NULL)) != NULL &&
		    (pred == NULL || pred(st)))
			break;
		srv_pump(s, 50);
	}
	free(p);
	return st;
}

/* Waits until the file exists (or not), up to secs; true if it did. */
static __attribute__((unused)) bool
srv_wait_file(struct srv *s, const char *sub, const char *name, bool exists,
    double secs)
{
	double end = dxh_now() + secs;

	while (dxh_now() < end) {
		if (srv_exists(s, sub, name) == exists)
			return true;
		srv_pump(s, 20);
	}
	return false;
}

/* A fresh spool path (not created: serve creates it). */
static __attribute__((unused)) char *
srv_spool_dir(void)
{
	char *d = dxh_tmpdir(), *p;

	cr_assert(asprintf(&p, "%s/spool", d) > 0);
	free(d);
	return p;
}

#endif
