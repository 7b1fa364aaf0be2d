/*
 * cli.c - the dronex command line's shared part: the option parser every
 * subcommand uses, the inventory, selection and target resolution they
 * share, and the dispatch to one file per subcommand (cli_exec.c,
 * cli_list.c; curl's src/tool_*.c are the model).  Nothing here is library
 * code: the cli files are the one place that prints and chooses exit
 * statuses.  Usage errors go to stderr, never stdout; an option that does
 * nothing for a subcommand is refused.
 *
 * The path of a run: argv -> cli_parse() -> cli_resolve() (cli_resolve.c:
 * inventory, selection, one target per drone: target.h) -> the subcommand
 * (exec: jobs, queue, executor, results, output; list: output; merge;
 * serve and its clients: cli_serve.c, cli_spool.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_int.h"
#include "dronex.h"
#include "inventory.h"
#include "select.h"
#include "target.h"

#define CLI_DEFAULT_FANOUT	64
#define CLI_DEFAULT_MAX_OUTPUT	(1024 * 1024)

static const char cli_usage[] =
"usage: dronex exec   [selection] [options] [--] COMMAND [ARG...]\n"
"       dronex list   [selection] [-l USER] [--port PORT] [--explain NAME]\n"
"                     [--names | --labels] [--ssh-config FILE|none]\n"
"                     [--pretty]\n"
"       dronex merge  [--pretty] [-q] RESULT.json...   (join shard results)\n"
"       dronex serve  --spool DIR [-i INV] [exec's options, as defaults]\n"
"                     [--idle-timeout S] [--max-sessions N]\n"
"                     [--throttle-failures K] [--throttle-window S]\n"
"       dronex submit --spool DIR [selection] [options] [--priority P] [-- CMD]\n"
"       dronex wait   --spool DIR ID [--timeout S] [--format json|jsonl|text]\n"
"       dronex abort|status|pause|resume --spool DIR [ID]; resize N; priority ID P\n"
"       dronex --help | --version\n"
"\n"
"Runs COMMAND on every selected drone over SSH, in parallel, and prints the\n"
"results as JSON on stdout.  Exit status: 0 all ok, 1 some drone failed or\n"
"was skipped, 2 usage or inventory error (nothing run), 3 the results could\n"
"not be written, 4 wait timed out (the request was aborted), 130 interrupted\n"
"(SIGINT, SIGTERM, SIGHUP).\n"
"\n"
"Selection (-w, -x and -g add up when repeated):\n"
"  -i, --inventory FILE     inventory JSON (default $DRONEX_INVENTORY, else\n"
"                           ./drones.json; - reads stdin)\n"
"  -w, --drones SET         drones to run on: web-[01-20,25],db-1, web-*,\n"
"                           @LABEL, ^FILE (names one a line); with no\n"
"                           inventory file: [user@]host[:port], [::1]:22\n"
"  -x, --exclude SET        drones to leave out (same syntax)\n"
"  -g, --label LABEL        only drones carrying LABEL (repeatable: all of them)\n"
"      --shard K/N|auto     only the K-th of N stable slices of the selection;\n"
"                           auto: from SLURM_ARRAY_TASK_ID/COUNT or\n"
"                           JOB_COMPLETION_INDEX with DRONEX_SHARDS\n"
"\n"
"Connection (these win over the inventory, the inventory over ssh_config):\n"
"  -l, --user USER          log in as USER on every drone (not its jump hosts)\n"
"      --port PORT          connect to PORT on every drone (not its jump hosts)\n"
"      --identity FILE      use this private key instead of the drone's own\n"
"                           (repeatable: tried in order)\n"
"      --ssh-config FILE|none  read FILE instead of ~/.ssh/config and\n"
"                           /etc/ssh/ssh_config (none: no ssh_config)\n"
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
"      --stdin FILE|-       send FILE's bytes (read once, at most 64 MiB) to\n"
"                           every call's stdin; without it stdin is closed\n"
"\n"
"Merge (the results of exec --shard K/N, json or jsonl, into one document;\n"
"  all N shards of one run, each once; exits as one run would have):\n"
"      dronex merge shard-*.json > all.json\n"
"\n"
"List (connects nowhere; prints the selected drones' effective settings):\n"
"      --explain NAME       each setting of drone NAME with its value and\n"
"                           where it came from (default, ssh_config FILE:LINE,\n"
"                           inventory defaults, drone, command line), and\n"
"                           the ssh_config options dronex ignores\n"
"      --names              the selected drones' names, one a line\n"
"      --labels             the labels they carry, sorted, one a line (both\n"
"                           for shell completion: completion/dronex)\n"
"\n"
"Output:\n"
"      --format F           json (default), jsonl or text (identical outputs\n"
"                           gathered under folded names, failures last;\n"
"                           colour on a terminal unless NO_COLOR is set)\n"
"      --pretty             indent the JSON\n"
"  -q, --quiet              on failure print only the one-line error on stderr\n"
"      --progress           show progress on stderr (default when it is a terminal)\n"
"      --no-progress        never show progress\n"
"\n"
"Serve clients (--spool DIR, default $DRONEX_SPOOL; man dronex, SERVE MODE):\n"
"      --priority P         submit: higher starts first (default 0)\n"
"  wait --timeout S         abort the request after S seconds and exit 4\n"
"  status --format F        json (default) or prometheus\n"
"\n"
"  -h, --help               this text\n"
"  -V, --version            the version\n";

void
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

/*
 * --shard auto: a Slurm job array or a Kubernetes Indexed Job picks the
 * shard (SPEC section 8).  Slurm array ids need not start at 0, so the
 * offset from SLURM_ARRAY_TASK_MIN is used when it is set.  Without
 * --shard auto the environment is never read: a run inside an unrelated
 * array job is not silently cut down.
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
	} else {
		cli_fail("option '--shard auto': neither SLURM_ARRAY_TASK_ID with "
		    "SLURM_ARRAY_TASK_COUNT nor JOB_COMPLETION_INDEX with "
		    "DRONEX_SHARDS is set");
		return -1;
	}
	if (k - lo < 0 || k - lo >= n) {
		cli_fail("shard index %lld is outside 0..%lld (from the environment)",
		    k - lo, n - 1);
		return -1;
	}
	o->shard_k = (unsigned)(k - lo + 1);
	o->shard_n = (unsigned)n;
	return 0;
}

enum {
	OPT_SHARD = 256, OPT_CONNECT_TIMEOUT, OPT_DEADLINE, OPT_RETRIES,
	OPT_RETRY_DELAY, OPT_MAX_FAILURES, OPT_FAIL_FAST, OPT_MAX_OUTPUT,
	OPT_HOST_KEY_CHECK, OPT_KEEPALIVE, OPT_FORMAT, OPT_PRETTY,
	OPT_PROGRESS, OPT_NO_PROGRESS, OPT_PORT, OPT_IDENTITY, OPT_STDIN,
	OPT_EXPLAIN, OPT_NAMES, OPT_LABELS, OPT_SSH_CONFIG,
	OPT_SPOOL, OPT_PRIORITY		/* submit only (cli_spool.c) */
};

static const struct option cli_longopts[] = {
	{ "inventory", required_argument, NULL, 'i' },
	{ "drones", required_argument, NULL, 'w' },
	{ "exclude", required_argument, NULL, 'x' },
	{ "label", required_argument, NULL, 'g' },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "user", required_argument, NULL, 'l' },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "identity", required_argument, NULL, OPT_IDENTITY },
	{ "ssh-config", required_argument, NULL, OPT_SSH_CONFIG },
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
	{ "stdin", required_argument, NULL, OPT_STDIN },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "pretty", no_argument, NULL, OPT_PRETTY },
	{ "quiet", no_argument, NULL, 'q' },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
	{ "explain", required_argument, NULL, OPT_EXPLAIN },
	{ "names", no_argument, NULL, OPT_NAMES },
	{ "labels", no_argument, NULL, OPT_LABELS },
	{ "spool", required_argument, NULL, OPT_SPOOL },
	{ "priority", required_argument, NULL, OPT_PRIORITY },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/*
 * The options "dronex list" takes: selection, -l, --port, --ssh-config,
 * --explain, --names, --labels, --pretty.  --explain, --names and
 * --labels are list's alone.
 */
static bool
cli_list_takes(int c)
{
	return c == 'i' || c == 'w' || c == 'x' || c == 'g' || c == OPT_SHARD ||
	    c == 'l' || c == OPT_PORT || c == OPT_PRETTY || c == 'h' ||
	    c == 'V' || c == OPT_EXPLAIN || c == OPT_NAMES || c == OPT_LABELS ||
	    c == OPT_SSH_CONFIG;
}

/* "--timeout" for 't', "-q" for an option with no long name. */
static const char *
cli_opt_name(int c)
{
	static char shortname[3];
	const struct option *lo;

	for (lo = cli_longopts; lo->name != NULL; lo++)
		if (lo->val == c) {
			static char buf[40];

			snprintf(buf, sizeof(buf), "--%s", lo->name);
			return buf;
		}
	snprintf(shortname, sizeof(shortname), "-%c", c);
	return shortname;
}

/* Appends v to a list of at most max; -1 (printed) when it is full. */
static int
cli_push(const char **list, size_t *n, size_t max, const char *opt, const char *v)
{
	if (*n == max) {
		cli_fail("option '%s': given more than %zu times", opt, max);
		return -1;
	}
	list[(*n)++] = v;
	return 0;
}

/*
 * Parses the options of exec and list.  Returns 0, 1 when --help/--version
 * was handled, or -1 (message printed).  o is released by
 * cli_opts_release() in every case.
 */
int
cli_parse(int argc, char **argv, struct cli_opts *o)
{
	struct dx_err err = { 0 };
	long long v;
	int c;
	bool shard_auto = false;

	memset(o, 0, sizeof(*o));
	o->fanout = CLI_DEFAULT_FANOUT;
	o->max_output = CLI_DEFAULT_MAX_OUTPUT;
	o->retry_delay_ms = 1000;
	o->progress = -1;

	/* "+": options end at the first word of the command, as in pdsh. */
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:i:w:x:g:l:f:t:qhV", cli_longopts,
	    NULL)) != -1) {
		if (c != '?' && c != ':' && !cli_list_takes(c) && o->exec_only == NULL)
			o->exec_only = cli_opt_name(c);
		if ((c == OPT_EXPLAIN || c == OPT_NAMES || c == OPT_LABELS) &&
		    o->list_only == NULL)
			o->list_only = c == OPT_EXPLAIN ? "--explain" :
			    c == OPT_NAMES ? "--names" : "--labels";
		if (c > 0 && c < CLI_OPT_CODES)
			o->given[c] = true;
		/* --spool and --priority belong to submit (cli_spool.c). */
		if ((c == OPT_SPOOL || c == OPT_PRIORITY) &&
		    strcmp(argv[0], "submit") != 0) {
			cli_fail("option '%s' does nothing for 'dronex %s'",
			    cli_opt_name(c), argv[0]);
			return -1;
		}
		switch (c) {
		case 'i':
			o->inventory = optarg;
			o->inventory_given = true;
			break;
		case 'w':
			if (cli_push(o->drones, &o->ndrones, CLI_MAX_SETS, "-w",
			    optarg) == -1)
				return -1;
			break;
		case 'x':
			if (cli_push(o->exclude, &o->nexclude, CLI_MAX_SETS, "-x",
			    optarg) == -1)
				return -1;
			break;
		case 'g':
			if (cli_push(o->labels, &o->nlabels, CLI_MAX_LABELS, "-g",
			    optarg) == -1)
				return -1;
			break;
		case OPT_SHARD:
			if (strcmp(optarg, "auto") == 0)
				shard_auto = true;
			else if (cli_parse_shard(optarg, &o->shard_k, &o->shard_n) == -1)
				return -1;
			else
				shard_auto = false;
			break;
		case 'l':
			if (dx_check_hostname(optarg, "user", &err) == -1) {
				cli_fail("option '-l': %s", err.msg);
				return -1;
			}
			o->user = optarg;
			break;
		case OPT_PORT:
			if (cli_parse_uint("--port", optarg, 1, 65535, &v) == -1)
				return -1;
			o->port = (int)v;
			break;
		case OPT_IDENTITY:
			if (o->nidentities == CLI_MAX_IDENTITIES) {
				cli_fail("option '--identity': given more than %d times",
				    CLI_MAX_IDENTITIES);
				return -1;
			}
			if (optarg[0] == '\0') {
				cli_fail("option '--identity': the file name is empty");
				return -1;
			}
			if ((o->identities[o->nidentities] = dx_expand_tilde(optarg,
			    &err)) == NULL) {
				cli_fail("option '--identity': %s", err.msg);
				return -1;
			}
			o->nidentities++;
			break;
		case OPT_SSH_CONFIG:
			if (optarg[0] == '\0') {
				cli_fail("option '--ssh-config': give a file, or none");
				return -1;
			}
			o->ssh_config = optarg;
			break;
		case OPT_STDIN:
			if (optarg[0] == '\0') {
				cli_fail("option '--stdin': give a file, or - for "
				    "standard input");
				return -1;
			}
			o->stdin_path = optarg;
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
				if (strcmp(optarg, dx_hostkey_policy_name(
				    (enum dx_hostkey_policy)k)) == 0)
					break;
			if (k == 3) {
				cli_fail("option '--host-key-check': '%s' is not strict, "
				    "accept-new or off", optarg);
				return -1;
			}
			o->hostkey = (enum dx_hostkey_policy)k;
			o->hostkey_given = true;
			break;
		}
		case OPT_KEEPALIVE:
			if (cli_parse_uint("--keepalive", optarg, 0, 86400, &v) == -1)
				return -1;
			o->keepalive_s = (int)v;
			o->keepalive_given = true;
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
		case OPT_EXPLAIN:
			if (optarg[0] == '\0') {
				cli_fail("option '--explain': give a drone's name");
				return -1;
			}
			o->explain = optarg;
			break;
		case OPT_NAMES:
			o->names = true;
			break;
		case OPT_LABELS:
			o->label_list = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case OPT_SPOOL:
			o->spool = optarg;
			break;
		case OPT_PRIORITY:
			if (cli_parse_uint("--priority", optarg, INT_MIN, INT_MAX, &v) == -1)
				return -1;
			o->priority = (int)v;
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
	if (shard_auto && cli_shard_from_env(o) == -1)
		return -1;
	if (o->shard_n != 0)
		snprintf(o->shard, sizeof(o->shard), "%u/%u", o->shard_k, o->shard_n);
	if (o->inventory == NULL) {
		o->inventory = getenv("DRONEX_INVENTORY");
		if (o->inventory != NULL && o->inventory[0] != '\0')
			o->inventory_given = true;
		else
			o->inventory = "drones.json";
	}
	if (o->stdin_path != NULL && strcmp(o->stdin_path, "-") == 0 &&
	    strcmp(o->inventory, "-") == 0) {
		cli_fail("--stdin - and -i - both want standard input; put one of "
		    "them in a file");
		return -1;
	}
	if (optind < argc && (o->command = cli_join(argc - optind, argv + optind)) == NULL) {
		cli_fail("out of memory");
		return -1;
	}
	return 0;
}

bool
cli_given(const struct cli_opts *o, const char *longname)
{
	for (const struct option *lo = cli_longopts; lo->name != NULL; lo++)
		if (strcmp(lo->name, longname) == 0)
			return lo->val > 0 && lo->val < CLI_OPT_CODES && o->given[lo->val];
	return false;
}

void
cli_opts_release(struct cli_opts *o)
{
	for (size_t i = 0; i < o->nidentities; i++)
		free(o->identities[i]);
	o->nidentities = 0;
	free(o->command);
	o->command = NULL;
}

int
dx_cli_main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	bool out_closed;

	/* A reader that went away is a write error (exit 3), not a death. */
	signal(SIGPIPE, SIG_IGN);
	/*
	 * A standard descriptor that is closed would be handed to the first
	 * socket dronex opens, and results or messages would go down it:
	 * park /dev/null there (as OpenSSH's sanitise_stdfd() does), and
	 * refuse to run when it is stdout, where the results go.
	 */
	out_closed = fcntl(STDOUT_FILENO, F_GETFD) == -1 && errno == EBADF;
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
			int nul = open("/dev/null", O_RDWR);

			if (nul >= 0 && nul != fd) {
				dup2(nul, fd);
				close(nul);
			}
		}
	if (out_closed && cmd != NULL &&
	    (strcmp(cmd, "exec") == 0 || strcmp(cmd, "list") == 0 ||
	    strcmp(cmd, "merge") == 0 ||
	    strcmp(cmd, "submit") == 0 || strcmp(cmd, "wait") == 0 ||
	    strcmp(cmd, "status") == 0)) {
		cli_fail("cannot write the results: stdout is closed");
		return DX_EXIT_OUTPUT;
	}
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
	if (strcmp(cmd, "merge") == 0)
		return cli_merge(argc - 1, argv + 1);
	if (strcmp(cmd, "serve") == 0)
		return cli_serve(argc - 1, argv + 1);
	/* The serve clients (cli_spool.c). */
	if (strcmp(cmd, "submit") == 0 || strcmp(cmd, "wait") == 0 ||
	    strcmp(cmd, "abort") == 0 || strcmp(cmd, "status") == 0 ||
	    strcmp(cmd, "pause") == 0 || strcmp(cmd, "resume") == 0 ||
	    strcmp(cmd, "resize") == 0 || strcmp(cmd, "priority") == 0)
		return cli_spool(argc - 1, argv + 1);
	cli_fail("unknown command '%s' (try dronex --help)", cmd);
	return DX_EXIT_USAGE;
}
