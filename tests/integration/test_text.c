/*
 * test_text.c - --format text and the progress line as people see them
 * (SPEC sections 3 and 4), against the suite's sshd: identical outputs
 * gathered under folded names, a drone's own inventory calls left out,
 * failures folded once at the end with their kind, bytes from drones
 * escaped (in the failure lines on stderr too); colour on a terminal only, never with NO_COLOR, never in JSON;
 * the progress line drawn on a terminal and erased before the results and
 * after an interrupt.  A terminal is a pseudo-terminal (forkpty) whose
 * bytes the test reads as they come.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

#define RULE		"---------------"
#define ERASE		"\r\033[K"
#define PROGRESS	"drones done"

/* What a dronex under a pseudo-terminal wrote there (stdout and stderr). */
struct pty_run {
	char	*out;
	size_t	 len, cap;
	int	 status;	/* exit code, or -1 */
	int	 termsig;
	size_t	 signalled_at;	/* bytes read when the signal went */
};

/*
 * Runs $DRONEX_BIN argv with stdin, stdout and stderr on one raw
 * pseudo-terminal; env as struct dxh_opts's.  Once the terminal shows
 * wait_for (if not NULL), sends sig to dronex.
 */
static void
pty_run(struct pty_run *r, const char *const *argv, const char *const *env,
    const char *wait_for, int sig)
{
	const char *bin = dxh_env("DRONEX_BIN");
	const char *av[32];
	struct dxh_child ch;
	struct termios tio;
	struct winsize ws = { .ws_row = 24, .ws_col = 200 };
	double start = dxh_now();
	bool sent = false;
	int fd, wst;
	pid_t pid;
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	av[n++] = bin;
	for (; *argv != NULL && n < 31; argv++)
		av[n++] = *argv;
	av[n] = NULL;
	cfmakeraw(&tio);
	dxh_child_prepare(&ch, false);
	pid = forkpty(&fd, NULL, &tio, &ws);
	cr_assert(pid != -1, "forkpty: %s", strerror(errno));
	if (pid == 0) {
		dxh_child_apply(&ch);
		unsetenv("NO_COLOR");
		setenv("TERM", "xterm", 1);
		for (; env != NULL && *env != NULL; env++) {
			const char *eq = strchr(*env, '=');
			char name[64];

			if (eq == NULL) {
				unsetenv(*env);
				continue;
			}
			snprintf(name, sizeof(name), "%.*s", (int)(eq - *env), *env);
			setenv(name, eq + 1, 1);
		}
		execv(bin, (char *const *)av);
		_exit(127);
	}
	dxh_child_free(&ch);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char buf[4096];
		ssize_t got;

		if (dxh_now() - start > 60) {
			kill(pid, SIGKILL);
			cr_expect(false, "dronex under the pty did not end in 60 s");
		}
		if (poll(&p, 1, 100) <= 0)
			continue;
		got = read(fd, buf, sizeof(buf));
		if (got == -1 && errno == EINTR)
			continue;
		if (got <= 0)	/* EIO: the last descriptor on the slave closed */
			break;
		dxh_append(&r->out, &r->len, &r->cap, buf, (size_t)got);
		if (wait_for != NULL && !sent && strstr(r->out, wait_for) != NULL) {
			kill(pid, sig);
			sent = true;
			r->signalled_at = r->len;
		}
	}
	close(fd);
	cr_assert(waitpid(pid, &wst, 0) == pid);
	r->status = WIFEXITED(wst) ? WEXITSTATUS(wst) : -1;
	r->termsig = WIFSIGNALED(wst) ? WTERMSIG(wst) : 0;
	if (r->out == NULL)
		dxh_append(&r->out, &r->len, &r->cap, "", 0);
	cr_expect(wait_for == NULL || sent, "never saw '%s': %s", wait_for, r->out);
}

/* The last occurrence of needle in hay, or NULL. */
static const char *
last_of(const char *hay, const char *needle)
{
	const char *p, *last = NULL;

	for (p = hay; (p = strstr(p, needle)) != NULL; p++)
		last = p;
	return last;
}

/* True if s holds an SGR sequence (colour, bold): ESC [ digits/; m. */
static bool
has_sgr(const char *s)
{
	for (const char *p = s; (p = strstr(p, "\033[")) != NULL; p++) {
		const char *q = p + 2;

		while ((*q >= '0' && *q <= '9') || *q == ';')
			q++;
		if (*q == 'm')
			return true;
	}
	return false;
}

/* n drones d-001..; the caller frees the path. */
static char *
inv_path(int n, json_t **invp)
{
	json_t *inv = dxh_inv_new(n);
	char *path = dxh_inv_write(inv);

	if (invp != NULL)
		*invp = inv;
	else
		json_decref(inv);
	return path;
}

Test(text, identical_outputs_are_gathered_and_failures_folded_at_the_end,
    .timeout = 60)
{
	struct dxh_run r;
	json_t *inv = dxh_inv_new(4);
	char *dir = dxh_tmpdir(), *path, own[512], cmd[512];
	const char *argv[] = { "exec", "-i", NULL, "--format", "text", "--", cmd, NULL };
	const char *refused, *odd, *fails;
	int closed = dxh_closed_port();

	/*
	 * d-003 marks its own session (the client port in SSH_CONNECTION is
	 * the same for every call of one session) in an inventory call of
	 * its own that also prints; then the command line's call prints
	 * "odd" and fails there, "same" everywhere else.
	 */
	snprintf(own, sizeof(own), "touch %s/$(echo $SSH_CONNECTION | cut -d' ' -f2); "
	    "echo own-call-output", dir);
	snprintf(cmd, sizeof(cmd), "if test -e %s/$(echo $SSH_CONNECTION | cut -d' ' -f2); "
	    "then echo odd; exit 3; fi; echo same", dir);
	dxh_inv_calls(inv, "d-003", own, NULL);
	dxh_inv_add(inv, "r-1");
	dxh_inv_set(inv, "r-1", "port", json_integer(closed));
	dxh_inv_add(inv, "r-2");
	dxh_inv_set(inv, "r-2", "port", json_integer(closed));
	path = dxh_inv_write(inv);
	argv[2] = path;
	dxh_run_argv(&r, argv, &(struct dxh_opts){ .timeout = 50 });
	cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
	cr_expect(strstr(r.out, RULE "\nd-[001-002,004] (3)\n" RULE "\nsame\n") != NULL,
	    "%s", r.out);
	cr_expect(strstr(r.out, RULE "\nd-003 (1)\n" RULE "\nodd\n") != NULL, "%s", r.out);
	cr_expect_null(strstr(r.out, "own-call-output"), "an own call's output: %s", r.out);
	fails = strstr(r.out, RULE " not ok: 3 drones\n");
	cr_assert_not_null(fails, "%s", r.out);
	refused = strstr(r.out, "\nr-[1-2] (2) failed: connect_refused: ");
	odd = strstr(r.out, "\nd-003 (1) failed: nonzero_exit: ");
	cr_expect(refused != NULL && refused > fails, "%s", r.out);
	cr_expect(odd != NULL && odd > fails, "%s", r.out);
	/* Each failure once; the groups come before them. */
	cr_expect_eq(dxh_count_lines(r.out, "r-"), 1, "%s", r.out);
	cr_expect(strstr(r.out, "same\n") < fails);
	cr_expect(strstr(r.out, RULE " 6 drones: 3 ok, 3 failed (") > fails, "%s", r.out);
	cr_expect_null(strchr(r.out, '\033'), "colour on a pipe: %s", r.out);
	dxh_run_free(&r);
	json_decref(inv);
	free(path);
	free(dir);
}

Test(text, one_drone_is_one_drone, .timeout = 30)
{
	struct dxh_run r;
	char *path = inv_path(1, NULL);

	dxh_run(&r, "exec", "-i", path, "--format", "text", "--", "echo", "x", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect(strstr(r.out, RULE "\nd-001 (1)\n" RULE "\nx\n" RULE
	    " 1 drone: 1 ok (") != NULL, "%s", r.out);
	dxh_run_free(&r);
	free(path);
}

Test(text, escapes_and_control_bytes_from_a_drone_are_shown_escaped, .timeout = 30)
{
	struct dxh_run r;
	char *path = inv_path(1, NULL);

	dxh_run(&r, "exec", "-i", path, "--format", "text", "--",
	    "printf '\\033[31mred\\033[0m \\r \\a \\377 \\033]0;title\\a end\\n'", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect(strstr(r.out, "\\x1b[31mred\\x1b[0m \\r \\a \\xff \\x1b]0;title\\a end\n")
	    != NULL, "%s", r.out);
	for (size_t i = 0; i < r.outlen; i++) {
		unsigned char c = (unsigned char)r.out[i];

		cr_assert(c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f),
		    "raw byte 0x%02x at %zu: %s", c, i, r.out);
	}
	dxh_run_free(&r);
	free(path);
}

Test(text, colour_on_a_terminal, .timeout = 40)
{
	struct pty_run r;
	json_t *inv;
	char *path = inv_path(1, &inv);
	const char *argv[] = { "exec", "-i", NULL, "--format", "text", "--", "echo hi", NULL };

	dxh_inv_add(inv, "down");
	dxh_inv_set(inv, "down", "port", json_integer(dxh_closed_port()));
	free(path);
	path = dxh_inv_write(inv);
	argv[2] = path;
	pty_run(&r, argv, NULL, NULL, 0);
	cr_expect_eq(r.status, 1, "exit %d: %s", r.status, r.out);
	cr_expect(strstr(r.out, "\033[1md-001 (1)\033[0m") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "\033[31mdown (1) failed: connect_refused: ") != NULL,
	    "%s", r.out);
	free(r.out);

	/* NO_COLOR, whatever its value (even empty), and TERM=dumb: none. */
	{
		const char *envs[][2] = { { "NO_COLOR=1", NULL }, { "NO_COLOR=", NULL },
		    { "TERM=dumb", NULL } };

		for (size_t i = 0; i < 3; i++) {
			pty_run(&r, argv, envs[i], NULL, 0);
			cr_expect_eq(r.status, 1, "%s: exit %d", envs[i][0], r.status);
			cr_expect(strstr(r.out, "d-001 (1)") != NULL, "%s: %s", envs[i][0], r.out);
			cr_expect(!has_sgr(r.out), "%s: colour: %s", envs[i][0], r.out);
			free(r.out);
		}
	}
	json_decref(inv);
	free(path);
}

Test(text, json_and_jsonl_never_have_colour_nor_progress_in_their_lines,
    .timeout = 40)
{
	const char *formats[] = { "json", "jsonl" };
	char *path = inv_path(2, NULL);

	for (size_t i = 0; i < 2; i++) {
		const char *argv[] = { "exec", "-i", path, "--format", formats[i], "--",
		    "echo hi", NULL };
		struct pty_run r;

		pty_run(&r, argv, NULL, NULL, 0);
		cr_expect_eq(r.status, 0, "%s: exit %d: %s", formats[i], r.status, r.out);
		cr_expect(strstr(r.out, "\"stdout\":\"hi\\n\"") != NULL, "%s: %s",
		    formats[i], r.out);
		cr_expect(!has_sgr(r.out), "%s: colour: %s", formats[i], r.out);
		/* Each line of results starts on a line of its own. */
		cr_expect_null(strstr(r.out, "not ok{"), "%s: %s", formats[i], r.out);
		free(r.out);
	}
	free(path);
}

/*
 * The progress line on a terminal: drawn, and erased before the results,
 * so that what stays on the screen is the results alone.
 */
Test(text, the_progress_line_is_erased_before_the_results, .timeout = 60)
{
	const char *formats[] = { "text", "json" };
	char *path = inv_path(3, NULL);

	for (size_t i = 0; i < 2; i++) {
		const char *argv[] = { "exec", "-i", path, "-f", "1", "--format",
		    formats[i], "--", "sleep 0.2; echo hi", NULL };
		const char *results = i == 0 ? RULE : "{\"dronex\"";
		const char *last, *res;
		struct pty_run r;

		pty_run(&r, argv, NULL, NULL, 0);
		cr_expect_eq(r.status, 0, "exit %d: %s", r.status, r.out);
		cr_expect(strstr(r.out, "dronex: 0/3 " PROGRESS) != NULL, "%s", r.out);
		cr_expect(strstr(r.out, "dronex: 1/3 " PROGRESS) != NULL, "%s", r.out);
		last = last_of(r.out, PROGRESS);
		res = strstr(r.out, results);
		cr_assert(last != NULL && res != NULL, "%s", r.out);
		cr_expect(last < res, "progress after the results: %s", r.out);
		cr_expect(strstr(last, ERASE) != NULL && strstr(last, ERASE) < res,
		    "the progress line is not erased before the results: %s", r.out);
		/* Each redraw starts by erasing what was there. */
		cr_expect_null(strstr(r.out, "not ok" "dronex"), "%s", r.out);
		free(r.out);
	}
	free(path);
}

Test(text, the_progress_line_is_erased_after_an_interrupt, .timeout = 60)
{
	char *path = inv_path(2, NULL);
	const char *argv[] = { "exec", "-i", path, "--format", "text", "--", "sleep 30", NULL };
	const char *last, *erase;
	struct pty_run r;
	double t0 = dxh_now();

	pty_run(&r, argv, NULL, "dronex: 0/2 " PROGRESS ", 0 not ok", SIGINT);
	cr_expect_eq(r.status, 130, "exit %d: %s", r.status, r.out);
	cr_expect_lt(dxh_now() - t0, 25.0, "the interrupt did not end the run");
	last = last_of(r.out, PROGRESS);
	cr_assert_not_null(last, "%s", r.out);
	erase = strstr(last, ERASE);
	cr_expect_not_null(erase, "no erase after the last progress text: %s", r.out);
	/* The results and the failure lines start on a clean line. */
	cr_expect(strstr(r.out, RULE " not ok: 2 drones") > erase, "%s", r.out);
	cr_expect(strstr(r.out, "interrupted") > erase, "%s", r.out);
	cr_expect(r.signalled_at > 0);
	free(r.out);
	free(path);
}

Test(text, progress_goes_to_a_pipe_only_when_asked, .timeout = 40)
{
	struct dxh_run r;
	char *path = inv_path(2, NULL);
	const char *last;

	dxh_run(&r, "exec", "-i", path, "--", "true", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect_null(strstr(r.err, PROGRESS), "progress on a pipe: %s", r.err);
	dxh_run_free(&r);

	dxh_run(&r, "exec", "-i", path, "--progress", "--", "true", NULL);
	cr_expect_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
	cr_expect(strstr(r.err, "dronex: 2/2 " PROGRESS) != NULL, "%s", r.err);
	last = last_of(r.err, PROGRESS);
	cr_expect(last != NULL && strstr(last, ERASE) != NULL, "not erased: %s", r.err);
	dxh_run_free(&r);
	free(path);
}

/* The failure lines on stderr quote the command: escaped there too. */
Test(text, the_failure_lines_on_stderr_are_escaped_too, .timeout = 40)
{
	char *path = inv_path(1, NULL);
	const bool quiet[] = { false, true };

	for (size_t k = 0; k < 2; k++) {
		struct dxh_run r;

		if (quiet[k])
			dxh_run(&r, "exec", "-q", "-i", path, "--", "exit 3 # \x1b[2J\r", NULL);
		else
			dxh_run(&r, "exec", "-i", path, "--", "exit 3 # \x1b[2J\r", NULL);
		cr_expect_eq(r.status, 1, "exit %d, stderr: %s", r.status, r.err);
		/* -q prints the consolidated line alone: names and kinds. */
		cr_expect(quiet[k] || strstr(r.err, "\\x1b[2J") != NULL, "%s", r.err);
		for (size_t i = 0; i < r.errlen; i++) {
			unsigned char c = (unsigned char)r.err[i];

			cr_assert(c == '\n' || (c >= 0x20 && c < 0x7f),
			    "-q %d: raw byte 0x%02x at %zu: %s", quiet[k], c, i, r.err);
		}
		dxh_run_free(&r);
	}
	free(path);
}
