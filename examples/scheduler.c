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
 * One dx_ssh (the executor's shared state: options, known_hosts files,
 * identity files read once) serves every tick; each tick is one queue
 * run, whose results are handled in the done callback on this thread.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dronex.h>

/* What the done callback of one tick needs, and what it counts. */
struct sched_tick {
	int		 tick;
	bool		 json;
	size_t		 failed;	/* drones not ok in this tick */
};

/*
 * Called on the thread that runs dx_queue_run(), once per drone, in the
 * order drones finish.  The result is only read here; the queue releases
 * it when this returns.
 */
static void
sched_done(void *arg, size_t index, const struct dx_job *job, struct dx_result *res)
{
	struct sched_tick *t = arg;
	const struct dx_drone *d = job->drone;
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

/* One tick: a queue of every drone, run to the end. */
static int
sched_tick(struct dx_ssh *ssh, const struct dx_inventory *inv,
    const char *const *calls, struct sched_tick *t, struct dx_err *err)
{
	struct dx_queue_opts qo = { .fanout = 16, .deadline_ms = 300000 };
	struct dx_queue *q;
	char *why;
	size_t i;
	int rc = -1;

	if ((q = dx_queue_new(&qo, dx_ssh_exec, ssh, err)) == NULL)
		return -1;
	for (i = 0; i < inv->n; i++) {
		/* The job borrows the drone and its strings from inv. */
		struct dx_job job = {
			.name = inv->drones[i].name,
			.priority = inv->drones[i].priority,
			.drone = &inv->drones[i],
			.calls = calls, .ncalls = 1,
		};

		if (dx_queue_add(q, &job, err) != 0)
			goto out;
	}
	if (dx_queue_run(q, sched_done, t, err) != 0)
		goto out;
	/* "1 of 2 drones failed: db-1 (auth)", or NULL when all are ok. */
	if ((why = dx_queue_error(q)) != NULL) {
		fprintf(stderr, "scheduler: tick %d: %s\n", t->tick, why);
		free(why);
	}
	rc = 0;
out:
	dx_queue_free(q);
	return rc;
}

int
main(int argc, char **argv)
{
	struct dx_ssh_opts so = {
		.connect_timeout_ms = 10000, .call_timeout_ms = 60000,
		.max_output = 64 * 1024, .hostkey_policy = DX_HKC_STRICT,
		.keepalive_s = 15,
	};
	struct dx_inventory inv;
	struct dx_ssh *ssh = NULL;
	struct dx_err err;
	struct timespec pause;
	const char *calls[1] = { "uptime" };
	double secs = 1.0;
	bool json = false, failed = false;
	int c, tick, ticks = 3, rc = 2;

	memset(&inv, 0, sizeof(inv));
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
	    dx_inventory_load(&inv, argv[optind], &err) != 0 ||
	    (ssh = dx_ssh_new(&so, &err)) == NULL)
		goto fail;
	for (tick = 1; tick <= ticks; tick++) {
		struct sched_tick t = { .tick = tick, .json = json };

		if (tick > 1)
			nanosleep(&pause, NULL);
		if (sched_tick(ssh, &inv, calls, &t, &err) != 0)
			goto fail;
		if (t.failed > 0)
			failed = true;
	}
	rc = failed ? 1 : 0;
	goto out;
usage:
	fprintf(stderr, "usage: scheduler [-j] [-n TICKS] [-s SECONDS] INVENTORY [COMMAND]\n");
	goto out;
fail:
	fprintf(stderr, "scheduler: %s: %s\n", dx_kind_name(err.kind), err.msg);
out:
	dx_ssh_free(ssh);
	dx_inventory_release(&inv);
	return rc;
}
