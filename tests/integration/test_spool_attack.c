/*
 * test_spool_attack.c - what somebody with write access to the spool (or
 * a buggy client) drops into it is refused and reported, never followed
 * or read, and serve does not hang on it (SPEC section 7): a symlink, a
 * hard link, a FIFO, a socket, a file others may write and an oversized
 * file in requested/, a FIFO and a symlink in control/; and serve refuses
 * to start on a spool others can write or that another user owns.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <criterion/criterion.h>

#include "spool_util.h"

#define ID(n)	"20261202T000000.000000Z-0000000001-000" #n

static void
attack_wait_refused(struct su_serve *s, const char *id, const char *why)
{
	const char *argv[] = { "wait", "--spool", s->spool, id, "--timeout", "30",
	    NULL };
	struct dxh_run r;

	su_client(s, &r, argv, 60);
	cr_expect_eq(r.status, 2, "%s: exit %d: %s", id, r.status, r.err);
	cr_expect(json_is_true(json_object_get(r.json, "refused")), "%s: %s", id,
	    r.out);
	cr_expect_eq(dxh_summary(&r, "drones"), 0);
	cr_expect(strstr(r.err, why) != NULL, "%s: want '%s' in: %s", id, why, r.err);
	dxh_run_free(&r);
}

Test(spool_attack, what_is_dropped_in_requested_is_refused_not_followed,
    .timeout = 240)
{
	struct su_serve s;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct dxh_run r, log;
	struct stat before, after;
	char *target, *p, *id;
	int fd, sock;
	const char *req = "{\"dronex_request\": 1, \"calls\": [\"touch /tmp/pwned\"]}";

	su_init(&s, 1);
	su_start(&s, NULL);
	/* A valid request outside the spool, that a symlink would run. */
	target = dxh_write_file(s.dir, "target", req);
	cr_assert_eq(chmod(target, 0600), 0);
	cr_assert_eq(stat(target, &before), 0);

	p = su_path(s.spool, "requested", ID(1));
	cr_assert_eq(symlink(target, p), 0);
	free(p);
	p = su_path(s.spool, "requested", ID(2));
	cr_assert_eq(link(target, p), 0);
	free(p);
	p = su_path(s.spool, "requested", ID(3));
	cr_assert_eq(mkfifo(p, 0600), 0);
	free(p);
	p = su_path(s.spool, "requested", ID(4));
	cr_assert_geq(fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600), 0);
	cr_assert_eq(ftruncate(fd, (off_t)200 << 20), 0);	/* sparse */
	close(fd);
	free(p);
	su_put(s.spool, "requested", ID(5), req, 0666);
	p = su_path(s.spool, "requested", ID(6));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", p);
	cr_assert_geq(sock = socket(AF_UNIX, SOCK_STREAM, 0), 0);
	cr_assert_eq(bind(sock, (struct sockaddr *)&sun, sizeof(sun)), 0, "%s",
	    strerror(errno));
	free(p);

	/* serve goes on: a real request behind them completes. */
	id = su_submit(&s, (const char *[]){ "--", "echo", "fine", NULL });
	{
		const char *argv[] = { "wait", "--spool", s.spool, id, "--timeout", "60",
		    NULL };

		su_client(&s, &r, argv, 90);
		cr_expect_eq(r.status, 0, "serve hung or failed: exit %d: %s", r.status,
		    r.err);
		dxh_run_free(&r);
	}
	attack_wait_refused(&s, ID(1), "is a symlink");
	attack_wait_refused(&s, ID(2), "has 2 links");
	attack_wait_refused(&s, ID(3), "is a FIFO");
	attack_wait_refused(&s, ID(4), "over the");
	attack_wait_refused(&s, ID(5), "writable by group or others");
	attack_wait_refused(&s, ID(6), "is a socket");
	close(sock);
	/* Nothing was followed: the target is as it was, and was never run. */
	cr_assert_eq(stat(target, &after), 0);
	cr_expect_eq(after.st_size, before.st_size);
	cr_expect_eq(after.st_nlink, 1, "the hard link went away with the refusal");
	cr_expect(after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
	    after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
	cr_expect(!dxh_exists("/tmp/pwned"), "a refused request ran");
	su_stop(&s, &log);
	/* And serve's log says what it refused. */
	cr_expect(strstr(log.err, "is a symlink") != NULL, "%s", log.err);
	cr_expect(strstr(log.err, "has 2 links") != NULL);
	cr_expect(strstr(log.err, "is a FIFO") != NULL);
	cr_expect(strstr(log.err, "over the") != NULL);
	dxh_run_free(&log);
	free(target);
	free(id);
	su_free(&s);
}

Test(spool_attack, a_fifo_or_symlink_in_control_does_not_hang_serve, .timeout = 240)
{
	struct su_serve s;
	struct dxh_run r, log;
	char *p, *target;

	su_init(&s, 1);
	su_start(&s, NULL);
	target = dxh_write_file(s.dir, "ctl", "{\"dronex_control\": 1, \"op\": \"pause\"}");
	cr_assert_eq(chmod(target, 0600), 0);
	p = su_path(s.spool, "control", "20261202T000000.000000Z-0000000001-0001.json");
	cr_assert_eq(mkfifo(p, 0600), 0);
	free(p);
	p = su_path(s.spool, "control", "20261202T000000.000000Z-0000000001-0002.json");
	cr_assert_eq(symlink(target, p), 0);
	free(p);
	su_pump(&s, 500);
	{
		const char *argv[] = { "resize", "--spool", s.spool, "2", NULL };

		su_client(&s, &r, argv, 60);
		cr_expect_eq(r.status, 0, "exit %d: %s", r.status, r.err);
		dxh_run_free(&r);
	}
	su_pump(&s, 700);
	{
		const char *argv[] = { "status", "--spool", s.spool, NULL };

		su_client(&s, &r, argv, 60);
		cr_expect_eq(r.status, 0, "%s", r.err);
		cr_expect(json_is_false(json_object_get(r.json, "paused")),
		    "the symlinked pause was not followed: %s", r.out);
		cr_expect_eq(json_integer_value(json_object_get(r.json, "fanout")), 2);
		dxh_run_free(&r);
	}
	su_stop(&s, &log);
	dxh_run_free(&log);
	free(target);
	su_free(&s);
}

Test(spool_attack, serve_refuses_a_spool_others_can_write_or_own, .timeout = 120)
{
	struct su_serve s;
	struct dxh_run r;
	const char *argv[] = { "serve", "--spool", NULL, "-i", NULL, NULL };
	struct dxh_opts o = { .timeout = 30 };
	char *sub;

	su_init(&s, 1);
	free(su_submit(&s, (const char *[]){ NULL }));	/* creates the spool */
	argv[2] = s.spool;
	argv[4] = s.inv;
	cr_assert_eq(chmod(s.spool, 0775), 0);
	dxh_run_argv(&r, argv, &o);
	cr_expect_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_expect(strstr(r.err, "writable by group or others") != NULL, "%s", r.err);
	dxh_run_free(&r);
	cr_assert_eq(chmod(s.spool, 0700), 0);
	sub = su_path(s.spool, NULL, "complete");
	cr_assert_eq(chmod(sub, 0722), 0);
	dxh_run_argv(&r, argv, &o);
	cr_expect_eq(r.status, 2, "exit %d: %s", r.status, r.err);
	cr_expect(strstr(r.err, "complete") != NULL, "%s", r.err);
	dxh_run_free(&r);
	cr_assert_eq(chmod(sub, 0700), 0);
	if (geteuid() == 0) {
		cr_assert_eq(chown(s.spool, 12345, 12345), 0);
		dxh_run_argv(&r, argv, &o);
		cr_expect_eq(r.status, 2, "exit %d: %s", r.status, r.err);
		cr_expect(strstr(r.err, "owned by uid 12345") != NULL, "%s", r.err);
		dxh_run_free(&r);
		cr_assert_eq(chown(s.spool, 0, 0), 0);
	}
	/* A subdirectory replaced by a symlink. */
	{
		char *elsewhere = dxh_tmpdir();

		cr_assert_eq(rmdir(sub), 0);
		cr_assert_eq(symlink(elsewhere, sub), 0);
		dxh_run_argv(&r, argv, &o);
		cr_expect_eq(r.status, 2, "exit %d: %s", r.status, r.err);
		cr_expect(strstr(r.err, "symlink") != NULL, "%s", r.err);
		dxh_run_free(&r);
		free(elsewhere);
	}
	free(sub);
	su_free(&s);
}
