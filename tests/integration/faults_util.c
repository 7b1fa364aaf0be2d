/*
 * faults_util.c - helpers that make faults for real for dronex's
 * integration tests, and find the processes a run left on the drone.
 *
 * Theory of operation: dronex itself runs under the harness's runner
 * (dxh_start(), dxh_pump(), dxh_finish()), so that a test can act while it
 * runs; this file makes what it acts on.  Remote processes are found through
 * /proc: sshd runs every command of a session as a child of the session's
 * own sshd process ("sshd: user@notty"), itself a child of the listener
 * whose pid the test sshd wrote to $DX_TEST_SSHD_PID, so a command line
 * and two parent links identify exactly one test's session.
 *
 * The full-backlog port relies on Linux dropping a SYN when the listener's
 * accept queue is full (whatever tcp_syncookies says), so the client never
 * hears a SYN-ACK.  The relay is one thread with one poll() loop over the
 * listener, a stop pipe and every relayed pair.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "faults_util.h"

long long
fu_attempts(const struct dxh_run *r, const char *name)
{
	json_t *a = json_object_get(dxh_drone(r, name), "attempts");

	return json_is_integer(a) ? json_integer_value(a) : -1;
}

void
fu_name(char *buf, size_t len, const char *prefix, int i)
{
	snprintf(buf, len, "%s-%03d", prefix, i);
}

/* n drones, each with the one call; the inventory path. */
char *
fu_inventory(int n, const char *call, json_t **inv)
{
	char name[32];
	int i;

	*inv = dxh_inv_new(n);
	for (i = 1; i <= n; i++) {
		dxh_name(name, sizeof(name), i);
		dxh_inv_calls(*inv, name, call, NULL);
	}
	return dxh_inv_write(*inv);
}

/*
 * Every one of n drones is in the results: running ones failed with kind
 * (their first call too, when in_call), the others skipped with kind and
 * no calls.  Returns how many ran.
 */
int
fu_check_cut(const struct dxh_run *r, int n, int running, const char *kind, bool in_call)
{
	char name[32];
	int i, failed = 0, skipped = 0;

	cr_assert_eq(dxh_summary(r, "drones"), n, "%s", r->out);
	cr_assert_eq(json_object_size(json_object_get(dxh_doc(r), "drones")), (size_t)n);
	for (i = 1; i <= n; i++) {
		const char *st, *k;

		dxh_name(name, sizeof(name), i);
		st = dxh_status(r, name);
		k = dxh_kind(r, name);
		cr_expect_str_eq(k != NULL ? k : "(null)", kind, "%s: %s", name, r->out);
		if (strcmp(st, "failed") == 0) {
			failed++;
			if (in_call)
				cr_expect_str_eq(dxh_call_kind(r, name, 0), kind, "%s", name);
			/* A healthy drone confirmed that the cut command got TERM. */
			cr_expect(!fu_maybe_running(r, name), "%s: %s", name, r->out);
		} else {
			cr_expect_str_eq(st, "skipped", "%s: %s", name, r->out);
			cr_expect_eq(dxh_ncalls(r, name), 0, "skipped %s ran calls", name);
			skipped++;
		}
	}
	cr_expect_eq(failed, running, "%d drones were cut, %d ran: %s", failed, running, r->out);
	cr_expect_eq(skipped, n - running);
	cr_expect_eq(dxh_summary(r, "failed"), running);
	cr_expect_eq(dxh_summary(r, "skipped"), n - running);
	cr_expect(json_is_string(json_object_get(dxh_doc(r), "error")));
	return failed;
}

/* The command line of pid with NULs as spaces; false if it is gone. */
static bool
fu_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t got, i;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY)) == -1)
		return false;
	got = read(fd, buf, len - 1);
	close(fd);
	if (got <= 0)
		return false;
	for (i = 0; i < got; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[got] = '\0';
	return true;
}

pid_t
fu_ppid(pid_t pid)
{
	char path[64], buf[1024], *p;
	ssize_t got;
	int fd, ppid;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY)) == -1)
		return -1;
	got = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (got <= 0)
		return -1;
	buf[got] = '\0';
	/* The command name may hold spaces and parentheses: skip to the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return -1;
	return ppid;
}

/* Calls fn(pid, arg) for every process but this one; stops when fn says so. */
static void
fu_each_proc(bool (*fn)(pid_t, const char *, void *), void *arg)
{
	struct dirent *e;
	char buf[4096];
	pid_t self = getpid();
	DIR *d;

	cr_assert((d = opendir("/proc")) != NULL);
	while ((e = readdir(d)) != NULL) {
		pid_t pid;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = atoi(e->d_name);
		if (pid == self || !fu_cmdline(pid, buf, sizeof(buf)))
			continue;
		if (!fn(pid, buf, arg))
			break;
	}
	closedir(d);
}

struct fu_find {
	const char	*needle;
	pid_t		 listener;
	pid_t		 found;
	pid_t		 sshd;
};

static bool
fu_find_one(pid_t pid, const char *cmd, void *arg)
{
	struct fu_find *f = arg;
	char buf[4096];
	pid_t parent;

	if (strstr(cmd, f->needle) == NULL)
		return true;
	if ((parent = fu_ppid(pid)) <= 1 || fu_ppid(parent) != f->listener)
		return true;
	if (!fu_cmdline(parent, buf, sizeof(buf)) || strncmp(buf, "sshd: ", 6) != 0)
		return true;
	f->found = pid;
	f->sshd = parent;
	return false;
}

pid_t
fu_session_of(const char *needle, double timeout, pid_t *sshd)
{
	struct fu_find f = { .needle = needle, .found = -1, .sshd = -1 };
	double end = dxh_now() + timeout;

	f.listener = atoi(dxh_env("DX_TEST_SSHD_PID"));
	cr_assert(f.listener > 1, "DX_TEST_SSHD_PID is not a pid");
	for (;;) {
		fu_each_proc(fu_find_one, &f);
		if (f.found != -1 || dxh_now() >= end)
			break;
		usleep(50 * 1000);
	}
	if (sshd != NULL)
		*sshd = f.sshd;
	return f.found;
}

struct fu_desc {
	const char	*needle;
	char		*text;
	size_t		 len, cap;
};

static bool
fu_describe_one(pid_t pid, const char *cmd, void *arg)
{
	struct fu_desc *d = arg;
	char line[1200], parent[400];
	pid_t pp;
	int n;

	if (strstr(cmd, d->needle) == NULL)
		return true;
	pp = fu_ppid(pid);
	if (pp <= 0 || !fu_cmdline(pp, parent, sizeof(parent)))
		snprintf(parent, sizeof(parent), "?");
	n = snprintf(line, sizeof(line), "%d %d (%.300s) %.500s\n", (int)pid, (int)pp,
	    parent, cmd);
	if (n > 0)
		dxh_append(&d->text, &d->len, &d->cap, line, (size_t)n < sizeof(line) ?
		    (size_t)n : sizeof(line) - 1);
	return true;
}

char *
fu_describe(const char *needle)
{
	struct fu_desc d = { .needle = needle };

	dxh_append(&d.text, &d.len, &d.cap, "", 0);
	fu_each_proc(fu_describe_one, &d);
	return d.text;
}

struct fu_kill {
	const char	*cmdline;
	int		 killed;
};

static bool
fu_kill_one(pid_t pid, const char *cmd, void *arg)
{
	struct fu_kill *k = arg;
	size_t n = strlen(k->cmdline);

	/* fu_cmdline() turned the NUL after the last argument into a space. */
	if (strncmp(cmd, k->cmdline, n) == 0 && strspn(cmd + n, " ") == strlen(cmd + n) &&
	    kill(pid, SIGKILL) == 0)
		k->killed++;
	return true;
}

int
fu_kill_exact(const char *cmdline)
{
	struct fu_kill k = { .cmdline = cmdline };

	fu_each_proc(fu_kill_one, &k);
	return k.killed;
}

bool
fu_maybe_running(const struct dxh_run *r, const char *name)
{
	json_t *e = json_object_get(dxh_drone(r, name), "error");
	const char *msg = json_string_value(json_object_get(e, "message"));

	return msg != NULL && strstr(msg, "may still be running on the drone") != NULL;
}

int
fu_wait_count(const char *needle, int want, double timeout)
{
	double end = dxh_now() + timeout;
	int n;

	while ((n = dxh_count_procs(needle)) != want && dxh_now() < end)
		usleep(50 * 1000);
	return n;
}

int
fu_signal_if(pid_t pid, const char *needle, int sig)
{
	char buf[4096];

	if (pid <= 1 || !fu_cmdline(pid, buf, sizeof(buf)) || strstr(buf, needle) == NULL)
		return -1;
	return kill(pid, sig);
}

/* A non-blocking connect to 127.0.0.1:port; the fd (connected or not). */
static int
fu_connect_nb(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	cr_assert(fd != -1, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		cr_assert(errno == EINPROGRESS, "connect: %s", strerror(errno));
	return fd;
}

/* Waits up to ms for fd's connect to complete; true if it did. */
static bool
fu_completed(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int soerr = 0;

	if (poll(&pfd, 1, ms) != 1)
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		return false;
	return soerr == 0;
}

bool
fu_connect_completes(int port, int ms)
{
	int fd = fu_connect_nb(port);
	bool ok = fu_completed(fd, ms);

	close(fd);
	return ok;
}

void
fu_backlog_open(struct fu_backlog *b)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);

	memset(b, 0, sizeof(*b));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	b->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(b->listen_fd != -1);
	cr_assert(bind(b->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
	    "bind: %s", strerror(errno));
	cr_assert(listen(b->listen_fd, 0) == 0);
	cr_assert(getsockname(b->listen_fd, (struct sockaddr *)&sa, &len) == 0);
	b->port = ntohs(sa.sin_port);
	/*
	 * Fill the accept queue: each connect that completes sits in it,
	 * never accepted.  The first one that does not complete in 300 ms
	 * shows the queue is full; it is closed again.
	 */
	for (;;) {
		int fd;

		cr_assert(b->nfds < (int)(sizeof(b->fds) / sizeof(b->fds[0])),
		    "the accept queue of a listen(fd, 0) socket never filled");
		fd = fu_connect_nb(b->port);
		if (!fu_completed(fd, 300)) {
			close(fd);
			break;
		}
		b->fds[b->nfds++] = fd;
	}
	cr_assert(b->nfds >= 1, "not one connection reached the listener");
}

void
fu_backlog_close(struct fu_backlog *b)
{
	int i;

	for (i = 0; i < b->nfds; i++)
		close(b->fds[i]);
	close(b->listen_fd);
	memset(b, 0, sizeof(*b));
	b->listen_fd = -1;
}

#define FU_MAXPAIRS	64

struct fu_pair {
	int		 client;	/* -1: slot free */
	int		 server;
	double		 accepted;
	bool		 cut;		/* close this one at accepted + cut_after */
};

struct fu_proxy {
	pthread_t	 thread;
	int		 listen_fd;
	int		 port;
	int		 target;
	int		 drop_first;
	int		 cut_after_ms;
	int		 stop[2];
	pthread_mutex_t	 lock;
	int		 accepted;	/* lock */
	bool		 cut_done;	/* the proxy thread only */
	struct fu_pair	 pairs[FU_MAXPAIRS];
};

static void
fu_pair_close(struct fu_pair *pp)
{
	if (pp->client == -1)
		return;
	shutdown(pp->client, SHUT_RDWR);
	shutdown(pp->server, SHUT_RDWR);
	close(pp->client);
	close(pp->server);
	pp->client = pp->server = -1;
}

/* Copies what from has to to; false when the pair should close. */
static bool
fu_relay(int from, int to)
{
	char buf[65536];
	ssize_t got, off = 0, put;

	got = read(from, buf, sizeof(buf));
	if (got < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (got <= 0)
		return false;
	while (off < got) {
		put = write(to, buf + off, got - off);
		if (put < 0 && errno == EINTR)
			continue;
		if (put <= 0)
			return false;
		off += put;
	}
	return true;
}

static void
fu_proxy_accept(struct fu_proxy *px)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct fu_pair *pp = NULL;
	int c, s, n, i;

	if ((c = accept4(px->listen_fd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return;
	pthread_mutex_lock(&px->lock);
	n = ++px->accepted;
	pthread_mutex_unlock(&px->lock);
	if (n <= px->drop_first) {
		close(c);
		return;
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(px->target);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s == -1 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		if (s != -1)
			close(s);
		close(c);
		return;
	}
	for (i = 0; i < FU_MAXPAIRS; i++)
		if (px->pairs[i].client == -1) {
			pp = &px->pairs[i];
			break;
		}
	if (pp == NULL) {
		close(s);
		close(c);
		return;
	}
	pp->client = c;
	pp->server = s;
	pp->accepted = dxh_now();
	pp->cut = px->cut_after_ms > 0 && !px->cut_done;
	px->cut_done = px->cut_done || pp->cut;
}

static void *
fu_proxy_main(void *arg)
{
	struct fu_proxy *px = arg;
	struct pollfd pfd[2 + 2 * FU_MAXPAIRS];
	int owner[2 + 2 * FU_MAXPAIRS];
	int nfd, i;

	for (;;) {
		nfd = 0;
		pfd[nfd] = (struct pollfd){ .fd = px->stop[0], .events = POLLIN };
		owner[nfd++] = -1;
		pfd[nfd] = (struct pollfd){ .fd = px->listen_fd, .events = POLLIN };
		owner[nfd++] = -1;
		for (i = 0; i < FU_MAXPAIRS; i++) {
			struct fu_pair *pp = &px->pairs[i];

			if (pp->client == -1)
				continue;
			if (pp->cut && dxh_now() - pp->accepted >= px->cut_after_ms / 1000.0) {
				fu_pair_close(pp);
				continue;
			}
			pfd[nfd] = (struct pollfd){ .fd = pp->client, .events = POLLIN };
			owner[nfd++] = i;
			pfd[nfd] = (struct pollfd){ .fd = pp->server, .events = POLLIN };
			owner[nfd++] = i;
		}
		if (poll(pfd, nfd, 20) == -1)
			continue;
		if (pfd[0].revents != 0)
			break;
		if (pfd[1].revents != 0)
			fu_proxy_accept(px);
		for (i = 2; i < nfd; i++) {
			struct fu_pair *pp = &px->pairs[owner[i]];
			int to;

			if (pfd[i].revents == 0 || pp->client == -1)
				continue;
			to = pfd[i].fd == pp->client ? pp->server : pp->client;
			if (!fu_relay(pfd[i].fd, to))
				fu_pair_close(pp);
		}
	}
	for (i = 0; i < FU_MAXPAIRS; i++)
		fu_pair_close(&px->pairs[i]);
	return NULL;
}

struct fu_proxy *
fu_proxy_start(int target_port, int drop_first, int cut_after_ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct fu_proxy *px;
	int i;

	cr_assert((px = calloc(1, sizeof(*px))) != NULL);
	px->target = target_port;
	px->drop_first = drop_first;
	px->cut_after_ms = cut_after_ms;
	for (i = 0; i < FU_MAXPAIRS; i++)
		px->pairs[i].client = px->pairs[i].server = -1;
	pthread_mutex_init(&px->lock, NULL);
	cr_assert(pipe2(px->stop, O_CLOEXEC) == 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	px->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(px->listen_fd != -1);
	cr_assert(bind(px->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	cr_assert(listen(px->listen_fd, 64) == 0);
	cr_assert(getsockname(px->listen_fd, (struct sockaddr *)&sa, &len) == 0);
	px->port = ntohs(sa.sin_port);
	cr_assert(pthread_create(&px->thread, NULL, fu_proxy_main, px) == 0);
	return px;
}

int
fu_proxy_port(const struct fu_proxy *px)
{
	return px->port;
}

int
fu_proxy_accepted(struct fu_proxy *px)
{
	int n;

	pthread_mutex_lock(&px->lock);
	n = px->accepted;
	pthread_mutex_unlock(&px->lock);
	return n;
}

void
fu_proxy_stop(struct fu_proxy *px)
{
	if (px == NULL)
		return;
	(void)write(px->stop[1], "x", 1);
	pthread_join(px->thread, NULL);
	close(px->stop[0]);
	close(px->stop[1]);
	close(px->listen_fd);
	pthread_mutex_destroy(&px->lock);
	free(px);
}

void
fu_proxy_drone(struct fu_proxy *px, json_t *inv, const char *name)
{
	char *dir, *path, *line;

	cr_assert(asprintf(&line, "[127.0.0.1]:%d %s\n", px->port,
	    dxh_env("DX_TEST_HOSTKEY_PUB")) > 0);
	dir = dxh_tmpdir();
	path = dxh_write_file(dir, "known_hosts", line);
	dxh_inv_set(inv, name, "port", json_integer(px->port));
	dxh_inv_set(inv, name, "known_hosts", json_string(path));
	free(path);
	free(dir);
	free(line);
}

static pid_t
fu_spawn(const char *const *argv, const char *sock)
{
	pid_t pid = fork();

	cr_assert(pid != -1);
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		dup2(fd, 0);
		dup2(fd, 1);
		if (sock != NULL)
			setenv("SSH_AUTH_SOCK", sock, 1);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* A real ssh-agent on sock (foreground, so its pid is ours) holding key. */
pid_t
fu_agent_start(const char *sock, const char *key)
{
	const char *agent[] = { "ssh-agent", "-D", "-a", sock, NULL };
	const char *add[] = { "ssh-add", "-q", key, NULL };
	struct sockaddr_un sa;
	pid_t pid, apid;
	int st, fd, tries;

	pid = fu_spawn(agent, NULL);
	/* Ready when a connect succeeds (the agent binds, then listens). */
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, sock);
	for (tries = 0; tries < 500; tries++) {
		cr_assert((fd = socket(AF_UNIX, SOCK_STREAM, 0)) != -1);
		st = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		close(fd);
		if (st == 0)
			break;
		poll(NULL, 0, 10);
	}
	cr_assert(tries < 500, "ssh-agent did not start");
	apid = fu_spawn(add, sock);
	cr_assert(waitpid(apid, &st, 0) == apid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "ssh-add %s failed", key);
	return pid;
}

void
fu_agent_stop(pid_t pid)
{
	int st;

	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
}
