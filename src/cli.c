/*
 * cli.c - the dronex command line.
 *
 * Parses options, loads the inventory, resolves the selection, builds one
 * queue job per selected drone, runs the queue with the SSH executor and
 * prints results.  Signals: SIGINT and SIGTERM are blocked in every thread
 * and taken by one signal thread (sigwait), which aborts the queue; a
 * second SIGINT ends the process at once.  Nothing here is library code:
 * this is the one place that prints and chooses exit statuses.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "dronex.h"
#include "hostset.h"
#include "inventory.h"
#include "output.h"
#include "select.h"
#include "ssh_exec.h"

#define CLI_DEFAULT_FANOUT	64
#define CLI_DEFAULT_CONNECT_MS	10000
#define CLI_DEFAULT_MAX_OUTPUT	(1024 * 1024)
#define CLI_DEFAULT_KEEPALIVE_S	15
#define CLI_MAX_LABELS		64
/* Descriptors dronex needs besides the drones' sockets. */
#define CLI_FD_RESERVE		16

struct cli_opts {
	const char	*inventory;
	bool		 inventory_given;
	const char	*drones;
	const char	*exclude;
	const char	*labels[CLI_MAX_LABELS];
	size_t		 nlabels;
	unsigned	 shard_k, shard_n;
	size_t		 fanout;
	bool		 fanout_given;
	int64_t		 connect_ms;
	bool		 connect_given;
	int64_t		 timeout_ms;
	int64_t		 deadline_ms;
	size_t		 max_output;
	enum dx_hostkey_policy hostkey;
	int		 retries;
	int64_t		 retry_delay_ms;
	size_t		 max_failures;
	bool		 fail_fast;
	int		 keepalive_s;
	enum dx_format	 format;
	bool		 pretty;
	bool		 quiet;
	int		 progress;	/* -1: when stderr is a terminal */
	char		*command;	/* words after the options, joined */
};

static const char *const cli_hostkey_names[] = { "strict", "accept-new", "off" };

static const char cli_usage[] =
"usage: dronex exec   [selection] [options] [--] COMMAND [ARG...]\n"
"       dronex list   [selection] [--pretty]\n"
"       dronex --help | --version\n"
"\n"
"Runs COMMAND on every selected drone over SSH, in parallel, and prints the\n"
"results as JSON on stdout.  Exit status: 0 all ok, 1 some drone failed or\n"
"was skipped, 2 usage or inventory error (nothing run), 130 interrupted.\n"
"\n"
"Selection:\n"
"  -i, --inventory FILE     inventory JSON (default $DRONEX_INVENTORY, else\n"
"                           ./drones.json; - reads stdin)\n"
"  -w, --drones SET         drones to run on: web-[01-20,25],db-1, web-*\n"
"  -x, --exclude SET        drones to leave out\n"
"  -l, --label LABEL        only drones carrying LABEL (repeatable: all of them)\n"
"      --shard K/N          only the K-th of N stable slices of the selection\n"
"\n"
"Execution:\n"
"  -f, --fanout N           drones in flight at once (default 64)\n"
"      --connect-timeout S  TCP connect + SSH banner (default 10; key\n"
"                           exchange and auth get 4 times as long)\n"
"  -t, --timeout S          per call; the command is ended on the drone too\n"
"      --deadline S         for the whole run\n"
"      --retries N          retry connection failures (before any call ran)\n"
"      --retry-delay S      wait between retries (default 1)\n"
"      --max-failures N     start no new drone once N have failed\n"
"      --fail-fast          a drone stops its own calls at its first failure\n"
"      --max-output BYTES   per stream per call (default 1M; K, M, G suffixes)\n"
"      --host-key-check P   strict (default), accept-new or off\n"
"      --keepalive S        SSH keepalive interval on silent calls (default 15, 0 off)\n"
"\n"
"Output:\n"
"      --format F           json (default), jsonl or text\n"
"      --pretty             indent the JSON\n"
"  -q, --quiet              on failure print only the one-line error on stderr\n"
"      --progress           show progress on stderr (default when it is a terminal)\n"
"      --no-progress        never show progress\n"
"\n"
"  -h, --help               this text\n"
"  -V, --version            the version\n";

static void
cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
cli_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("dronex: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A whole non-negative integer within [min, max]; 0 or -1. */
static int
cli_parse_uint(const char *opt, const char *s, long long min, long long max,
    long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || v < min || v > max) {
		cli_fail("option '%s': '%s' is not a whole number from %lld to %lld",
		    opt, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Seconds, possibly fractional, to milliseconds; min_ms..10^9 s. */
static int
cli_parse_seconds(const char *opt, const char *s, int64_t min_ms, int64_t *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (s[0] == '\0' || *end != '\0' || errno != 0 || !isfinite(v) ||
	    v * 1000.0 < (double)min_ms || v > 1e9) {
		cli_fail("option '%s': '%s' is not a number of seconds%s", opt, s,
		    min_ms > 0 ? " greater than 0" : "");
		return -1;
	}
	*out = (int64_t)(v * 1000.0 + 0.5);
	if (*out < min_ms)
		*out = min_ms;
	return 0;
}

/* BYTES with an optional K, M or G (binary) suffix. */
static int
cli_parse_size(const char *opt, const char *s, size_t *out)
{
	char *end;
	unsigned long long v, mul = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end != s && end[0] != '\0' && end[1] == '\0') {
		switch (end[0]) {
		case 'k': case 'K': mul = 1ULL << 10; end++; break;
		case 'm': case 'M': mul = 1ULL << 20; end++; break;
		case 'g': case 'G': mul = 1ULL << 30; end++; break;
		}
	}
	if (s[0] == '\0' || s[0] == '-' || end == s || *end != '\0' ||
	    errno != 0 || v > (1ULL << 40) / mul) {
		cli_fail("option '%s': '%s' is not a size in bytes (K, M, G suffixes allowed)",
		    opt, s);
		return -1;
	}
	*out = (size_t)(v * mul);
	return 0;
}

static int
cli_parse_shard(const char *s, unsigned *k, unsigned *n)
{
	unsigned long kk, nn;
	char *end;

	errno = 0;
	kk = strtoul(s, &end, 10);
	if (end == s || *end != '/' || errno != 0)
		goto bad;
	s = end + 1;
	nn = strtoul(s, &end, 10);
	if (end == s || *end != '\0' || errno != 0 || nn < 1 || nn > 100000 ||
	    kk < 1 || kk > nn)
		goto bad;
	*k = (unsigned)kk;
	*n = (unsigned)nn;
	return 0;
bad:
	cli_fail("option '--shard': want K/N with 1 <= K <= N, e.g. 2/8");
	return -1;
}

/*
 * With no --shard, a Slurm job array or a Kubernetes Indexed Job picks the
 * shard (SPEC section 8).  Slurm array ids need not start at 0, so the
 * offset from SLURM_ARRAY_TASK_MIN is used when it is set.
 */
static int
cli_shard_from_env(struct cli_opts *o)
{
	const char *id, *count, *min;
	long long k, n, lo = 0;

	if ((id = getenv("SLURM_ARRAY_TASK_ID")) != NULL &&
	    (count = getenv("SLURM_ARRAY_TASK_COUNT")) != NULL) {
		if (cli_parse_uint("SLURM_ARRAY_TASK_ID", id, 0, INT_MAX, &k) == -1 ||
		    cli_parse_uint("SLURM_ARRAY_TASK_COUNT", count, 1, 100000, &n) == -1)
			return -1;
		if ((min = getenv("SLURM_ARRAY_TASK_MIN")) != NULL &&
		    cli_parse_uint("SLURM_ARRAY_TASK_MIN", min, 0, INT_MAX, &lo) == -1)
			return -1;
	} else if ((id = getenv("JOB_COMPLETION_INDEX")) != NULL &&
	    (count = getenv("DRONEX_SHARDS")) != NULL) {
		if (cli_parse_uint("JOB_COMPLETION_INDEX", id, 0, INT_MAX, &k) == -1 ||
		    cli_parse_uint("DRONEX_SHARDS", count, 1, 100000, &n) == -1)
			return -1;
	} else
		return 0;
	if (k - lo < 0 || k - lo >= n) {
		cli_fail("shard index %lld is outside 0..%lld (from the environment)",
		    k - lo, n - 1);
		return -1;
	}
	o->shard_k = (unsigned)(k - lo + 1);
	o->shard_n = (unsigned)n;
	return 0;
}

/* The words after the options, joined with single spaces (as ssh(1) does). */
static char *
cli_join(int argc, char **argv)
{
	size_t len = 1;
	char *s;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if ((s = calloc(1, len)) == NULL)
		return NULL;
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

enum {
	OPT_SHARD = 256, OPT_CONNECT_TIMEOUT, OPT_DEADLINE, OPT_RETRIES,
	OPT_RETRY_DELAY, OPT_MAX_FAILURES, OPT_FAIL_FAST, OPT_MAX_OUTPUT,
	OPT_HOST_KEY_CHECK, OPT_KEEPALIVE, OPT_FORMAT, OPT_PRETTY,
	OPT_PROGRESS, OPT_NO_PROGRESS
};

static const struct option cli_longopts[] = {
	{ "inventory", required_argument, NULL, 'i' },
	{ "drones", required_argument, NULL, 'w' },
	{ "exclude", required_argument, NULL, 'x' },
	{ "label", required_argument, NULL, 'l' },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "fanout", required_argument, NULL, 'f' },
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "timeout", required_argument, NULL, 't' },
	{ "deadline", required_argument, NULL, OPT_DEADLINE },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "retry-delay", required_argument, NULL, OPT_RETRY_DELAY },
	{ "max-failures", required_argument, NULL, OPT_MAX_FAILURES },
	{ "fail-fast", no_argument, NULL, OPT_FAIL_FAST },
	{ "max-output", required_argument, NULL, OPT_MAX_OUTPUT },
	{ "host-key-check", required_argument, NULL, OPT_HOST_KEY_CHECK },
	{ "keepalive", required_argument, NULL, OPT_KEEPALIVE },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "pretty", no_argument, NULL, OPT_PRETTY },
	{ "quiet", no_argument, NULL, 'q' },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/*
 * Parses the options of exec and list (list ignores the execution ones).
 * Returns 0, 1 when --help/--version was handled, or -1 (message printed).
 */
static int
cli_parse(int argc, char **argv, struct cli_opts *o)
{
	long long v;
	int c;
	bool shard_given = false;

	memset(o, 0, sizeof(*o));
	o->fanout = CLI_DEFAULT_FANOUT;
	o->connect_ms = CLI_DEFAULT_CONNECT_MS;
	o->max_output = CLI_DEFAULT_MAX_OUTPUT;
	o->retry_delay_ms = 1000;
	o->keepalive_s = CLI_DEFAULT_KEEPALIVE_S;
	o->progress = -1;

	/* "+": options end at the first word of the command, as in pdsh. */
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:i:w:x:l:f:t:qhV", cli_longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'i':
			o->inventory = optarg;
			o->inventory_given = true;
			break;
		case 'w':
			o->drones = optarg;
			break;
		case 'x':
			o->exclude = optarg;
			break;
		case 'l':
			if (o->nlabels == CLI_MAX_LABELS) {
				cli_fail("option '-l': at most %d labels", CLI_MAX_LABELS);
				return -1;
			}
			o->labels[o->nlabels++] = optarg;
			break;
		case OPT_SHARD:
			if (cli_parse_shard(optarg, &o->shard_k, &o->shard_n) == -1)
				return -1;
			shard_given = true;
			break;
		case 'f':
			if (cli_parse_uint("--fanout", optarg, 1, 100000, &v) == -1)
				return -1;
			o->fanout = (size_t)v;
			o->fanout_given = true;
			break;
		case OPT_CONNECT_TIMEOUT:
			if (cli_parse_seconds("--connect-timeout", optarg, 1,
			    &o->connect_ms) == -1)
				return -1;
			o->connect_given = true;
			break;
		case 't':
			if (cli_parse_seconds("--timeout", optarg, 1, &o->timeout_ms) == -1)
				return -1;
			break;
		case OPT_DEADLINE:
			if (cli_parse_seconds("--deadline", optarg, 1, &o->deadline_ms) == -1)
				return -1;
			break;
		case OPT_RETRIES:
			if (cli_parse_uint("--retries", optarg, 0, 100, &v) == -1)
				return -1;
			o->retries = (int)v;
			break;
		case OPT_RETRY_DELAY:
			if (cli_parse_seconds("--retry-delay", optarg, 0,
			    &o->retry_delay_ms) == -1)
				return -1;
			break;
		case OPT_MAX_FAILURES:
			if (cli_parse_uint("--max-failures", optarg, 1, LLONG_MAX, &v) == -1)
				return -1;
			o->max_failures = (size_t)v;
			break;
		case OPT_FAIL_FAST:
			o->fail_fast = true;
			break;
		case OPT_MAX_OUTPUT:
			if (cli_parse_size("--max-output", optarg, &o->max_output) == -1)
				return -1;
			break;
		case OPT_HOST_KEY_CHECK: {
			size_t k;

			for (k = 0; k < 3; k++)
				if (strcmp(optarg, cli_hostkey_names[k]) == 0)
					break;
			if (k == 3) {
				cli_fail("option '--host-key-check': '%s' is not strict, "
				    "accept-new or off", optarg);
				return -1;
			}
			o->hostkey = (enum dx_hostkey_policy)k;
			break;
		}
		case OPT_KEEPALIVE:
			if (cli_parse_uint("--keepalive", optarg, 0, 86400, &v) == -1)
				return -1;
			o->keepalive_s = (int)v;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "json") == 0)
				o->format = DX_FMT_JSON;
			else if (strcmp(optarg, "jsonl") == 0)
				o->format = DX_FMT_JSONL;
			else if (strcmp(optarg, "text") == 0)
				o->format = DX_FMT_TEXT;
			else {
				cli_fail("option '--format': '%s' is not json, jsonl or text",
				    optarg);
				return -1;
			}
			break;
		case OPT_PRETTY:
			o->pretty = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case OPT_PROGRESS:
			o->progress = 1;
			break;
		case OPT_NO_PROGRESS:
			o->progress = 0;
			break;
		case 'h':
			fputs(cli_usage, stdout);
			return 1;
		case 'V':
			printf("dronex %s\n", PACKAGE_VERSION);
			return 1;
		case ':':
			cli_fail("option '%s' needs a value (try dronex --help)",
			    argv[optind - 1]);
			return -1;
		default:
			if (optopt != 0)
				cli_fail("unknown option '-%c' (try dronex --help)", optopt);
			else
				cli_fail("unknown option '%s' (try dronex --help)",
				    argv[optind - 1]);
			return -1;
		}
	}
	if (!shard_given && cli_shard_from_env(o) == -1)
		return -1;
	if (o->inventory == NULL) {
		o->inventory = getenv("DRONEX_INVENTORY");
		if (o->inventory != NULL && o->inventory[0] != '\0')
			o->inventory_given = true;
		else
			o->inventory = "drones.json";
	}
	if (optind < argc && (o->command = cli_join(argc - optind, argv + optind)) == NULL) {
		cli_fail("out of memory");
		return -1;
	}
	return 0;
}

/*
 * Without an inventory file, "dronex exec -w a,b CMD" runs on those hosts
 * as pdsh would: each name is a drone whose host is its name.
 */
static int
cli_adhoc_inventory(struct dx_inventory *inv, const char *spec, struct dx_err *err)
{
	struct dx_hostset set;
	json_t *doc = NULL, *arr;
	char *text = NULL;
	int rc = -1;

	if (dx_hostset_parse(&set, spec, err) == -1)
		return -1;
	if ((doc = json_object()) == NULL || (arr = json_array()) == NULL ||
	    json_object_set_new(doc, "drones", arr) == -1)
		goto oom;
	for (size_t i = 0; i < set.n; i++) {
		if (dx_hostset_is_glob(set.names[i])) {
			dx_err_set(err, DX_USAGE, "'%s' is a pattern, but there is no "
			    "inventory to match it against", set.names[i]);
			goto out;
		}
		if (json_array_append_new(arr, json_pack("{s:s}", "name",
		    set.names[i])) == -1)
			goto oom;
	}
	if ((text = json_dumps(doc, JSON_COMPACT)) == NULL)
		goto oom;
	rc = dx_inventory_parse(inv, text, strlen(text), "-w", err);
	goto out;
oom:
	dx_err_set(err, DX_INTERNAL, "out of memory");
out:
	free(text);
	json_decref(doc);
	dx_hostset_release(&set);
	return rc;
}

static int
cli_load(const struct cli_opts *o, struct dx_inventory *inv, struct dx_err *err)
{
	if (!o->inventory_given && o->drones != NULL &&
	    access(o->inventory, F_OK) == -1 && errno == ENOENT)
		return cli_adhoc_inventory(inv, o->drones, err);
	if (!o->inventory_given && access(o->inventory, F_OK) == -1 && errno == ENOENT)
		return dx_err_set(err, DX_USAGE, "no inventory: give -i FILE, set "
		    "DRONEX_INVENTORY, create ./drones.json, or name hosts with -w");
	return dx_inventory_load(inv, o->inventory, err);
}

static int
cli_select(const struct cli_opts *o, const struct dx_inventory *inv,
    size_t **idx, size_t *n, struct dx_err *err)
{
	struct dx_selection sel;

	memset(&sel, 0, sizeof(sel));
	sel.drones = o->drones;
	sel.exclude = o->exclude;
	sel.labels = o->labels;
	sel.nlabels = o->nlabels;
	sel.shard_k = o->shard_k;
	sel.shard_n = o->shard_n;
	return dx_select(inv, &sel, idx, n, err);
}

static json_t *
cli_strings_json(char **v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < n; i++)
		if (json_array_append_new(a, json_string(v[i])) == -1) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static int
cli_list(int argc, char **argv)
{
	struct cli_opts o;
	struct dx_inventory inv = { 0 };
	struct dx_err err = { 0 };
	size_t *idx = NULL, n = 0;
	json_t *arr = NULL, *d;
	int rc = DX_EXIT_USAGE, r;

	if ((r = cli_parse(argc, argv, &o)) != 0)
		return r == 1 ? DX_EXIT_OK : DX_EXIT_USAGE;
	if (o.command != NULL) {
		cli_fail("list takes no command ('%s')", o.command);
		goto out;
	}
	if (cli_load(&o, &inv, &err) == -1 || cli_select(&o, &inv, &idx, &n, &err) == -1) {
		cli_fail("%s", err.msg);
		goto out;
	}
	if ((arr = json_array()) == NULL)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		const struct dx_drone *dr = &inv.drones[idx[i]];

		d = json_pack("{s:s, s:s, s:i, s:s, s:o, s:o, s:i, s:o, s:o, s:o, s:o}",
		    "name", dr->name, "host", dr->host, "port", dr->port,
		    "user", dr->user,
		    "identity", dr->identity ? json_string(dr->identity) : json_null(),
		    "known_hosts", dr->known_hosts ? json_string(dr->known_hosts) : json_null(),
		    "priority", dr->priority,
		    "labels", cli_strings_json(dr->labels, dr->nlabels),
		    "calls", cli_strings_json(dr->calls, dr->ncalls),
		    "jump", dr->jump ? json_string(dr->jump) : json_null(),
		    "connect_timeout", dr->connect_timeout_ms ?
		    json_real(dr->connect_timeout_ms / 1000.0) : json_null());
		if (d == NULL || json_array_append_new(arr, d) == -1)
			goto oom;
	}
	if (json_dumpf(arr, stdout, o.pretty ? JSON_INDENT(2) : JSON_COMPACT) == -1)
		goto oom;
	fputc('\n', stdout);
	rc = DX_EXIT_OK;
	goto out;
oom:
	cli_fail("out of memory");
	rc = DX_EXIT_FAILED;
out:
	json_decref(arr);
	free(idx);
	free(o.command);
	dx_inventory_release(&inv);
	return rc;
}

/*
 * Open files: raise the soft limit to the hard one, then refuse a fan-out
 * that cannot be served, rather than fail drones at random mid-run.  Each
 * drone in flight holds its socket, and an ssh-agent socket while it
 * authenticates.  An explicit --fanout is refused; the default is lowered.
 */
static int
cli_check_fds(struct cli_opts *o)
{
	struct rlimit rl;
	size_t per = getenv("SSH_AUTH_SOCK") ? 2 : 1, can;

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
	atomic_int	 interrupted;
	sigset_t	 set;		/* SIGINT, SIGTERM, SIGUSR2 (stop) */
};

static void *
cli_sig_main(void *arg)
{
	struct cli_sig *s = arg;
	int sig;

	for (;;) {
		if (sigwait(&s->set, &sig) != 0)
			continue;
		if (sig == SIGUSR2)
			return NULL;
		/* A second SIGINT means "now": no waiting for teardown. */
		if (atomic_exchange(&s->interrupted, 1) && sig == SIGINT)
			_exit(DX_EXIT_INTERRUPTED);
		dx_queue_abort(s->queue, DX_INTERRUPTED);
	}
}

struct cli_run {
	struct dx_out	*out;
	struct dx_err	 err;		/* the first output failure */
};

static void
cli_done(void *arg, size_t index, const struct dx_job *job, struct dx_result *res)
{
	struct cli_run *r = arg;
	const struct dx_drone *d = job->drone;

	if (r->err.kind == DX_OK)
		(void)dx_out_drone(r->out, index, job->name, d->host, d->port,
		    d->user, res, &r->err);
}

static int
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
	const char ***calls = NULL;
	size_t *idx = NULL, n = 0;
	bool sig_started = false;
	char *error = NULL;
	int64_t t0, wall0;
	struct timeval tv;
	int rc = DX_EXIT_USAGE, r;

	if ((r = cli_parse(argc, argv, &o)) != 0)
		return r == 1 ? DX_EXIT_OK : DX_EXIT_USAGE;
	if (cli_load(&o, &inv, &err) == -1 || cli_select(&o, &inv, &idx, &n, &err) == -1) {
		cli_fail("%s", err.msg);
		goto out;
	}
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
	if (dx_global_init(&err) == -1) {
		cli_fail("%s", err.msg);
		rc = DX_EXIT_FAILED;
		goto out;
	}

	memset(&so, 0, sizeof(so));
	so.connect_timeout_ms = o.connect_ms;
	so.call_timeout_ms = o.timeout_ms;
	so.max_output = o.max_output;
	so.hostkey_policy = o.hostkey;
	so.keepalive_s = o.keepalive_s;
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
	oo.progress = o.progress == -1 ? isatty(STDERR_FILENO) && !o.quiet : o.progress;
	oo.host_key_check = cli_hostkey_names[o.hostkey];
	oo.ndrones = n;
	gettimeofday(&tv, NULL);
	wall0 = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
	oo.started_ms = wall0;

	rc = DX_EXIT_FAILED;
	if ((ssh = dx_ssh_new(&so, &err)) == NULL ||
	    (q = dx_queue_new(&qo, dx_ssh_exec, ssh, &err)) == NULL ||
	    (out = dx_out_new(&oo, &err)) == NULL) {
		cli_fail("%s", err.msg);
		goto out;
	}
	if ((calls = calloc(n + 1, sizeof(*calls))) == NULL)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		struct dx_drone *d = &inv.drones[idx[i]];
		struct dx_job job;
		size_t nc = d->ncalls + (o.command != NULL);

		/* An explicit --connect-timeout wins over the inventory. */
		if (o.connect_given || d->connect_timeout_ms == 0)
			d->connect_timeout_ms = o.connect_ms;
		if ((calls[i] = calloc(nc + 1, sizeof(char *))) == NULL)
			goto oom;
		for (size_t k = 0; k < d->ncalls; k++)
			calls[i][k] = d->calls[k];
		if (o.command != NULL)
			calls[i][d->ncalls] = o.command;
		memset(&job, 0, sizeof(job));
		job.name = d->name;
		job.priority = d->priority;
		job.drone = d;
		job.calls = calls[i];
		job.ncalls = nc;
		if (dx_queue_add(q, &job, &err) == -1) {
			cli_fail("%s", err.msg);
			goto out;
		}
	}

	/* Workers inherit this mask: only the signal thread sees the signals. */
	sig.queue = q;
	sigemptyset(&sig.set);
	sigaddset(&sig.set, SIGINT);
	sigaddset(&sig.set, SIGTERM);
	sigaddset(&sig.set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &sig.set, NULL);
	if (pthread_create(&sig.thread, NULL, cli_sig_main, &sig) != 0) {
		cli_fail("cannot start the signal thread");
		goto out;
	}
	sig_started = true;

	run.out = out;
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
	if (error != NULL && o.quiet)
		cli_fail("%s", error);
	else if (error != NULL)
		for (size_t i = 0; i < n; i++) {
			const struct dx_outcome *oc = dx_queue_outcome(q, i);

			if (oc->status != DX_ST_OK)
				fprintf(stderr, "dronex: drone %s %s: %s: %s\n",
				    dx_queue_job(q, i)->name,
				    oc->status == DX_ST_SKIPPED ? "skipped" : "failed",
				    dx_kind_name(oc->error.kind), oc->error.msg);
		}
	rc = error == NULL ? DX_EXIT_OK : DX_EXIT_FAILED;
	if (atomic_load(&sig.interrupted))
		rc = DX_EXIT_INTERRUPTED;
	goto out;
oom:
	cli_fail("out of memory");
out:
	if (sig_started) {
		pthread_kill(sig.thread, SIGUSR2);
		pthread_join(sig.thread, NULL);
	}
	if (calls != NULL)
		for (size_t i = 0; i < n; i++)
			free(calls[i]);
	free(calls);
	free(error);
	dx_out_free(out);
	dx_queue_free(q);
	dx_ssh_free(ssh);
	free(idx);
	free(o.command);
	dx_inventory_release(&inv);
	return rc;
}

int
dx_cli_main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (cmd == NULL) {
		fputs(cli_usage, stderr);
		return DX_EXIT_USAGE;
	}
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "help") == 0) {
		fputs(cli_usage, stdout);
		return DX_EXIT_OK;
	}
	if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
		printf("dronex %s\n", PACKAGE_VERSION);
		return DX_EXIT_OK;
	}
	if (strcmp(cmd, "exec") == 0)
		return cli_exec(argc - 1, argv + 1);
	if (strcmp(cmd, "list") == 0)
		return cli_list(argc - 1, argv + 1);
	if (strcmp(cmd, "merge") == 0 || strcmp(cmd, "serve") == 0 ||
	    strcmp(cmd, "submit") == 0 || strcmp(cmd, "wait") == 0 ||
	    strcmp(cmd, "abort") == 0 || strcmp(cmd, "status") == 0 ||
	    strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0 ||
	    strcmp(cmd, "resize") == 0) {
		cli_fail("'%s' is not available in this version yet", cmd);
		return DX_EXIT_USAGE;
	}
	cli_fail("unknown command '%s' (try dronex --help)", cmd);
	return DX_EXIT_USAGE;
}
