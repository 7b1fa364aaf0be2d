/*
 * scheduler.c - a small C scheduler on libdronex's public API (dronex.h).
 *
 * Each tick runs one command on every drone of an inventory, in parallel
 * over SSH, and prints one line per drone as it finishes: its name, its
 * status and the command's exit status ("-" when none arrived), then the
 * error when it failed.  With -j the line is the drone's result as JSON
 * instead, the object "dronex exec" prints plus "tick" and "name".  The
 * scheduler sleeps between ticks, and exits 1 if any drone failed in any
 * tick, 2 on a usage, inventory or library error.
 *
 *   cc -o scheduler scheduler.c $(pkg-config --cflags --libs dronex)
 *   ./scheduler [-j] [-n TICKS] [-s SECONDS] INVENTORY [COMMAND]
 *
 * Each drone's settings are resolved once (dx_target_resolve()), its jobs
 * built once (dx_jobs_build(): its own inventory calls, then COMMAND).
 * One dx_ssh (the executor's shared state: known_hosts files, identity
 * files read once) and one long-lived queue serve every tick: the queue
 * is started once, each tick adds every drone's job again and waits for
 * their results, which the done callback handles on the queue's own
 * dispatcher thread, one at a time.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dronex.h>

/*
 * What the done callback needs, and what it counts.  The main thread
 * writes tick and reads failed only between a tick's dx_queue_wait() and
 * the next tick's first add, when no callback runs.
 */
struct sched_tick {
	int		 tick;
	bool		 json;
	size_t		 failed;	/* drones not ok in this tick */
};

/*
 * Called on the queue's dispatcher thread, once per job, in the order
 * drones finish.  The result is only read here; the queue releases it
 * when this returns.
 */
static void
sched_done(void *arg, size_t index, const struct dx_job *job, struct dx_result *res)
{
	struct sched_tick *t = arg;
	const struct dx_target *d = job->drone;
	char exit_status[16] = "-", *line = NULL;
	json_t *o;

	(void)index;
	if (res->status != DX_ST_OK)
		t->failed++;
	if (t->json) {
		/* A new reference: ours to release. */
		o = dx_result_json(d->host, d->port, d->user, res);
		if (o != NULL && json_object_set_new(o, "tick", json_integer(t->tick)) == 0 &&
		    json_object_set_new(o, "name", json_string(job->name)) == 0)
			line = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		if (line == NULL) {
			fprintf(stderr, "scheduler: out of memory encoding '%s'\n", job->name);
			t->failed++;
			return;
		}
		printf("%s\n", line);
		free(line);
	} else {
		if (res->ncalls > 0 && res->calls[0].exit_status >= 0)
			snprintf(exit_status, sizeof(exit_status), "%d",
			    res->calls[0].exit_status);
		printf("tick %d: %s %s exit %s", t->tick, job->name,
		    dx_status_name(res->status), exit_status);
		if (res->error.kind != DX_OK)
			printf(" (%s: %s)", dx_kind_name(res->error.kind), res->error.msg);
		printf("\n");
	}
	fflush(stdout);
}

/* One tick: every drone's job added again, then wait for their results. */
static int
sched_tick(struct dx_queue *q, const struct dx_jobs *jobs, struct dx_err *err)
{
	for (size_t i = 0; i < jobs->n; i++)
		if (dx_queue_add(q, &jobs->v[i], err) != 0)
			return -1;
	return dx_queue_wait(q, err);
}

int
main(int argc, char **argv)
{
	struct dx_ssh_opts so = { .call_timeout_ms = 60000, .max_output = 64 * 1024 };
	struct dx_queue_opts qo = { .fanout = 16 };
	struct sched_tick t = { 0 };
	struct dx_inventory inv;
	struct dx_target *targets = NULL;
	struct dx_jobs jobs;
	struct dx_ssh *ssh = NULL;
	struct dx_queue *q = NULL;
	size_t *idx = NULL, nt = 0;
	struct dx_err err;
	struct timespec pause;
	const char *calls[1] = { "uptime" };
	double secs = 1.0;
	bool json = false, failed = false;
	int c, tick, ticks = 3, rc = 2;

	memset(&inv, 0, sizeof(inv));
	memset(&jobs, 0, sizeof(jobs));
	while ((c = getopt(argc, argv, "jn:s:")) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'n':
			ticks = atoi(optarg);
			break;
		case 's':
			secs = strtod(optarg, NULL);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind < 1 || argc - optind > 2 || ticks < 1 || secs < 0)
		goto usage;
	if (argc - optind == 2)
		calls[0] = argv[optind + 1];
	pause.tv_sec = (time_t)secs;
	pause.tv_nsec = (long)((secs - (double)pause.tv_sec) * 1e9);

	/* Once, before any thread; then the inventory, then the executor. */
	dx_err_clear(&err);
	if (dx_global_init(&err) != 0 ||
	    dx_inventory_load(&inv, argv[optind], &err) != 0)
		goto fail;
	/* Every drone's effective settings (no ssh_config, no overrides). */
	if ((targets = calloc(inv.n + 1, sizeof(*targets))) == NULL ||
	    (idx = calloc(inv.n + 1, sizeof(*idx))) == NULL) {
		dx_err_set(&err, DX_INTERNAL, "out of memory");
		goto fail;
	}
	for (nt = 0; nt < inv.n; nt++) {
		idx[nt] = nt;
		if (dx_target_resolve(&targets[nt], &inv, &inv.drones[nt], NULL, NULL,
		    &err) != 0)
			goto fail;
	}
	t.json = json;
	if (dx_jobs_build(&jobs, &inv, idx, targets, inv.n, calls, 1, &err) != 0 ||
	    (ssh = dx_ssh_new(&so, &err)) == NULL ||
	    (q = dx_queue_new(&qo, dx_ssh_exec, ssh, &err)) == NULL ||
	    dx_queue_start(q, sched_done, &t, &err) != 0)
		goto fail;
	for (tick = 1; tick <= ticks; tick++) {
		if (tick > 1)
			nanosleep(&pause, NULL);
		t.tick = tick;
		t.failed = 0;
		if (sched_tick(q, &jobs, &err) != 0)
			goto fail;
		if (t.failed > 0)
			failed = true;
	}
	if (dx_queue_stop(q, &err) != 0)
		goto fail;
	rc = failed ? 1 : 0;
	goto out;
usage:
	fprintf(stderr, "usage: scheduler [-j] [-n TICKS] [-s SECONDS] INVENTORY [COMMAND]\n");
	goto out;
fail:
	fprintf(stderr, "scheduler: %s: %s\n", dx_kind_name(err.kind), err.msg);
out:
	/* The queue first: its jobs point into the targets and the inventory. */
	dx_queue_free(q);
	dx_ssh_free(ssh);
	dx_jobs_release(&jobs);
	while (nt > 0)
		dx_target_release(&targets[--nt]);
	free(targets);
	free(idx);
	dx_inventory_release(&inv);
	return rc;
}
