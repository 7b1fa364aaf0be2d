/*
 * harness.c - runs the dronex binary for integration tests and reads
 * what it printed.
 *
 * Theory of operation: one runner serves every integration test.
 * dxh_start() forks, puts the child in its own process group, points its
 * stdin/stdout/stderr at pipes (or stdout at the test's descriptor) and
 * execs $DRONEX_BIN directly (no shell, so no quoting surprises), after
 * the test's environment changes and open-file limit.  dxh_pump() is one
 * poll() round over the pipes, sending an optional signal on the way and
 * SIGKILL to the group when the hard timeout passes; a test that acts on
 * the child while it runs (signals it, freezes the sshd that serves it,
 * reads its stdout line by line) pumps between its own steps.
 * dxh_finish() pumps to end of file, reaps the child with wait4() (so its
 * peak RSS is known) and parses stdout with jansson.  Everything is asserted
 * with criterion, so a broken environment fails the test instead of
 * skipping it.
 *
 * This file also holds main(): criterion's default runs tests in parallel,
 * one per core, which would make the wall-time assertions depend on what
 * the neighbour test is doing.  The suite therefore runs one test at a
 * time unless CRITERION_JOBS or --jobs says otherwise.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/options.h>

#include "harness.h"

int
main(int argc, char *argv[])
{
	struct criterion_test_set *tests;
	int rc = 0;

	tests = criterion_initialize();
	criterion_options.jobs = 1;
	if (criterion_handle_args(argc, argv, true))
		rc = !criterion_run_all_tests(tests);
	criterion_finalize(tests);
	return rc;
}

double
dxh_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

const char *
dxh_env(const char *name)
{
	const char *v = getenv(name);

	cr_assert(v != NULL && *v != '\0',
	    "%s is not set: run this program through tests/run-test "
	    "(make check) with DRONEX_BIN set", name);
	return v;
}

char *
dxh_tmpdir(void)
{
	char *path;

	cr_assert(asprintf(&path, "%s/t.XXXXXX", dxh_env("DX_TEST_DIR")) > 0);
	cr_assert(mkdtemp(path) != NULL, "mkdtemp '%s': %s", path, strerror(errno));
	return path;
}

char *
dxh_write_file(const char *dir, const char *name, const char *content)
{
	char *path;
	FILE *f;

	cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "w");
	cr_assert(f != NULL, "open '%s': %s", path, strerror(errno));
	cr_assert(fputs(content, f) >= 0);
	cr_assert(fclose(f) == 0);
	return path;
}

char *
dxh_read_file(const char *path)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			cr_assert((buf = realloc(buf, cap)) != NULL);
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
	}
	buf[len] = '\0';
	fclose(f);
	return buf;
}

bool
dxh_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/*
 * A private HOME for dronex itself, so that the developer's own
 * ~/.ssh (keys, known_hosts, config) cannot make a test pass or fail.
 */
static const char *
harness_client_home(void)
{
	static char *home;
	char *p;

	if (home != NULL)
		return home;
	cr_assert(asprintf(&p, "%s/client-home", dxh_env("DX_TEST_DIR")) > 0);
	if (mkdir(p, 0700) == -1)
		cr_assert(errno == EEXIST, "mkdir '%s': %s", p, strerror(errno));
	home = p;
	return home;
}

void
dxh_append(char **buf, size_t *len, size_t *cap, const char *data, size_t n)
{
	if (*len + n + 1 > *cap) {
		while (*len + n + 1 > *cap)
			*cap = *cap ? *cap * 2 : 65536;
		cr_assert((*buf = realloc(*buf, *cap)) != NULL);
	}
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

void
dxh_child_prepare(struct dxh_child *ch, bool precise_leaks)
{
	ch->home = harness_client_home();
	ch->lsan = NULL;
	/*
	 * A sanitized dronex would report libssh2's own leaks; the
	 * suppressions name only those.  The slow unwinder lets LeakSanitizer
	 * see the libssh2 frames under the allocation.
	 */
	if (precise_leaks && getenv("DRONEX_SRCDIR") != NULL)
		cr_assert(asprintf(&ch->lsan, "suppressions=%s/tests/lsan.supp:"
		    "fast_unwind_on_malloc=0", getenv("DRONEX_SRCDIR")) > 0);
}

void
dxh_child_apply(const struct dxh_child *ch)
{
	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	setenv("HOME", ch->home, 1);
	unsetenv("SSH_AUTH_SOCK");
	unsetenv("DRONEX_INVENTORY");
	unsetenv("SLURM_ARRAY_TASK_ID");
	unsetenv("SLURM_ARRAY_TASK_COUNT");
	unsetenv("JOB_COMPLETION_INDEX");
	unsetenv("DRONEX_SHARDS");
	if (ch->lsan != NULL)
		setenv("LSAN_OPTIONS", ch->lsan, 1);
}

void
dxh_child_free(struct dxh_child *ch)
{
	free(ch->lsan);
	ch->lsan = NULL;
}

/* Applies opts->env in the child: "NAME=value" sets, "NAME" unsets. */
static void
harness_child_env(const char *const *env)
{
	char name[256];
	const char *eq;
	size_t n;

	for (; env != NULL && *env != NULL; env++) {
		if ((eq = strchr(*env, '=')) == NULL) {
			unsetenv(*env);
			continue;
		}
		n = (size_t)(eq - *env);
		if (n == 0 || n >= sizeof(name))
			_exit(126);
		memcpy(name, *env, n);
		name[n] = '\0';
		setenv(name, eq + 1, 1);
	}
}

void
dxh_start(struct dxh_proc *p, const char *const *argv, const struct dxh_opts *opts)
{
	static const struct dxh_opts none;
	const char *bin, **av;
	struct dxh_child ch;
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2];
	size_t n;

	if (opts == NULL)
		opts = &none;
	memset(p, 0, sizeof(*p));
	bin = dxh_env("DRONEX_BIN");
	cr_assert(access(bin, X_OK) == 0, "DRONEX_BIN '%s' is not executable: %s",
	    bin, strerror(errno));
	dxh_child_prepare(&ch, !opts->timed);
	p->in = opts->stdin_text;
	p->inlen = p->in == NULL ? 0 : opts->stdin_len > 0 ? opts->stdin_len :
	    strlen(p->in);
	p->timeout = opts->timeout > 0 ? opts->timeout : 30;
	p->signal = opts->signal;
	p->signal_after = opts->signal_after;

	for (n = 0; argv[n] != NULL; n++)
		;
	cr_assert((av = calloc(n + 2, sizeof(*av))) != NULL);
	av[0] = bin;
	memcpy(av + 1, argv, n * sizeof(*av));

	if (p->in != NULL)
		cr_assert(pipe2(pin, O_CLOEXEC) == 0);
	if (opts->stdout_fd <= 0)
		cr_assert(pipe2(pout, O_CLOEXEC) == 0);
	cr_assert(pipe2(perr, O_CLOEXEC) == 0);
	fflush(NULL);
	p->start = dxh_now();
	p->pid = fork();
	cr_assert(p->pid != -1, "fork: %s", strerror(errno));
	if (p->pid == 0) {
		int fd;

		dxh_child_apply(&ch);
		harness_child_env(opts->env);
		if (opts->nofile > 0) {
			struct rlimit rl = { .rlim_cur = opts->nofile,
			    .rlim_max = opts->nofile };

			if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
				_exit(126);
		}
		if (p->in == NULL) {
			if ((fd = open("/dev/null", O_RDONLY)) != -1)
				dup2(fd, 0);
		} else
			dup2(pin[0], 0);
		dup2(opts->stdout_fd > 0 ? opts->stdout_fd : pout[1], 1);
		dup2(perr[1], 2);
		execv(bin, (char *const *)av);
		_exit(127);
	}
	setpgid(p->pid, p->pid);
	free(av);
	dxh_child_free(&ch);
	p->in_fd = -1;
	if (p->in != NULL) {
		close(pin[0]);
		p->in_fd = pin[1];
		if (p->inlen == 0) {
			close(p->in_fd);
			p->in_fd = -1;
		} else
			fcntl(p->in_fd, F_SETFL, O_NONBLOCK);
	}
	p->out_fd = pout[0];
	if (pout[1] != -1)
		close(pout[1]);
	p->err_fd = perr[0];
	close(perr[1]);
	p->out = strdup("");
	p->err = strdup("");
	cr_assert(p->out != NULL && p->err != NULL);
	/* Ignore EPIPE if dronex does not read its stdin. */
	signal(SIGPIPE, SIG_IGN);
}

/* The hard timeout and the scheduled signal, each at most once. */
static void
harness_act(struct dxh_proc *p)
{
	double t = dxh_now() - p->start;

	if (t >= p->timeout && !p->killed) {
		kill(-p->pid, SIGKILL);
		kill(p->pid, SIGKILL);
		p->killed = true;
	}
	if (p->signal != 0 && !p->sent && t >= p->signal_after) {
		kill(p->pid, p->signal);
		p->sent = true;
	}
}

static void
harness_close(int *fd)
{
	if (*fd != -1)
		close(*fd);
	*fd = -1;
}

bool
dxh_pump(struct dxh_proc *p, int ms)
{
	struct pollfd pfd[3];
	char chunk[65536];
	int nfd = 0, i;
	ssize_t got;

	harness_act(p);
	if (p->out_fd != -1)
		pfd[nfd++] = (struct pollfd){ .fd = p->out_fd, .events = POLLIN };
	if (p->err_fd != -1)
		pfd[nfd++] = (struct pollfd){ .fd = p->err_fd, .events = POLLIN };
	if (nfd == 0) {
		harness_close(&p->in_fd);
		return false;
	}
	if (p->in_fd != -1)
		pfd[nfd++] = (struct pollfd){ .fd = p->in_fd, .events = POLLOUT };
	if (poll(pfd, nfd, ms) == -1) {
		cr_assert(errno == EINTR, "poll: %s", strerror(errno));
		return true;
	}
	for (i = 0; i < nfd; i++) {
		if (pfd[i].revents == 0)
			continue;
		if (pfd[i].fd == p->in_fd) {
			got = write(p->in_fd, p->in + p->inoff, p->inlen - p->inoff);
			if (got > 0)
				p->inoff += got;
			if (got < 0 && errno != EAGAIN && errno != EINTR)
				p->inoff = p->inlen;
			if (p->inoff == p->inlen)
				harness_close(&p->in_fd);
			continue;
		}
		got = read(pfd[i].fd, chunk, sizeof(chunk));
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got <= 0) {
			harness_close(pfd[i].fd == p->out_fd ? &p->out_fd : &p->err_fd);
			continue;
		}
		if (pfd[i].fd == p->out_fd)
			dxh_append(&p->out, &p->outlen, &p->outcap, chunk, got);
		else
			dxh_append(&p->err, &p->errlen, &p->errcap, chunk, got);
	}
	return p->out_fd != -1 || p->err_fd != -1;
}

void
dxh_finish(struct dxh_proc *p, struct dxh_run *r)
{
	struct rusage ru;
	pid_t w;
	int st;

	memset(r, 0, sizeof(*r));
	while (dxh_pump(p, 50))
		;
	harness_close(&p->in_fd);
	/* Both pipes closed; the process may still be on its way out. */
	for (;;) {
		memset(&ru, 0, sizeof(ru));
		w = wait4(p->pid, &st, WNOHANG, &ru);
		if (w == p->pid)
			break;
		cr_assert(w == 0 || errno == EINTR, "wait4: %s", strerror(errno));
		harness_act(p);
		usleep(5000);
	}
	r->wall = dxh_now() - p->start;
	r->killed = p->killed;
	r->maxrss_kb = ru.ru_maxrss;
	if (WIFEXITED(st)) {
		r->status = WEXITSTATUS(st);
	} else {
		r->status = -1;
		r->termsig = WTERMSIG(st);
	}
	/* dronex starts no helpers; anything left in its group is a stray. */
	kill(-p->pid, SIGKILL);
	r->out = p->out;
	r->outlen = p->outlen;
	r->err = p->err;
	r->errlen = p->errlen;
	p->out = p->err = NULL;
	if (r->outlen > 0) {
		json_error_t je;

		r->json = json_loadb(r->out, r->outlen, 0, &je);
		if (r->json == NULL)
			snprintf(r->json_error, sizeof(r->json_error),
			    "line %d col %d: %s", je.line, je.column, je.text);
	} else
		snprintf(r->json_error, sizeof(r->json_error), "stdout is empty");
}

void
dxh_run_argv(struct dxh_run *r, const char *const *argv, const struct dxh_opts *opts)
{
	struct dxh_proc p;

	dxh_start(&p, argv, opts);
	dxh_finish(&p, r);
}

void
dxh_run(struct dxh_run *r, ...)
{
	const char *args[128];
	const char *a;
	va_list ap;
	size_t n = 0;
	struct dxh_opts o = { .timeout = 30 };

	va_start(ap, r);
	while ((a = va_arg(ap, const char *)) != NULL) {
		cr_assert(n < 127);
		args[n++] = a;
	}
	va_end(ap);
	args[n] = NULL;
	dxh_run_argv(r, args, &o);
}

void
dxh_run_free(struct dxh_run *r)
{
	free(r->out);
	free(r->err);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

void
dxh_dump(const struct dxh_run *r)
{
	fprintf(stderr, "--- dronex exit %d sig %d killed %d wall %.2fs\n"
	    "--- stdout (%zu bytes):\n%.4000s\n--- stderr (%zu bytes):\n%.4000s\n---\n",
	    r->status, r->termsig, r->killed, r->wall, r->outlen,
	    r->out ? r->out : "", r->errlen, r->err ? r->err : "");
}

void
dxh_name(char *buf, size_t len, int i)
{
	snprintf(buf, len, "d-%03d", i);
}

json_t *
dxh_inv_add(json_t *inv, const char *name)
{
	json_t *d;

	d = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}",
	    "name", name,
	    "host", "127.0.0.1",
	    "port", atoi(dxh_env("DX_TEST_PORT")),
	    "user", dxh_env("DX_TEST_USER"),
	    "identity", dxh_env("DX_TEST_KEY"),
	    "known_hosts", dxh_env("DX_TEST_KNOWN_HOSTS"));
	cr_assert(d != NULL);
	cr_assert(json_array_append_new(json_object_get(inv, "drones"), d) == 0);
	return d;
}

json_t *
dxh_inv_new(int n)
{
	json_t *inv;
	char name[32];
	int i;

	inv = json_pack("{s:[]}", "drones");
	cr_assert(inv != NULL);
	for (i = 1; i <= n; i++) {
		dxh_name(name, sizeof(name), i);
		dxh_inv_add(inv, name);
	}
	return inv;
}

json_t *
dxh_inv_drone(json_t *inv, const char *name)
{
	json_t *d;
	size_t i;

	json_array_foreach(json_object_get(inv, "drones"), i, d) {
		if (strcmp(json_string_value(json_object_get(d, "name")), name) == 0)
			return d;
	}
	cr_assert_fail("no drone '%s' in the test inventory", name);
	return NULL;
}

void
dxh_inv_set(json_t *inv, const char *name, const char *key, json_t *value)
{
	cr_assert(json_object_set_new(dxh_inv_drone(inv, name), key, value) == 0);
}

void
dxh_inv_calls(json_t *inv, const char *name, ...)
{
	json_t *calls = json_array();
	const char *c;
	va_list ap;

	va_start(ap, name);
	while ((c = va_arg(ap, const char *)) != NULL)
		json_array_append_new(calls, json_string(c));
	va_end(ap);
	dxh_inv_set(inv, name, "calls", calls);
}

char *
dxh_inv_write(json_t *inv)
{
	char *dir, *path;

	dir = dxh_tmpdir();
	cr_assert(asprintf(&path, "%s/drones.json", dir) > 0);
	cr_assert(json_dump_file(inv, path, JSON_INDENT(2)) == 0,
	    "cannot write '%s'", path);
	free(dir);
	return path;
}

json_t *
dxh_doc(const struct dxh_run *r)
{
	if (r->json == NULL)
		dxh_dump(r);
	cr_assert(r->json != NULL, "stdout is not JSON (%s); exit %d; stderr: %.2000s",
	    r->json_error, r->status, r->err);
	cr_assert(json_is_object(r->json), "stdout is not a JSON object");
	cr_assert(json_is_object(json_object_get(r->json, "drones")),
	    "stdout has no \"drones\" object: %.2000s", r->out);
	return r->json;
}

json_t *
dxh_drone(const struct dxh_run *r, const char *name)
{
	json_t *d = json_object_get(json_object_get(dxh_doc(r), "drones"), name);

	cr_assert(json_is_object(d), "no drone '%s' in the results: %.2000s",
	    name, r->out);
	return d;
}

const char *
dxh_status(const struct dxh_run *r, const char *name)
{
	const char *s = json_string_value(json_object_get(dxh_drone(r, name), "status"));

	cr_assert(s != NULL, "drone '%s' has no string \"status\"", name);
	return s;
}

const char *
dxh_kind(const struct dxh_run *r, const char *name)
{
	json_t *e = json_object_get(dxh_drone(r, name), "error");

	cr_assert(e != NULL, "drone '%s' has no \"error\" member", name);
	if (json_is_null(e))
		return NULL;
	cr_assert(json_is_object(e), "drone '%s': \"error\" is neither null nor an object",
	    name);
	return json_string_value(json_object_get(e, "kind"));
}

size_t
dxh_ncalls(const struct dxh_run *r, const char *name)
{
	json_t *c = json_object_get(dxh_drone(r, name), "calls");

	cr_assert(json_is_array(c), "drone '%s' has no \"calls\" array", name);
	return json_array_size(c);
}

json_t *
dxh_call(const struct dxh_run *r, const char *name, size_t i)
{
	json_t *c;

	cr_assert(dxh_ncalls(r, name) > i, "drone '%s' has %zu calls, wanted #%zu: %.2000s",
	    name, dxh_ncalls(r, name), i, r->out);
	c = json_array_get(json_object_get(dxh_drone(r, name), "calls"), i);
	cr_assert(json_is_object(c));
	return c;
}

const char *
dxh_call_str(const struct dxh_run *r, const char *name, size_t i, const char *field)
{
	return json_string_value(json_object_get(dxh_call(r, name, i), field));
}

const char *
dxh_call_kind(const struct dxh_run *r, const char *name, size_t i)
{
	json_t *e = json_object_get(dxh_call(r, name, i), "error");

	if (e == NULL || json_is_null(e))
		return NULL;
	return json_string_value(json_object_get(e, "kind"));
}

long long
dxh_summary(const struct dxh_run *r, const char *field)
{
	json_t *v = json_object_get(json_object_get(dxh_doc(r), "summary"), field);

	cr_assert(json_is_integer(v), "summary.%s is not an integer: %.2000s",
	    field, r->out);
	return json_integer_value(v);
}

unsigned char *
dxh_base64_decode(const char *text, size_t *len)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(text), o = 0, i;
	unsigned char *out;
	unsigned int acc = 0;
	int bits = 0, pad = 0;

	if (n % 4 != 0)
		return NULL;
	if ((out = malloc(n / 4 * 3 + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *p;

		if (text[i] == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (p = strchr(abc, text[i])) == NULL || text[i] == '\0') {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned int)(p - abc);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (acc >> bits) & 0xff;
		}
	}
	if (pad > 2) {
		free(out);
		return NULL;
	}
	*len = o;
	return out;
}

int
dxh_count_lines(const char *text, const char *prefix)
{
	size_t plen = strlen(prefix);
	const char *p = text;
	int n = 0;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, prefix, plen) == 0)
			n++;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return n;
}

int
dxh_count_procs(const char *needle)
{
	DIR *d;
	struct dirent *e;
	char path[300], buf[4096];
	int n = 0;
	pid_t self = getpid();

	cr_assert((d = opendir("/proc")) != NULL);
	while ((e = readdir(d)) != NULL) {
		ssize_t got, i;
		int fd;

		if (!isdigit((unsigned char)e->d_name[0]) || atoi(e->d_name) == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		if ((fd = open(path, O_RDONLY)) == -1)
			continue;
		got = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (got <= 0)
			continue;
		for (i = 0; i < got; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		buf[got] = '\0';
		if (strstr(buf, needle) != NULL)
			n++;
	}
	closedir(d);
	return n;
}

static int
harness_listen(int backlog, int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) != -1);
	cr_assert(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
	    "bind: %s", strerror(errno));
	if (backlog > 0)
		cr_assert(listen(fd, backlog) == 0);
	cr_assert(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

int
dxh_closed_port(void)
{
	int port, fd;

	fd = harness_listen(0, &port);
	close(fd);
	return port;
}

int
dxh_silent_listener(int *port)
{
	return harness_listen(64, port);
}
