/*
 * test_library.c - libdronex as a scheduler links it (SPEC 1): the queue
 * driven by the real SSH executor against the test sshd, run twice in one
 * process.  A long-lived scheduler runs the queue tick after tick, so a
 * run must hand back every descriptor and every thread it took, whatever
 * its drones did: here good drones, refused ports and a listener that
 * never speaks SSH, at fan-out 32.
 */
#include "config.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "dronex.h"
#include "inventory.h"
#include "ssh_exec.h"

#include "faults_util.h"
#include "harness.h"

#define LB_DRONES	100

/* Entries in a /proc directory, "." and ".." (and our own fd) aside. */
static int
lb_count(const char *path)
{
	struct dirent *e;
	DIR *d;
	int n = 0;

	cr_assert((d = opendir(path)) != NULL, "opendir '%s'", path);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

enum lb_kind { LB_GOOD, LB_REFUSED, LB_SILENT };

static enum lb_kind
lb_kind_of(size_t i)
{
	return i % 5 == 1 ? LB_REFUSED : i % 5 == 2 ? LB_SILENT : LB_GOOD;
}

struct lb_tally {
	size_t		 done;
	size_t		 right;
	char		 first_wrong[300];
};

static void
lb_done(void *arg, size_t index, const struct dx_job *job, struct dx_result *res)
{
	static const enum dx_kind want[] = {
		[LB_GOOD] = DX_OK, [LB_REFUSED] = DX_CONNECT_REFUSED,
		[LB_SILENT] = DX_HANDSHAKE,
	};
	static const enum dx_status want_st[] = {
		[LB_GOOD] = DX_ST_OK, [LB_REFUSED] = DX_ST_FAILED,
		[LB_SILENT] = DX_ST_FAILED,
	};
	struct lb_tally *t = arg;
	enum lb_kind k = lb_kind_of(index);

	t->done++;
	if (res->status == want_st[k] && res->error.kind == want[k])
		t->right++;
	else if (t->first_wrong[0] == '\0')
		snprintf(t->first_wrong, sizeof(t->first_wrong), "%s: %s %s: %s",
		    job->name, dx_status_name(res->status),
		    dx_kind_name(res->error.kind), res->error.msg);
}

Test(library, two_queue_runs_hand_back_every_descriptor_and_thread, .timeout = 90)
{
	static const char *const calls[] = { "true" };
	struct dx_inventory inv;
	struct dx_target_cli tc = { .connect_timeout_ms = 5000 };
	struct dx_target *targets;
	struct dx_err err;
	json_t *doc, *drones;
	char *text, name[32];
	int closed, silent_fd, silent_port, fds0, tasks0, run;
	size_t i;

	dx_err_clear(&err);
	cr_assert_eq(dx_global_init(&err), 0, "%s", err.msg);
	closed = dxh_closed_port();
	silent_fd = dxh_silent_listener(&silent_port);

	drones = json_array();
	for (i = 0; i < LB_DRONES; i++) {
		int port = atoi(dxh_env("DX_TEST_PORT"));

		if (lb_kind_of(i) == LB_REFUSED)
			port = closed;
		else if (lb_kind_of(i) == LB_SILENT)
			port = silent_port;
		snprintf(name, sizeof(name), "d-%03zu", i);
		json_array_append_new(drones, json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}",
		    "name", name, "host", "127.0.0.1", "port", port,
		    "user", dxh_env("DX_TEST_USER"), "identity", dxh_env("DX_TEST_KEY"),
		    "known_hosts", dxh_env("DX_TEST_KNOWN_HOSTS")));
	}
	doc = json_pack("{s:o}", "drones", drones);
	cr_assert((text = json_dumps(doc, 0)) != NULL);
	memset(&inv, 0, sizeof(inv));
	cr_assert_eq(dx_inventory_parse(&inv, text, strlen(text), "test", &err), 0,
	    "%s", err.msg);
	cr_assert_eq(inv.n, (size_t)LB_DRONES);
	/* Each drone's settings, resolved once, as the CLI resolves them. */
	targets = calloc(inv.n, sizeof(*targets));
	cr_assert_not_null(targets);
	for (i = 0; i < inv.n; i++)
		cr_assert_eq(dx_target_resolve(&targets[i], &inv, &inv.drones[i], NULL,
		    &tc, &err), 0, "%s", err.msg);

	fds0 = lb_count("/proc/self/fd");
	tasks0 = lb_count("/proc/self/task");
	for (run = 1; run <= 2; run++) {
		struct dx_ssh_opts so = {
			.call_timeout_ms = 10000, .max_output = 1024 * 1024,
		};
		struct dx_queue_opts qo = { .fanout = 32 };
		struct lb_tally t = { 0 };
		struct dx_summary sum;
		struct dx_ssh *ssh;
		struct dx_queue *q;
		double start = dxh_now();

		ssh = dx_ssh_new(&so, &err);
		cr_assert_not_null(ssh, "%s", err.msg);
		q = dx_queue_new(&qo, dx_ssh_exec, ssh, &err);
		cr_assert_not_null(q, "%s", err.msg);
		for (i = 0; i < inv.n; i++) {
			struct dx_job job = {
				.name = inv.drones[i].name,
				.priority = inv.drones[i].priority,
				.drone = &targets[i],
				.calls = calls, .ncalls = 1,
			};

			cr_assert_eq(dx_queue_add(q, &job, &err), 0, "%s", err.msg);
		}
		cr_assert_eq(dx_queue_run(q, lb_done, &t, &err), 0, "%s", err.msg);
		dx_queue_summary(q, &sum);
		cr_log_info("run %d: %.2f s, peak %zu threads", run, dxh_now() - start,
		    dx_queue_peak_running(q));
		cr_expect_leq(dx_queue_peak_running(q), 32);
		dx_queue_free(q);
		dx_ssh_free(ssh);

		cr_expect_eq(t.done, (size_t)LB_DRONES, "run %d: %zu results", run, t.done);
		cr_expect_eq(t.right, (size_t)LB_DRONES, "run %d: %zu right; first wrong %s",
		    run, t.right, t.first_wrong);
		cr_expect_eq(sum.ok, 60, "run %d", run);
		cr_expect_eq(sum.failed, 40, "run %d", run);
		cr_expect_eq(lb_count("/proc/self/fd"), fds0,
		    "run %d: %d descriptors open, %d before the first run", run,
		    lb_count("/proc/self/fd"), fds0);
		cr_expect_eq(lb_count("/proc/self/task"), tasks0,
		    "run %d: %d threads, %d before the first run", run,
		    lb_count("/proc/self/task"), tasks0);
	}
	for (i = 0; i < inv.n; i++)
		dx_target_release(&targets[i]);
	free(targets);
	dx_inventory_release(&inv);
	json_decref(doc);
	free(text);
	close(silent_fd);
}

/* What the done callback of the long-lived queue below saw, per job. */
struct lb_seen {
	pthread_mutex_t	 lock;
	bool		 done[2];
	enum dx_status	 status[2];
	enum dx_kind	 kind[2];
};

static void
lb_seen_done(void *arg, size_t index, const struct dx_job *job, struct dx_result *res)
{
	struct lb_seen *s = arg;

	(void)job;
	if (index >= 2)
		return;
	pthread_mutex_lock(&s->lock);
	s->done[index] = true;
	s->status[index] = res->status;
	s->kind[index] = res->error.kind;
	pthread_mutex_unlock(&s->lock);
}

static bool
lb_seen_wait(struct lb_seen *s, size_t index, double timeout)
{
	double end = dxh_now() + timeout;
	bool done;

	for (;;) {
		pthread_mutex_lock(&s->lock);
		done = s->done[index];
		pthread_mutex_unlock(&s->lock);
		if (done || dxh_now() >= end)
			return done;
		usleep(20 * 1000);
	}
}

/*
 * A long-lived queue fed by a scheduler: two jobs run real commands on the
 * suite's sshd; aborting one cuts its call and ends the command on the
 * drone, while the other goes on untouched.
 */
Test(library, aborting_one_running_job_ends_its_command_and_spares_the_other,
    .timeout = 60)
{
	static const char *const calls_a[] = { "sleep 41.5" };
	static const char *const calls_b[] = { "sleep 42.5" };
	struct dx_ssh_opts so = { .max_output = 4096 };
	struct dx_target_cli tc = { .connect_timeout_ms = 5000 };
	struct dx_queue_opts qo = { .fanout = 4 };
	struct lb_seen seen = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct dx_inventory inv;
	struct dx_target t[2];
	struct dx_err err;
	struct dx_ssh *ssh;
	struct dx_queue *q;
	size_t ida, idb;
	json_t *doc;
	char *text;

	cr_assert_eq(dxh_count_procs("sleep 41.5"), 0, "a 'sleep 41.5' is already running");
	cr_assert_eq(dxh_count_procs("sleep 42.5"), 0, "a 'sleep 42.5' is already running");
	dx_err_clear(&err);
	cr_assert_eq(dx_global_init(&err), 0, "%s", err.msg);
	doc = dxh_inv_new(2);
	cr_assert((text = json_dumps(doc, 0)) != NULL);
	memset(&inv, 0, sizeof(inv));
	cr_assert_eq(dx_inventory_parse(&inv, text, strlen(text), "test", &err), 0,
	    "%s", err.msg);
	for (size_t i = 0; i < 2; i++)
		cr_assert_eq(dx_target_resolve(&t[i], &inv, &inv.drones[i], NULL, &tc,
		    &err), 0, "%s", err.msg);
	cr_assert_not_null(ssh = dx_ssh_new(&so, &err), "%s", err.msg);
	cr_assert_not_null(q = dx_queue_new(&qo, dx_ssh_exec, ssh, &err), "%s", err.msg);
	cr_assert_eq(dx_queue_start(q, lb_seen_done, &seen, &err), 0, "%s", err.msg);
	{
		struct dx_job a = { .name = inv.drones[0].name, .drone = &t[0],
		    .calls = calls_a, .ncalls = 1 };
		struct dx_job b = { .name = inv.drones[1].name, .drone = &t[1],
		    .calls = calls_b, .ncalls = 1 };

		cr_assert_eq(dx_queue_submit(q, &a, &ida, &err), 0, "%s", err.msg);
		cr_assert_eq(dx_queue_submit(q, &b, &idb, &err), 0, "%s", err.msg);
	}
	cr_expect_eq(fu_wait_count("sleep 41.5", 1, 10), 1, "job a never started");
	cr_expect_eq(fu_wait_count("sleep 42.5", 1, 10), 1, "job b never started");

	cr_assert_eq(dx_queue_abort_job(q, ida, DX_INTERRUPTED, &err), 0, "%s", err.msg);
	cr_expect(lb_seen_wait(&seen, 0, 10), "the aborted job never finished");
	cr_expect_eq(seen.status[0], DX_ST_FAILED);
	cr_expect_eq(seen.kind[0], DX_INTERRUPTED, "kind %s", dx_kind_name(seen.kind[0]));
	cr_expect_eq(fu_wait_count("sleep 41.5", 0, 5), 0,
	    "the aborted job's command is still running on the drone");
	/* The other job is untouched: still running, its command too. */
	cr_expect_not(lb_seen_wait(&seen, 1, 0.5), "aborting job a ended job b");
	cr_expect_eq(dxh_count_procs("sleep 42.5"), 1, "job b's command was ended too");

	cr_assert_eq(dx_queue_abort_job(q, idb, DX_INTERRUPTED, &err), 0, "%s", err.msg);
	cr_assert_eq(dx_queue_wait(q, &err), 0, "%s", err.msg);
	cr_expect_eq(fu_wait_count("sleep 42.5", 0, 5), 0);
	dx_queue_free(q);
	dx_ssh_free(ssh);
	for (size_t i = 0; i < 2; i++)
		dx_target_release(&t[i]);
	dx_inventory_release(&inv);
	json_decref(doc);
	free(text);
}
