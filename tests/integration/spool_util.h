/*
 * spool_util.h - helpers for the tests of serve's clients: a spool in a
 * fresh directory, a real "dronex serve" on it (its log pumped while the
 * clients run, so it never blocks on a full stderr pipe), client runs
 * that pump serve too, and files dropped straight into the spool.
 * Everything is static: each test program includes it once.
 */
#ifndef DX_SPOOL_UTIL_H
#define DX_SPOOL_UTIL_H

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

struct su_serve {
	struct dxh_proc	 p;
	bool		 running;
	char		*dir;		/* the test's directory */
	char		*spool;		/* dir/spool */
	char		*inv;		/* the inventory serve reads */
};

static __attribute__((unused)) char *
su_path(const char *spool, const char *sub, const char *name)
{
	char *p;

	if (sub == NULL)
		cr_assert(asprintf(&p, "%s/%s", spool, name) > 0);
	else
		cr_assert(asprintf(&p, "%s/%s/%s", spool, sub, name) > 0);
	return p;
}

static __attribute__((unused)) bool
su_exists(const char *spool, const char *sub, const char *name)
{
	char *p = su_path(spool, sub, name);
	struct stat st;
	bool yes = lstat(p, &st) == 0;

	free(p);
	return yes;
}

/* Runs a client (argv as for dxh_start), pumping serve's log meanwhile. */
static __attribute__((unused)) void
su_client(struct su_serve *s, struct dxh_run *r, const char *const *argv,
    double timeout)
{
	struct dxh_opts o = { .timeout = timeout > 0 ? timeout : 60 };
	struct dxh_proc c;

	dxh_start(&c, argv, &o);
	for (;;) {
		if (s != NULL && s->running)
			dxh_pump(&s->p, 0);
		if (!dxh_pump(&c, 50))
			break;
	}
	dxh_finish(&c, r);
}

/* Lets serve run (its log read) for ms. */
static __attribute__((unused)) void
su_pump(struct su_serve *s, int ms)
{
	double end = dxh_now() + ms / 1000.0;

	while (dxh_now() < end)
		if (s->running)
			dxh_pump(&s->p, 20);
		else
			usleep(20000);
}

/* A spool directory path in a fresh test directory (not created). */
static __attribute__((unused)) void
su_init(struct su_serve *s, int ndrones)
{
	json_t *inv;

	memset(s, 0, sizeof(*s));
	s->dir = dxh_tmpdir();
	cr_assert(asprintf(&s->spool, "%s/spool", s->dir) > 0);
	if (ndrones > 0) {
		inv = dxh_inv_new(ndrones);
		s->inv = dxh_inv_write(inv);
		json_decref(inv);
	}
}

/*
 * Starts "dronex serve --spool SPOOL -i INV [extra...]" and waits until
 * "dronex status" answers (at most 30 s).
 */
static __attribute__((unused)) void
su_start(struct su_serve *s, const char *const *extra)
{
	const char *argv[32] = { "serve", "--spool", s->spool, "-i", s->inv };
	struct dxh_opts o = { .timeout = 240 };
	size_t n = 5;
	double end;

	for (; extra != NULL && *extra != NULL && n < 30; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	dxh_start(&s->p, argv, &o);
	s->running = true;
	for (end = dxh_now() + 30;; ) {
		struct dxh_run r;
		const char *st[] = { "status", "--spool", s->spool, NULL };

		su_client(s, &r, st, 10);
		if (r.status == 0) {
			dxh_run_free(&r);
			return;
		}
		dxh_run_free(&r);
		cr_assert(dxh_now() < end, "serve did not start: %s", s->p.err);
		su_pump(s, 100);
	}
}

/* SIGTERM (drain), then its log; fails if it does not exit 0. */
static __attribute__((unused)) void
su_stop(struct su_serve *s, struct dxh_run *log)
{
	cr_assert(s->running);
	kill(s->p.pid, SIGTERM);
	dxh_finish(&s->p, log);
	s->running = false;
	cr_expect_eq(log->status, 0, "serve exit %d, log:\n%s", log->status, log->err);
}

static __attribute__((unused)) void
su_free(struct su_serve *s)
{
	if (s->running) {
		struct dxh_run r;

		kill(s->p.pid, SIGKILL);
		dxh_finish(&s->p, &r);
		dxh_run_free(&r);
	}
	free(s->dir);
	free(s->spool);
	free(s->inv);
}

/* "dronex submit --spool SPOOL args... " that must print an id. */
static __attribute__((unused)) char *
su_submit(struct su_serve *s, const char *const *args)
{
	const char *argv[40] = { "submit", "--spool", s->spool };
	struct dxh_run r;
	size_t n = 3;
	char *id;

	for (; *args != NULL && n < 38; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	su_client(s, &r, argv, 30);
	cr_assert_eq(r.status, 0, "submit: exit %d: %s", r.status, r.err);
	cr_assert(r.outlen > 1 && r.out[r.outlen - 1] == '\n', "submit printed '%s'",
	    r.out);
	id = strndup(r.out, r.outlen - 1);
	dxh_run_free(&r);
	return id;
}

/* Writes a file straight into the spool (as a client in any language may). */
static __attribute__((unused)) void
su_put(const char *spool, const char *sub, const char *name, const char *text,
    mode_t mode)
{
	char *p = su_path(spool, sub, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, mode);

	cr_assert_geq(fd, 0, "create '%s': %s", p, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	fchmod(fd, mode);
	close(fd);
	free(p);
}

#endif
