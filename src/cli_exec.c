/*
 * cli_exec.c - "dronex exec": one queue job per selected drone (jobs.h,
 * over the targets cli_resolve() gives), the queue run with the SSH
 * executor, and the results printed (output.h), each drone's host, port
 * and user taken from its target.
 *
 * Signals: SIGINT, SIGTERM and SIGHUP are blocked in every thread and
 * taken by one signal thread (sigwait), which aborts the queue; a second
 * SIGINT ends the process at once.  SIGHUP is SIGTERM's twin, as for a
 * terminal that closed: the run is cut and its results printed.  The main
 * thread stops the signal thread with SIGUSR2 after setting "stopping";
 * a SIGUSR2 from anyone else finds "stopping" unset and is ignored, so it
 * cannot switch Ctrl-C off.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_int.h"
#include "dronex.h"
#include "inventory.h"
#include "jobs.h"
#include "output.h"
#include "ssh_exec.h"

/* Descriptors dronex needs besides the drones' sockets. */
#define CLI_FD_RESERVE		16

/*
 * --stdin FILE|-: the bytes, read once, that every call gets on its
 * standard input.  "-" may be a pipe, a FIFO or a terminal: the user asked
 * for it.  More than CLI_MAX_STDIN is refused rather than cut.  exec and
 * submit read it through this.
 */
int
cli_read_stdin(const char *path, char **data, size_t *len)
{
	const char *name = strcmp(path, "-") == 0 ? "standard input" : path;
	char *buf = NULL, *nb;
	size_t n = 0, cap = 0;
	struct stat st;
	ssize_t r;
	int fd, rc = -1;

	*data = NULL;
	*len = 0;
	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		cli_fail("option '--stdin': cannot open '%s': %s", path,
		    strerror(errno));
		return -1;
	}
	if (fd != STDIN_FILENO && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		cli_fail("option '--stdin': '%s' is a directory", path);
		goto out;
	}
	for (;;) {
		if (n == cap) {
			/* One byte beyond the limit tells "too large" apart. */
			if (cap > CLI_MAX_STDIN)
				break;
			cap = cap ? cap * 2 : 65536;
			if (cap > CLI_MAX_STDIN + 1)
				cap = CLI_MAX_STDIN + 1;
			if ((nb = realloc(buf, cap)) == NULL) {
				cli_fail("out of memory reading %s", name);
				goto out;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			cli_fail("option '--stdin': cannot read %s: %s", name,
			    strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > CLI_MAX_STDIN) {
		cli_fail("option '--stdin': %s is larger than %zu MiB", name,
		    CLI_MAX_STDIN >> 20);
		goto out;
	}
	*data = buf;
	*len = n;
	buf = NULL;
	rc = 0;
out:
	if (fd != STDIN_FILENO)
		close(fd);
	free(buf);
	return rc;
}

/*
 * Open files: raise the soft limit to the hard one, then refuse a fan-out
 * that cannot be served, rather than fail drones at random mid-run.  Each
 * drone in flight holds its socket, its fan-out slot's abort descriptor
 * (queue.c), and an ssh-agent socket while it authenticates.  An explicit
 * --fanout is refused; the default is lowered.
 */
static int
cli_check_fds(struct cli_opts *o)
{
	struct rlimit rl;
	size_t per = getenv("SSH_AUTH_SOCK") ? 3 : 2, can;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t want = rl.rlim_max;

		if (want == RLIM_INFINITY || want > 1048576)
			want = 1048576;
		if (want > rl.rlim_cur) {
			rl.rlim_cur = want;
			(void)setrlimit(RLIMIT_NOFILE, &rl);
			(void)getrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	if (rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= (rlim_t)(o->fanout * per + CLI_FD_RESERVE))
		return 0;
	can = rl.rlim_cur > CLI_FD_RESERVE + per ?
	    (size_t)(rl.rlim_cur - CLI_FD_RESERVE) / per : 0;
	if (o->fanout_given || can == 0) {
		cli_fail("fan-out %zu needs about %zu open files, but the limit is %llu "
		    "(ulimit -n); use --fanout %zu or raise the limit", o->fanout,
		    o->fanout * per + CLI_FD_RESERVE, (unsigned long long)rl.rlim_cur,
		    can ? can : 1);
		return -1;
	}
	o->fanout = can;
	return 0;
}

/* The signal thread and the state it shares with the main thread. */
struct cli_sig {
	pthread_t	 thread;
	struct dx_queue	*queue;
	struct dx_out	*out;		/* its progress line is erased at once */
	bool		 progress;	/* a progress line may be on stderr */
	atomic_int	 interrupted;
	atomic_bool	 stopping;	/* set before the main thread's SIGUSR2 */
	sigset_t	 set;		/* SIGINT, SIGTERM, SIGHUP, SIGUSR2 */
};

static void *
cli_sig_main(void *arg)
{
	struct cli_sig *s = arg;
	int sig;

	for (;;) {
		if (sigwait(&s->set, &sig) != 0)
			continue;
		/* Only the main thread's SIGUSR2 stops; a stray one is ignored. */
		if (sig == SIGUSR2) {
			if (atomic_load(&s->stopping))
				return NULL;
			continue;
		}
		/*
		 * A second SIGINT means "now": no waiting for teardown, and
		 * no progress text left behind on the terminal either.
		 */
		if (atomic_exchange(&s->interrupted, 1) && sig == SIGINT) {
			if (s->progress)
				(void)!write(STDERR_FILENO, "\r\033[K", 4);
			_exit(DX_EXIT_INTERRUPTED);
		}
		/* The results come next: the counts are stale from now on. */
		dx_out_progress_stop(s->out);
		dx_queue_abort(s->queue, DX_INTERRUPTED);
	}
}

struct cli_run {
	struct dx_out	*out;
	const struct dx_target *targets; /* targets[index]: job index's */
	struct dx_err	 err;		/* the first output failure */
};

static void
cli_done(void *arg, size_t index, const struct dx_job *job, struct dx_result *res)
{
	struct cli_run *r = arg;
	const struct dx_target *t = &r->targets[index];

	if (r->err.kind == DX_OK)
		(void)dx_out_drone(r->out, index, job->name, t->host, t->port,
		    t->user, res, &r->err);
}

int
cli_exec(int argc, char **argv)
{
	struct cli_opts o;
	struct dx_inventory inv = { 0 };
	struct dx_err err = { 0 };
	struct dx_queue_opts qo;
	struct dx_ssh_opts so;
	struct dx_out_opts oo;
	struct dx_summary sum;
	struct dx_queue *q = NULL;
	struct dx_ssh *ssh = NULL;
	struct dx_out *out = NULL;
	struct cli_sig sig = { 0 };
	struct cli_run run = { 0 };
	struct dx_jobs jobs = { 0 };
	struct dx_target *targets = NULL;
	const char *cmd[1];
	size_t *idx = NULL, *own = NULL, n = 0;
	bool sig_started = false;
	const char *term;
	char *stdin_data = NULL;
	size_t stdin_len = 0;
	char *error = NULL;
	char digest[17] = "";		/* the run digest, with a shard */
	int64_t t0, wall0;
	struct timeval tv;
	int rc = DX_EXIT_USAGE, r;

	if ((r = cli_parse(argc, argv, &o)) != 0) {
		rc = r == 1 ? DX_EXIT_OK : DX_EXIT_USAGE;
		goto out;
	}
	if (o.list_only != NULL) {
		cli_fail("option '%s' does nothing for 'dronex exec'", o.list_only);
		goto out;
	}
	if (cli_resolve_run(&o, &inv, &idx, &targets, &n, digest) == -1)
		goto out;
	if (o.command == NULL) {
		size_t with_calls = 0;

		for (size_t i = 0; i < n; i++)
			with_calls += inv.drones[idx[i]].ncalls > 0;
		if (n > 0 && with_calls == 0) {
			cli_fail("nothing to run: give a command after the options, "
			    "or calls in the inventory");
			goto out;
		}
	}
	if (o.fanout > n && n > 0 && !o.fanout_given)
		o.fanout = n;
	if (cli_check_fds(&o) == -1)
		goto out;
	if (o.stdin_path != NULL &&
	    cli_read_stdin(o.stdin_path, &stdin_data, &stdin_len) == -1)
		goto out;
	if (dx_global_init(&err) == -1) {
		cli_fail("%s", err.msg);
		rc = DX_EXIT_FAILED;
		goto out;
	}

	memset(&so, 0, sizeof(so));
	so.call_timeout_ms = o.timeout_ms;
	so.max_output = o.max_output;
	/* No --stdin: NULL, and every call's stdin gets EOF at once. */
	so.stdin_data = stdin_data;
	so.stdin_len = stdin_len;
	memset(&qo, 0, sizeof(qo));
	qo.fanout = o.fanout;
	qo.deadline_ms = o.deadline_ms;
	qo.retries = o.retries;
	qo.retry_delay_ms = o.retry_delay_ms;
	qo.max_failures = o.max_failures;
	qo.fail_fast = o.fail_fast;
	memset(&oo, 0, sizeof(oo));
	oo.format = o.format;
	oo.pretty = o.pretty;
	if (o.progress == -1 ? isatty(STDERR_FILENO) && !o.quiet : o.progress)
		oo.progress = stderr;
	oo.stream = stdout;
	/*
	 * Colour for people only: text on a terminal, and never with
	 * NO_COLOR set (to anything, https://no-color.org) or TERM=dumb.
	 */
	term = getenv("TERM");
	oo.color = o.format == DX_FMT_TEXT && isatty(STDOUT_FILENO) &&
	    getenv("NO_COLOR") == NULL && (term == NULL || strcmp(term, "dumb") != 0);
	/* Text gathers the command line's calls, after each drone's own. */
	if (o.format == DX_FMT_TEXT && o.command != NULL) {
		if ((own = calloc(n + 1, sizeof(*own))) == NULL) {
			cli_fail("out of memory");
			rc = DX_EXIT_FAILED;
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			own[i] = inv.drones[idx[i]].ncalls;
		oo.own_calls = own;
	}
	/*
	 * The weakest check in force (ssh_config may relax it per drone): an
	 * "off" anywhere is reported, never hidden behind the option's value.
	 */
	{
		enum dx_hostkey_policy weakest = o.hostkey;

		for (size_t i = 0; i < n; i++)
			if (targets[i].hostkey_policy > weakest)
				weakest = targets[i].hostkey_policy;
		oo.host_key_check = dx_hostkey_policy_name(weakest);
	}
	oo.ndrones = n;
	oo.shard = o.shard[0] != '\0' ? o.shard : NULL;
	oo.run = digest[0] != '\0' ? digest : NULL;
	gettimeofday(&tv, NULL);
	wall0 = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
	oo.started_ms = wall0;

	/*
	 * Workers inherit this mask: only the signal thread sees the
	 * signals.  Blocked before the progress line first shows, so that
	 * a Ctrl-C the user sends on seeing it waits for the signal thread
	 * instead of killing the process without results.
	 */
	sigemptyset(&sig.set);
	sigaddset(&sig.set, SIGINT);
	sigaddset(&sig.set, SIGTERM);
	sigaddset(&sig.set, SIGHUP);
	sigaddset(&sig.set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &sig.set, NULL);

	rc = DX_EXIT_FAILED;
	if ((ssh = dx_ssh_new(&so, &err)) == NULL ||
	    (q = dx_queue_new(&qo, dx_ssh_exec, ssh, &err)) == NULL ||
	    (out = dx_out_new(&oo, &err)) == NULL) {
		cli_fail("%s", err.msg);
		goto out;
	}
	/* The drone's own calls first, then the command line's. */
	cmd[0] = o.command;
	if (dx_jobs_build(&jobs, &inv, idx, targets, n, cmd,
	    o.command != NULL ? 1 : 0, &err) == -1) {
		cli_fail("%s", err.msg);
		goto out;
	}
	for (size_t i = 0; i < jobs.n; i++)
		if (dx_queue_add(q, &jobs.v[i], &err) == -1) {
			cli_fail("%s", err.msg);
			goto out;
		}

	sig.queue = q;
	sig.out = out;
	sig.progress = oo.progress != NULL;
	if (pthread_create(&sig.thread, NULL, cli_sig_main, &sig) != 0) {
		cli_fail("cannot start the signal thread");
		goto out;
	}
	sig_started = true;

	run.out = out;
	run.targets = targets;
	t0 = dx_now_ms();
	if (dx_queue_run(q, cli_done, &run, &err) == -1) {
		cli_fail("%s", err.msg);
		goto out;
	}
	dx_queue_summary(q, &sum);
	error = dx_queue_error(q);
	if (run.err.kind != DX_OK ||
	    dx_out_finish(out, &sum, error, dx_now_ms() - t0, &run.err) == -1) {
		cli_fail("%s", run.err.msg);
		rc = run.err.kind == DX_OUTPUT ? DX_EXIT_OUTPUT : DX_EXIT_FAILED;
		goto out;
	}
	/* Names and messages may hold what a drone sent: escaped here too. */
	if (error != NULL && o.quiet)
		dx_out_error_line(stderr, error);
	else if (error != NULL)
		for (size_t i = 0; i < n; i++) {
			const struct dx_outcome *oc = dx_queue_outcome(q, i);

			if (oc->status != DX_ST_OK)
				dx_out_failure_line(stderr, dx_queue_job(q, i)->name,
				    oc->status, oc->error.kind, oc->error.msg);
		}
	/* The summary decides, not the message (NULL when out of memory). */
	rc = sum.failed + sum.skipped == 0 ? DX_EXIT_OK : DX_EXIT_FAILED;
	if (atomic_load(&sig.interrupted))
		rc = DX_EXIT_INTERRUPTED;
out:
	if (sig_started) {
		atomic_store(&sig.stopping, true);
		pthread_kill(sig.thread, SIGUSR2);
		pthread_join(sig.thread, NULL);
	}
	free(error);
	dx_out_free(out);
	free(own);
	dx_queue_free(q);
	dx_ssh_free(ssh);
	dx_jobs_release(&jobs);
	cli_targets_free(targets, n);
	free(idx);
	free(stdin_data);
	cli_opts_release(&o);
	dx_inventory_release(&inv);
	return rc;
}

