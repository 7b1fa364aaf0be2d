/*
 * cli_spool.c - the clients of "dronex serve" (SPEC section 7): submit,
 * wait and abort here, with the parts every client shares; status and the
 * control commands (pause, resume, resize, priority) in cli_spool_ctl.c;
 * printing a result as exec would in cli_spool_out.c.  They talk to
 * serve only through the spool directory (spool.h): a request file in
 * requested/, a result in complete/, an empty aborting/ID, a control file
 * and its reply in control/, and status.json.
 *
 * Waiting never spins: the client watches the directory with inotify and
 * sleeps in poll() until a name appears there or its time runs out (where
 * inotify is not available, it looks again every quarter second).
 *
 * Exit statuses: as exec's (cli.h) for submit and wait; 4 when wait timed
 * out and aborted the request; 1 when serve refused a control operation,
 * did not answer, or is not running; 2 for usage errors.
 */
#include "config.h"

#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "cli_int.h"
#include "dronex.h"
#include "fileio.h"
#include "request.h"
#include "spool.h"
#include "cli_spool_int.h"

/* The spool directory: --spool, else $DRONEX_SPOOL; NULL (printed). */
const char *
cli_spool_dir(const char *given)
{
	const char *d = given;

	if (d == NULL || d[0] == '\0')
		d = getenv("DRONEX_SPOOL");
	if (d == NULL || d[0] == '\0') {
		cli_fail("no spool: give --spool DIR or set DRONEX_SPOOL");
		return NULL;
	}
	return d;
}

struct dx_spool *
cli_spool_open(const char *dir, bool create)
{
	struct dx_spool *sp;
	struct dx_err err = { 0 };

	if (dx_spool_open(&sp, dir, create, &err) == -1) {
		cli_fail("%s", err.msg);
		return NULL;
	}
	return sp;
}

/*
 * Waiting for a name in a spool directory.
 */

void
cli_spool_watch_start(struct cli_spool_watch *w, struct dx_spool *sp, const char *sub)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dx_spool_path(sp), sub);
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd != -1 && inotify_add_watch(w->fd, path, IN_CREATE | IN_MOVED_TO |
	    IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR) == -1) {
		close(w->fd);
		w->fd = -1;
	}
}

void
cli_spool_watch_stop(struct cli_spool_watch *w)
{
	if (w->fd != -1)
		close(w->fd);
	w->fd = -1;
}

/* Sleeps until something changes in the directory or deadline (monotonic ms). */
void
cli_spool_watch_sleep(struct cli_spool_watch *w, int64_t deadline)
{
	struct pollfd pfd = { .fd = w->fd, .events = POLLIN };
	int64_t left = deadline == 0 ? -1 : deadline - dx_now_ms();
	char buf[4096];

	if (deadline != 0 && left <= 0)
		return;
	if (w->fd == -1) {
		poll(NULL, 0, left == -1 || left > 250 ? 250 : (int)left);
		return;
	}
	if (poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left) > 0)
		while (read(w->fd, buf, sizeof(buf)) > 0)
			;
}

/*
 * Parsing the small commands' options: each command takes --spool and
 * the ones its mask allows.
 */


static const struct option spool_longopts[] = {
	{ "spool", required_argument, NULL, 's' },
	{ "timeout", required_argument, NULL, 't' },
	{ "format", required_argument, NULL, 'F' },
	{ "pretty", no_argument, NULL, 'P' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* "-5": a negative whole number. */
static bool
spool_negative(const char *s)
{
	if (s[0] != '-' || s[1] == '\0')
		return false;
	for (s++; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* 0, 1 after --help, -1 (printed). */
int
cli_spool_parse(int argc, char **argv, unsigned allowed, int nargs, const char *usage,
    struct cli_spool_opts *o)
{
	const char *cmd = argv[0];
	unsigned bit;
	char *end;
	double v;
	int c;

	memset(o, 0, sizeof(*o));
	/*
	 * A negative number ("priority ID -5") is an operand, not an option:
	 * such words go after a "--" (with whatever followed a "--" given).
	 */
	{
		char *tail[CLI_SPOOL_MAXARGS];
		int n = 0, k = 0;

		if (argc >= CLI_SPOOL_MAXARGS - 1) {
			cli_fail("'dronex %s': too many arguments", cmd);
			return -1;
		}
		for (int i = 0; i < argc; i++) {
			bool value = i > 1 && (strcmp(argv[i - 1], "--spool") == 0 ||
			    strcmp(argv[i - 1], "--timeout") == 0 ||
			    strcmp(argv[i - 1], "-t") == 0 ||
			    strcmp(argv[i - 1], "--format") == 0);

			if (i > 0 && !value && strcmp(argv[i], "--") == 0) {
				while (++i < argc)
					tail[k++] = argv[i];
				break;
			}
			if (i > 0 && !value && spool_negative(argv[i]))
				tail[k++] = argv[i];
			else
				o->av[n++] = argv[i];
		}
		if (k > 0)
			o->av[n++] = "--";
		for (int i = 0; i < k; i++)
			o->av[n++] = tail[i];
		o->av[n] = NULL;
		argc = n;
		argv = o->av;
	}
	optind = 1;
	opterr = 0;
	/* No "+": an id may come before the options. */
	while ((c = getopt_long(argc, argv, ":t:qh", spool_longopts, NULL)) != -1) {
		bit = c == 't' ? SO_TIMEOUT : c == 'F' ? SO_FORMAT : c == 'P' ?
		    SO_PRETTY : c == 'q' ? SO_QUIET : 0;
		if (bit != 0 && (allowed & bit) == 0) {
			cli_fail("option '%s' does nothing for 'dronex %s'",
			    argv[optind - 1], cmd);
			return -1;
		}
		switch (c) {
		case 's':
			o->spool = optarg;
			break;
		case 't':
			errno = 0;
			v = strtod(optarg, &end);
			if (optarg[0] == '\0' || *end != '\0' || errno != 0 ||
			    !isfinite(v) || v * 1000.0 < 1.0 || v > 1e9) {
				cli_fail("option '--timeout': '%s' is not a number of "
				    "seconds greater than 0", optarg);
				return -1;
			}
			o->timeout_ms = (int64_t)(v * 1000.0 + 0.5);
			break;
		case 'F':
			o->format = optarg;
			break;
		case 'P':
			o->pretty = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			printf("usage: dronex %s\n", usage);
			return 1;
		case ':':
			cli_fail("option '%s' needs a value (try dronex --help)",
			    argv[optind - 1]);
			return -1;
		default:
			cli_fail("unknown option '%s' for 'dronex %s' (try dronex --help)",
			    argv[optind - 1], cmd);
			return -1;
		}
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
	if (o->nargs != nargs) {
		cli_fail("usage: dronex %s", usage);
		return -1;
	}
	if ((o->spool = cli_spool_dir(o->spool)) == NULL)
		return -1;
	return 0;
}

int
cli_spool_check_id(const char *id)
{
	if (!dx_spool_name_ok(id) || strlen(id) > DX_SPOOL_ID_SIZE - 1) {
		cli_fail("'%s' is not a request id", id);
		return -1;
	}
	return 0;
}

/* Where request id is now: "requested", ..., "complete", or NULL. */
const char *
cli_spool_locate(struct dx_spool *sp, const char *id)
{
	static const char *const life[] = { "requested", "pending", "running",
	    "complete" };

	/* In life-cycle order: a request moving on is found further along. */
	for (size_t i = 0; i < 4; i++)
		if (dx_spool_exists(sp, life[i], id))
			return life[i];
	return NULL;
}

/*
 * submit
 */

/* A -w/-x of "^FILE": its names joined with commas into one set. */
static char *
spool_names_file(const char *opt, const char *spec)
{
	struct dx_file f = { 0 };
	char why[DX_FILE_WHY], *out, *p, *line, *nl;
	size_t n = 0;
	int code;

	if (strchr(spec, ',') != NULL) {
		cli_fail("option '%s': '%s': with submit, ^FILE must be a %s of its "
		    "own", opt, spec, opt);
		return NULL;
	}
	if (dx_file_read(spec + 1, SPOOL_NAMES_MAX, &f, &code, why, sizeof(why)) == -1) {
		cli_fail("option '%s': '%s': %s", opt, spec + 1, why);
		return NULL;
	}
	if ((out = malloc(f.len + 1)) == NULL) {
		dx_file_wipe(&f);
		cli_fail("out of memory");
		return NULL;
	}
	for (p = f.data; p != NULL && *p != '\0'; p = nl) {
		size_t len;

		line = p;
		if ((nl = strchr(p, '\n')) != NULL)
			*nl++ = '\0';
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		while (*line == ' ' || *line == '\t' || *line == '\r')
			line++;
		len = strlen(line);
		while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' ||
		    line[len - 1] == '\r'))
			len--;
		if (len == 0)
			continue;
		if (n > 0)
			out[n++] = ',';
		memcpy(out + n, line, len);
		n += len;
	}
	out[n] = '\0';
	dx_file_wipe(&f);
	if (n == 0) {
		free(out);
		cli_fail("option '%s': '%s' names no drone", opt, spec + 1);
		return NULL;
	}
	return out;
}

/*
 * -w and -x sets (a "^FILE" is read here: serve never reads a client's
 * files); -g labels as given.
 */
static int
spool_sets(const char *opt, const char *const *specs, size_t n, char ***out,
    size_t *nout)
{
	if (n == 0)
		return 0;
	if ((*out = calloc(n, sizeof(**out))) == NULL) {
		cli_fail("out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		(*out)[i] = specs[i][0] == '^' && opt[1] != 'g' ?
		    spool_names_file(opt, specs[i]) :
		    strdup(specs[i]);
		if ((*out)[i] == NULL) {
			if (specs[i][0] != '^' || opt[1] == 'g')
				cli_fail("out of memory");
			return -1;
		}
		(*nout)++;
	}
	return 0;
}

static int
spool_submit(int argc, char **argv)
{
	/* exec's options that a request cannot carry: serve owns them. */
	static const char *const refused[] = { "inventory", "identity", "fanout",
	    "keepalive", "format", "pretty", "quiet", "progress", "no-progress",
	    "explain" };
	struct dx_request req;
	struct dx_err err = { 0 };
	struct cli_opts o;
	struct dx_spool *sp = NULL;
	char id[DX_SPOOL_ID_SIZE], *text = NULL;
	const char *dir;
	int rc = DX_EXIT_USAGE, r;

	dx_request_init(&req);
	if ((r = cli_parse(argc, argv, &o)) != 0) {
		rc = r == 1 ? DX_EXIT_OK : DX_EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (cli_given(&o, refused[i])) {
			cli_fail("option '--%s' does nothing for 'dronex submit' (%s)",
			    refused[i], strcmp(refused[i], "inventory") == 0 ||
			    strcmp(refused[i], "identity") == 0 ||
			    strcmp(refused[i], "fanout") == 0 ||
			    strcmp(refused[i], "keepalive") == 0 ?
			    "serve's own options decide it" : "submit prints the id");
			goto out;
		}
	if ((dir = cli_spool_dir(o.spool)) == NULL)
		goto out;
	if (spool_sets("-w", o.drones, o.ndrones, &req.drones, &req.ndrones) == -1 ||
	    spool_sets("-x", o.exclude, o.nexclude, &req.exclude, &req.nexclude) == -1 ||
	    spool_sets("-g", o.labels, o.nlabels, &req.labels, &req.nlabels) == -1)
		goto out;
	if (o.shard[0] != '\0' && (req.shard = strdup(o.shard)) == NULL)
		goto oom;
	req.shard_k = o.shard_k;
	req.shard_n = o.shard_n;
	if (o.command != NULL) {
		if ((req.calls = calloc(1, sizeof(*req.calls))) == NULL ||
		    (req.calls[0] = strdup(o.command)) == NULL)
			goto oom;
		req.ncalls = 1;
	}
	req.priority = o.priority;
	req.opts.timeout_given = cli_given(&o, "timeout");
	req.opts.timeout_ms = o.timeout_ms;
	req.opts.connect_timeout_given = o.connect_given;
	req.opts.connect_timeout_ms = o.connect_ms;
	req.opts.deadline_given = cli_given(&o, "deadline");
	req.opts.deadline_ms = o.deadline_ms;
	req.opts.retries_given = cli_given(&o, "retries");
	req.opts.retries = o.retries;
	req.opts.retry_delay_given = cli_given(&o, "retry-delay");
	req.opts.retry_delay_ms = o.retry_delay_ms;
	req.opts.max_failures_given = cli_given(&o, "max-failures");
	req.opts.max_failures = o.max_failures;
	req.opts.fail_fast_given = o.fail_fast;
	req.opts.fail_fast = o.fail_fast;
	req.opts.max_output_given = cli_given(&o, "max-output");
	req.opts.max_output = o.max_output;
	req.opts.host_key_check_given = o.hostkey_given;
	req.opts.host_key_check = o.hostkey;
	if (o.user != NULL && (req.opts.user = strdup(o.user)) == NULL)
		goto oom;
	req.opts.port_given = o.port != 0;
	req.opts.port = o.port;
	if (o.stdin_path != NULL) {
		if (cli_read_stdin(o.stdin_path, (char **)&req.opts.stdin_data,
		    &req.opts.stdin_len) == -1)
			goto out;
		req.opts.stdin_given = true;
	}
	if ((text = dx_request_dump(&req, &err)) == NULL) {
		cli_fail("%s", err.msg);
		goto out;
	}
	/* serve may not have run yet: the request waits for it. */
	if ((sp = cli_spool_open(dir, true)) == NULL)
		goto out;
	if (dx_spool_submit(sp, text, strlen(text), id, sizeof(id), &err) == -1) {
		cli_fail("%s", err.msg);
		rc = DX_EXIT_FAILED;
		goto out;
	}
	errno = 0;
	if (printf("%s\n", id) < 0 || fflush(stdout) == EOF || ferror(stdout)) {
		/* The request stands: say its id where it can still be read. */
		cli_fail("cannot write the id of request %s: %s", id,
		    strerror(errno ? errno : EIO));
		rc = DX_EXIT_OUTPUT;
		goto out;
	}
	rc = DX_EXIT_OK;
	goto out;
oom:
	cli_fail("out of memory");
out:
	free(text);
	dx_spool_close(sp);
	dx_request_release(&req);
	cli_opts_release(&o);
	return rc;
}

/*
 * wait
 */
static int
spool_wait(int argc, char **argv)
{
	struct cli_spool_opts o;
	struct cli_spool_watch w = { -1 };
	struct dx_err err = { 0 };
	struct dx_spool *sp = NULL;
	enum dx_format fmt = DX_FMT_JSON;
	const char *id;
	int64_t deadline = 0;
	bool timed_out = false;
	char *buf = NULL;
	size_t len;
	int rc = DX_EXIT_USAGE, r;

	if ((r = cli_spool_parse(argc, argv, SO_TIMEOUT | SO_FORMAT | SO_PRETTY |
	    SO_QUIET, 1, "wait --spool DIR ID [--timeout S] [--format json|jsonl|text] "
	    "[--pretty] [-q]", &o)) != 0)
		return r == 1 ? DX_EXIT_OK : DX_EXIT_USAGE;
	id = o.args[0];
	if (o.format != NULL && strcmp(o.format, "json") == 0)
		fmt = DX_FMT_JSON;
	else if (o.format != NULL && strcmp(o.format, "jsonl") == 0)
		fmt = DX_FMT_JSONL;
	else if (o.format != NULL && strcmp(o.format, "text") == 0)
		fmt = DX_FMT_TEXT;
	else if (o.format != NULL) {
		cli_fail("option '--format': '%s' is not json, jsonl or text",
		    o.format);
		return DX_EXIT_USAGE;
	}
	if (cli_spool_check_id(id) == -1 || (sp = cli_spool_open(o.spool, false)) == NULL)
		return DX_EXIT_USAGE;
	/* Watch first, then look: a result landing in between is not missed. */
	cli_spool_watch_start(&w, sp, "complete");
	if (cli_spool_locate(sp, id) == NULL) {
		cli_fail("no request '%s' in spool '%s'", id, o.spool);
		goto out;
	}
	if (o.timeout_ms > 0)
		deadline = dx_now_ms() + o.timeout_ms;
	/* Said once, so that a wait with no serve does not look like a hang. */
	if (!dx_spool_exists(sp, "complete", id) && !dx_spool_serve_running(sp, NULL))
		cli_fail("note: serve is not running on '%s'; waiting for it", o.spool);
	for (;;) {
		if (dx_spool_exists(sp, "complete", id))
			break;
		if (cli_spool_locate(sp, id) == NULL) {
			cli_fail("request %s has no result any more (another wait took it)",
			    id);
			rc = DX_EXIT_FAILED;
			goto out;
		}
		if (deadline != 0 && dx_now_ms() >= deadline) {
			if (timed_out) {
				cli_fail("request %s did not finish within %g s: aborted "
				    "(its result will be in complete/)", id,
				    (double)o.timeout_ms / 1000.0);
				rc = SPOOL_EXIT_TIMEOUT;
				goto out;
			}
			/* Abort it, then give serve a moment for the aborted result. */
			timed_out = true;
			if (dx_spool_write(sp, "aborting", id, "", 0, false, &err) == -1 &&
			    errno != EEXIST)
				cli_fail("%s", err.msg);
			deadline = dx_now_ms() + SPOOL_ABORT_GRACE_MS;
			continue;
		}
		cli_spool_watch_sleep(&w, deadline);
	}
	if (dx_spool_read(sp, "complete", id, SPOOL_RESULT_MAX, &buf, &len, &err) == -1) {
		cli_fail("%s", err.msg);
		rc = DX_EXIT_FAILED;
		goto out;
	}
	rc = cli_spool_print_result(id, buf, len, fmt, o.pretty, o.quiet);
	/* Printed: the result is the caller's now.  Kept if it could not be. */
	if (rc != DX_EXIT_OUTPUT && dx_spool_remove(sp, "complete", id, &err) == -1)
		cli_fail("%s", err.msg);
	if (timed_out && rc != DX_EXIT_OUTPUT) {
		cli_fail("request %s did not finish within %g s: aborted", id,
		    (double)o.timeout_ms / 1000.0);
		rc = SPOOL_EXIT_TIMEOUT;
	}
out:
	free(buf);
	cli_spool_watch_stop(&w);
	dx_spool_close(sp);
	return rc;
}

/*
 * abort
 */
static int
spool_abort(int argc, char **argv)
{
	struct cli_spool_opts o;
	struct dx_err err = { 0 };
	struct dx_spool *sp;
	const char *id, *where;
	int rc = DX_EXIT_USAGE, r;

	if ((r = cli_spool_parse(argc, argv, 0, 1, "abort --spool DIR ID", &o)) != 0)
		return r == 1 ? DX_EXIT_OK : DX_EXIT_USAGE;
	id = o.args[0];
	if (cli_spool_check_id(id) == -1 || (sp = cli_spool_open(o.spool, false)) == NULL)
		return DX_EXIT_USAGE;
	if ((where = cli_spool_locate(sp, id)) == NULL) {
		cli_fail("no request '%s' in spool '%s'", id, o.spool);
		goto out;
	}
	if (strcmp(where, "complete") == 0) {
		cli_fail("request %s has already finished: nothing to abort", id);
		rc = DX_EXIT_FAILED;
		goto out;
	}
	if (dx_spool_write(sp, "aborting", id, "", 0, false, &err) == -1 &&
	    errno != EEXIST) {
		cli_fail("%s", err.msg);
		rc = DX_EXIT_FAILED;
		goto out;
	}
	if (!dx_spool_serve_running(sp, NULL))
		cli_fail("note: serve is not running on '%s'; request %s is aborted "
		    "when it starts", o.spool, id);
	rc = DX_EXIT_OK;
out:
	dx_spool_close(sp);
	return rc;
}

int
cli_spool(int argc, char **argv)
{
	const char *cmd = argv[0];

	if (strcmp(cmd, "submit") == 0)
		return spool_submit(argc, argv);
	if (strcmp(cmd, "wait") == 0)
		return spool_wait(argc, argv);
	if (strcmp(cmd, "abort") == 0)
		return spool_abort(argc, argv);
	if (strcmp(cmd, "status") == 0)
		return cli_spool_status(argc, argv);
	return cli_spool_control(argc, argv);
}
