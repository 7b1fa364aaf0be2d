/*
 * cli_spool.c - the clients of "dronex serve" (SPEC section 7): submit,
 * wait, abort, status, pause, resume, resize and priority.  They talk to
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

#define SPOOL_EXIT_TIMEOUT	4	/* wait timed out; the request was aborted */
#define SPOOL_ABORT_GRACE_MS	5000	/* wait: for the aborted result */
#define SPOOL_REPLY_MS		10000	/* control: for serve's reply */
#define SPOOL_RESULT_MAX	((size_t)2 << 30)
#define SPOOL_STATUS_MAX	((size_t)16 << 20)
#define SPOOL_NAMES_MAX		((size_t)16 << 20)	/* a ^FILE */

/* The spool directory: --spool, else $DRONEX_SPOOL; NULL (printed). */
static const char *
spool_dir(const char *given)
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

static struct dx_spool *
spool_open_cli(const char *dir, bool create)
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
struct spool_watch {
	int		 fd;		/* inotify, or -1: look every 250 ms */
};

static void
spool_watch_start(struct spool_watch *w, struct dx_spool *sp, const char *sub)
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

static void
spool_watch_stop(struct spool_watch *w)
{
	if (w->fd != -1)
		close(w->fd);
	w->fd = -1;
}

/* Sleeps until something changes in the directory or deadline (monotonic ms). */
static void
spool_watch_sleep(struct spool_watch *w, int64_t deadline)
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
 * Results: printed as exec prints its own (cli_exec.c, output.c), exit
 * status as exec's.
 */
static int
spool_put(FILE *f, json_t *v, size_t flags)
{
	if (json_dumpf(v, f, flags) == -1 || fputc('\n', f) == EOF)
		return -1;
	return 0;
}

static int
spool_print_result(const char *id, const char *buf, size_t len,
    enum dx_format fmt, bool pretty, bool quiet)
{
	json_t *doc, *drones, *d, *v;
	json_error_t jerr;
	const char *name, *error;
	size_t flags = pretty ? JSON_INDENT(2) : JSON_COMPACT;
	int rc = DX_EXIT_FAILED;

	if ((doc = json_loadb(buf, len, JSON_ALLOW_NUL, &jerr)) == NULL ||
	    !json_is_object(doc)) {
		cli_fail("the result of request %s is not a JSON document: %s", id,
		    doc == NULL ? jerr.text : "not an object");
		json_decref(doc);
		return DX_EXIT_FAILED;
	}
	drones = json_object_get(doc, "drones");
	error = json_string_value(json_object_get(doc, "error"));
	errno = 0;
	if (fmt == DX_FMT_JSONL) {
		json_t *line, *sum = json_deep_copy(doc);
		int bad = sum == NULL;

		json_object_foreach(drones, name, d) {
			if (bad || (line = json_object()) == NULL) {
				bad = 1;
				break;
			}
			bad = json_object_set_new(line, "type", json_string("drone")) ||
			    json_object_set_new(line, "name", json_string(name)) ||
			    json_object_update(line, d) ||
			    spool_put(stdout, line, JSON_COMPACT);
			json_decref(line);
		}
		if (!bad && (line = json_object()) != NULL) {
			json_object_del(sum, "drones");
			bad = json_object_set_new(line, "type", json_string("summary")) ||
			    json_object_update(line, sum) ||
			    spool_put(stdout, line, JSON_COMPACT);
			json_decref(line);
		}
		json_decref(sum);
		if (bad && !ferror(stdout))
			cli_fail("out of memory printing the result");
	} else if (spool_put(stdout, doc, flags) == -1 && !ferror(stdout))
		cli_fail("out of memory printing the result");
	if (fflush(stdout) == EOF || ferror(stdout)) {
		cli_fail("cannot write the results: %s", strerror(errno ? errno : EIO));
		json_decref(doc);
		return DX_EXIT_OUTPUT;
	}
	if (json_is_true(json_object_get(doc, "refused"))) {
		cli_fail("%s", error != NULL ? error : "the request was refused");
		json_decref(doc);
		return DX_EXIT_USAGE;
	}
	if (error != NULL && quiet)
		cli_fail("%s", error);
	else if (error != NULL)
		json_object_foreach(drones, name, d) {
			const char *st = json_string_value(json_object_get(d, "status"));
			json_t *e = json_object_get(d, "error");

			if (st == NULL || strcmp(st, "ok") == 0)
				continue;
			fprintf(stderr, "dronex: drone %s %s: %s: %s\n", name, st,
			    json_string_value(json_object_get(e, "kind")) ?: "internal",
			    json_string_value(json_object_get(e, "message")) ?: "");
		}
	v = json_object_get(doc, "summary");
	if (json_integer_value(json_object_get(v, "failed")) == 0 &&
	    json_integer_value(json_object_get(v, "skipped")) == 0 &&
	    json_is_object(v))
		rc = DX_EXIT_OK;
	json_decref(doc);
	return rc;
}

/*
 * Parsing the small commands' options: each command takes --spool and
 * the ones its mask allows.
 */
enum {
	SO_TIMEOUT = 1 << 0, SO_FORMAT = 1 << 1, SO_PRETTY = 1 << 2, SO_QUIET = 1 << 3
};

struct spool_opts {
	const char	*spool;
	int64_t		 timeout_ms;	/* 0: none */
	const char	*format;
	bool		 pretty, quiet;
	int		 nargs;
	char	       **args;
};

static const struct option spool_longopts[] = {
	{ "spool", required_argument, NULL, 's' },
	{ "timeout", required_argument, NULL, 't' },
	{ "format", required_argument, NULL, 'F' },
	{ "pretty", no_argument, NULL, 'P' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* 0, 1 after --help, -1 (printed). */
static int
spool_parse(int argc, char **argv, unsigned allowed, int nargs, const char *usage,
    struct spool_opts *o)
{
	const char *cmd = argv[0];
	unsigned bit;
	char *end;
	double v;
	int c;

	memset(o, 0, sizeof(*o));
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
	if ((o->spool = spool_dir(o->spool)) == NULL)
		return -1;
	return 0;
}

static int
spool_check_id(const char *id)
{
	if (!dx_spool_name_ok(id) || strlen(id) > DX_SPOOL_ID_SIZE - 1) {
		cli_fail("'%s' is not a request id", id);
		return -1;
	}
	return 0;
}

/* Where request id is now: "requested", ..., "complete", or NULL. */
static const char *
spool_locate(struct dx_spool *sp, const char *id)
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
		(*out)[i] = specs[i][0] == '^' ? spool_names_file(opt, specs[i]) :
		    strdup(specs[i]);
		if ((*out)[i] == NULL) {
			if (specs[i][0] != '^')
				cli_fail("out of memory");
			return -1;
		}
		(*nout)++;
	}
	return 0;
}

/* --stdin FILE|-: read whole, at most CLI_MAX_STDIN bytes. */
static int
spool_read_stdin(const char *path, unsigned char **data, size_t *len)
{
	const char *name = strcmp(path, "-") == 0 ? "standard input" : path;
	size_t n = 0, cap = 65536;
	unsigned char *buf, *nb;
	int fd = STDIN_FILENO;
	ssize_t r;

	if (strcmp(path, "-") != 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		cli_fail("option '--stdin': cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	if ((buf = malloc(cap)) == NULL)
		goto oom;
	for (;;) {
		if (n == cap) {
			if (cap > CLI_MAX_STDIN) {
				cli_fail("option '--stdin': %s is larger than %zu MiB", name,
				    CLI_MAX_STDIN >> 20);
				goto fail;
			}
			cap *= 2;
			if ((nb = realloc(buf, cap)) == NULL)
				goto oom;
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			cli_fail("option '--stdin': cannot read %s: %s", name,
			    strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > CLI_MAX_STDIN) {
		cli_fail("option '--stdin': %s is larger than %zu MiB", name,
		    CLI_MAX_STDIN >> 20);
		goto fail;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	*data = buf;
	*len = n;
	return 0;
oom:
	cli_fail("out of memory reading %s", name);
fail:
	if (fd != STDIN_FILENO)
		close(fd);
	free(buf);
	return -1;
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
	if ((dir = spool_dir(o.spool)) == NULL)
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
		if (spool_read_stdin(o.stdin_path, &req.opts.stdin_data,
		    &req.opts.stdin_len) == -1)
			goto out;
		req.opts.stdin_given = true;
	}
	if ((text = dx_request_dump(&req, &err)) == NULL) {
		cli_fail("%s", err.msg);
		goto out;
	}
	/* serve may not have run yet: the request waits for it. */
	if ((sp = spool_open_cli(dir, true)) == NULL)
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
	struct spool_opts o;
	struct spool_watch w = { -1 };
	struct dx_err err = { 0 };
	struct dx_spool *sp = NULL;
	enum dx_format fmt = DX_FMT_JSON;
	const char *id;
	int64_t deadline = 0;
	bool timed_out = false;
	char *buf = NULL;
	size_t len;
	int rc = DX_EXIT_USAGE, r;

	if ((r = spool_parse(argc, argv, SO_TIMEOUT | SO_FORMAT | SO_PRETTY |
	    SO_QUIET, 1, "wait --spool DIR ID [--timeout S] [--format json|jsonl] "
	    "[--pretty] [-q]", &o)) != 0)
		return r == 1 ? DX_EXIT_OK : DX_EXIT_USAGE;
	id = o.args[0];
	if (o.format != NULL && strcmp(o.format, "json") == 0)
		fmt = DX_FMT_JSON;
	else if (o.format != NULL && strcmp(o.format, "jsonl") == 0)
		fmt = DX_FMT_JSONL;
	else if (o.format != NULL) {
		cli_fail("option '--format': '%s' is not json or jsonl (wait prints "
		    "serve's JSON result)", o.format);
		return DX_EXIT_USAGE;
	}
	if (spool_check_id(id) == -1 || (sp = spool_open_cli(o.spool, false)) == NULL)
		return DX_EXIT_USAGE;
	/* Watch first, then look: a result landing in between is not missed. */
	spool_watch_start(&w, sp, "complete");
	if (spool_locate(sp, id) == NULL) {
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
		if (spool_locate(sp, id) == NULL) {
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
		spool_watch_sleep(&w, deadline);
	}
	if (dx_spool_read(sp, "complete", id, SPOOL_RESULT_MAX, &buf, &len, &err) == -1) {
		cli_fail("%s", err.msg);
		rc = DX_EXIT_FAILED;
		goto out;
	}
	rc = spool_print_result(id, buf, len, fmt, o.pretty, o.quiet);
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
	spool_watch_stop(&w);
	dx_spool_close(sp);
	return rc;
}

/*
 * abort
 */
static int
spool_abort(int argc, char **argv)
{
	struct spool_opts o;
	struct dx_err err = { 0 };
	struct dx_spool *sp;
	const char *id, *where;
	int rc = DX_EXIT_USAGE, r;

	if ((r = spool_parse(argc, argv, 0, 1, "abort --spool DIR ID", &o)) != 0)
		return r == 1 ? DX_EXIT_OK : DX_EXIT_USAGE;
	id = o.args[0];
	if (spool_check_id(id) == -1 || (sp = spool_open_cli(o.spool, false)) == NULL)
		return DX_EXIT_USAGE;
	if ((where = spool_locate(sp, id)) == NULL) {
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

static int
spool_status(int argc, char **argv)
{
	struct spool_opts o;
	struct dx_err err = { 0 };
	struct dx_spool *sp;
	json_error_t jerr;
	json_t *st = NULL;
	bool prom = false;
	char *buf = NULL;
	size_t len;
	int rc = DX_EXIT_FAILED, r;

	if ((r = spool_parse(argc, argv, SO_FORMAT | SO_PRETTY, 0,
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
	if ((sp = spool_open_cli(o.spool, false)) == NULL)
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
		spool_put(stdout, st, o.pretty ? JSON_INDENT(2) : JSON_COMPACT);
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
static int
spool_control(int argc, char **argv)
{
	const char *cmd = argv[0];
	struct spool_opts o;
	struct spool_watch w = { -1 };
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
	if ((r = spool_parse(argc, argv, 0, nargs, usage, &o)) != 0)
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
		if (nargs == 2 && spool_check_id(o.args[0]) == -1)
			return DX_EXIT_USAGE;
	}
	if ((sp = spool_open_cli(o.spool, false)) == NULL)
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
	spool_watch_start(&w, sp, "control");
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
		spool_watch_sleep(&w, deadline);
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
	spool_watch_stop(&w);
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
		return spool_status(argc, argv);
	return spool_control(argc, argv);
}
