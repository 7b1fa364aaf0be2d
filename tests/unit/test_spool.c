/*
 * test_spool.c - the serve spool (spool.h): atomic writes, the refusals
 * (symlinks, hard links, FIFOs, sockets, oversized files, a spool of the
 * wrong owner or mode), ids that sort and never collide across forked
 * submitters, the lock, and the group-committed journal.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "spool.h"

static char spool_dir[64];

static void
mkspool(void)
{
	snprintf(spool_dir, sizeof(spool_dir), "/tmp/dx-test-spool.XXXXXX");
	cr_assert_not_null(mkdtemp(spool_dir));
	/* The spool itself goes one level down, so the test owns the parent. */
	strcat(spool_dir, "/s");
}

static void
rmspool(void)
{
	char cmd[300];
	char *slash = strrchr(spool_dir, '/');

	*slash = '\0';
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", spool_dir);
	cr_assert_eq(system(cmd), 0);
}

static struct dx_spool *
open_new(void)
{
	struct dx_spool *sp;
	struct dx_err err = { 0 };

	cr_assert_eq(dx_spool_open(&sp, spool_dir, true, &err), 0, "%s", err.msg);
	return sp;
}

static void
path_of(char *buf, size_t size, const char *sub, const char *name)
{
	snprintf(buf, size, "%s/%s/%s", spool_dir, sub, name);
}

TestSuite(spool, .init = mkspool, .fini = rmspool, .timeout = 60);

Test(spool, create_makes_private_directories)
{
	static const char *subs[] = { "tmp", "requested", "pending", "running",
	    "complete", "aborting", "control" };
	struct dx_spool *sp = open_new();
	struct stat st;
	char p[512];

	cr_assert_eq(stat(spool_dir, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0700);
	for (size_t i = 0; i < 7; i++) {
		snprintf(p, sizeof(p), "%s/%s", spool_dir, subs[i]);
		cr_assert_eq(lstat(p, &st), 0, "%s", p);
		cr_assert(S_ISDIR(st.st_mode));
		cr_assert_eq(st.st_mode & 07777, 0700, "%s", p);
		cr_assert_geq(dx_spool_dirfd(sp, subs[i]), 0);
	}
	cr_assert_eq(dx_spool_dirfd(sp, "nope"), -1);
	cr_assert_str_eq(dx_spool_path(sp), spool_dir);
	dx_spool_close(sp);
}

Test(spool, open_without_create_needs_the_spool)
{
	struct dx_spool *sp;
	struct dx_err err = { 0 };

	cr_assert_eq(dx_spool_open(&sp, spool_dir, false, &err), -1);
	cr_assert_null(sp);
	cr_assert(strstr(err.msg, "does not exist") != NULL, "%s", err.msg);
}

Test(spool, write_is_atomic_0600_and_never_overwrites)
{
	struct dx_spool *sp = open_new();
	struct dx_err err = { 0 };
	char p[512], *buf;
	struct stat st;
	size_t len;
	char **names;
	size_t n;

	umask(0);	/* the file must still be 0600 */
	cr_assert_eq(dx_spool_write(sp, "requested", "r1", "{\"a\":1}", 7, false,
	    &err), 0, "%s", err.msg);
	umask(022);
	path_of(p, sizeof(p), "requested", "r1");
	cr_assert_eq(lstat(p, &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_mode & 07777, 0600);
	/* Nothing stays behind in tmp/. */
	cr_assert_eq(dx_spool_list(sp, "tmp", &names, &n, NULL, NULL, &err), 0);
	cr_assert_eq(n, 0);
	dx_spool_names_free(names, n);
	/* Without replace an existing name stays as it was. */
	cr_assert_eq(dx_spool_write(sp, "requested", "r1", "other", 5, false, &err),
	    -1);
	cr_assert_eq(errno, EEXIST);
	cr_assert(strstr(err.msg, "already exists") != NULL, "%s", err.msg);
	cr_assert_eq(dx_spool_read(sp, "requested", "r1", 100, &buf, &len, &err), 0);
	cr_assert_eq(len, 7);
	cr_assert_str_eq(buf, "{\"a\":1}");
	free(buf);
	/* With replace (status.json) it is swapped whole. */
	cr_assert_eq(dx_spool_write(sp, NULL, "status.json", "1", 1, true, &err), 0);
	cr_assert_eq(dx_spool_write(sp, NULL, "status.json", "22", 2, true, &err), 0);
	cr_assert_eq(dx_spool_read(sp, NULL, "status.json", 100, &buf, &len, &err), 0);
	cr_assert_str_eq(buf, "22");
	free(buf);
	dx_spool_close(sp);
}

Test(spool, write_survives_a_stale_tmp_file)
{
	struct dx_spool *sp = open_new();
	struct dx_err err = { 0 };
	char p[512], *buf;
	size_t len;
	int fd;

	/* A crash between create and rename leaves tmp/NAME behind. */
	path_of(p, sizeof(p), "tmp", "r2");
	cr_assert_geq(fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600), 0);
	cr_assert_eq(write(fd, "torn", 4), 4);
	close(fd);
	cr_assert_eq(dx_spool_write(sp, "complete", "r2", "whole", 5, false, &err), 0,
	    "%s", err.msg);
	cr_assert_eq(dx_spool_read(sp, "complete", "r2", 100, &buf, &len, &err), 0);
	cr_assert_str_eq(buf, "whole");
	free(buf);
	dx_spool_close(sp);
}

Test(spool, write_never_follows_a_symlink_in_tmp)
{
	struct dx_spool *sp = open_new();
	struct dx_err err = { 0 };
	char p[512], victim[512];
	struct stat st;
	int fd;

	snprintf(victim, sizeof(victim), "%s.victim", spool_dir);
	cr_assert_geq(fd = open(victim, O_WRONLY | O_CREAT, 0600), 0);
	close(fd);
	path_of(p, sizeof(p), "tmp", "r3");
	cr_assert_eq(symlink(victim, p), 0);
	/* The symlink is removed as a stale name, never written through. */
	cr_assert_eq(dx_spool_write(sp, "requested", "r3", "x", 1, false, &err), 0,
	    "%s", err.msg);
	cr_assert_eq(stat(victim, &st), 0);
	cr_assert_eq(st.st_size, 0);
	dx_spool_close(sp);
}

static void
assert_refused(struct dx_spool *sp, const char *name, const char *why)
{
	struct dx_err err = { 0 };
	char *buf = NULL;
	size_t len;

	cr_assert_eq(dx_spool_read(sp, "requested", name, 1 << 20, &buf, &len, &err),
	    -1, "%s was read", name);
	cr_assert_null(buf);
	cr_assert(strstr(err.msg, why) != NULL, "%s: got '%s', want '%s'", name,
	    err.msg, why);
	cr_assert(strstr(err.msg, name) != NULL, "message names the file: %s",
	    err.msg);
	cr_assert_eq(dx_spool_check(sp, "requested", name, 1 << 20, &err), -1);
}

Test(spool, read_refuses_what_is_not_a_plain_private_file)
{
	struct dx_spool *sp = open_new();
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char p[512], target[512];
	int fd, s;

	/* A symlink to a readable file: never followed. */
	path_of(target, sizeof(target), "complete", "secret");
	cr_assert_geq(fd = open(target, O_WRONLY | O_CREAT, 0600), 0);
	cr_assert_eq(write(fd, "{}", 2), 2);
	close(fd);
	path_of(p, sizeof(p), "requested", "link");
	cr_assert_eq(symlink(target, p), 0);
	assert_refused(sp, "link", "is a symlink");
	/* A hard link to it: st_nlink is 2. */
	path_of(p, sizeof(p), "requested", "hard");
	cr_assert_eq(link(target, p), 0);
	assert_refused(sp, "hard", "has 2 links");
	/* A FIFO: refused at once, not a read that blocks forever. */
	path_of(p, sizeof(p), "requested", "fifo");
	cr_assert_eq(mkfifo(p, 0600), 0);
	assert_refused(sp, "fifo", "is a FIFO");
	/* A socket. */
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/requested/sock", spool_dir);
	cr_assert_geq(s = socket(AF_UNIX, SOCK_STREAM, 0), 0);
	cr_assert_eq(bind(s, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_refused(sp, "sock", "is a socket");
	close(s);
	/* A directory. */
	path_of(p, sizeof(p), "requested", "dir");
	cr_assert_eq(mkdir(p, 0700), 0);
	assert_refused(sp, "dir", "is a directory");
	/* Too big: the size is in the message. */
	path_of(p, sizeof(p), "requested", "big");
	cr_assert_geq(fd = open(p, O_WRONLY | O_CREAT, 0600), 0);
	cr_assert_eq(ftruncate(fd, 9 << 20), 0);
	close(fd);
	assert_refused(sp, "big", "is 9 MiB, over the 1 MiB limit");
	/* Writable by others. */
	path_of(p, sizeof(p), "requested", "wide");
	cr_assert_geq(fd = open(p, O_WRONLY | O_CREAT, 0600), 0);
	cr_assert_eq(fchmod(fd, 0666), 0);
	close(fd);
	assert_refused(sp, "wide", "writable by group or others");
	/* Another owner (the tests run as root, which may chown). */
	if (geteuid() == 0) {
		path_of(p, sizeof(p), "requested", "theirs");
		cr_assert_geq(fd = open(p, O_WRONLY | O_CREAT, 0600), 0);
		cr_assert_eq(fchown(fd, 12345, 12345), 0);
		close(fd);
		assert_refused(sp, "theirs", "is owned by uid 12345");
	}
	/* Unsafe names are refused before any system call. */
	assert_refused(sp, "../complete/secret", "not a safe spool file name");
	dx_spool_close(sp);
}

static int nbad;
static char bad_names[16][64];

static void
on_bad(void *arg, const char *sub, const char *name, const char *why)
{
	(void)arg;
	cr_assert_str_eq(sub, "requested");
	cr_assert_not_null(why);
	if (nbad < 16)
		snprintf(bad_names[nbad++], 64, "%s", name);
}

Test(spool, list_sorts_and_reports_what_is_not_a_file)
{
	struct dx_spool *sp = open_new();
	struct dx_err err = { 0 };
	char p[512], **names;
	size_t n;

	cr_assert_eq(dx_spool_write(sp, "requested", "b", "1", 1, false, &err), 0);
	cr_assert_eq(dx_spool_write(sp, "requested", "a", "1", 1, false, &err), 0);
	cr_assert_eq(dx_spool_write(sp, "requested", "c", "1", 1, false, &err), 0);
	path_of(p, sizeof(p), "requested", "zlink");
	cr_assert_eq(symlink("/etc/passwd", p), 0);
	path_of(p, sizeof(p), "requested", "zfifo");
	cr_assert_eq(mkfifo(p, 0600), 0);
	path_of(p, sizeof(p), "requested", ".hidden");
	cr_assert_eq(mkfifo(p, 0600), 0);
	nbad = 0;
	cr_assert_eq(dx_spool_list(sp, "requested", &names, &n, on_bad, NULL, &err), 0);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(names[0], "a");
	cr_assert_str_eq(names[1], "b");
	cr_assert_str_eq(names[2], "c");
	dx_spool_names_free(names, n);
	cr_assert_eq(nbad, 2);
	dx_spool_close(sp);
}

Test(spool, move_rename_remove)
{
	struct dx_spool *sp = open_new();
	struct dx_err err = { 0 };
	char p[512];

	cr_assert_eq(dx_spool_write(sp, "requested", "m", "1", 1, false, &err), 0);
	cr_assert_eq(dx_spool_move(sp, "requested", "pending", "m", &err), 0);
	cr_assert(!dx_spool_exists(sp, "requested", "m"));
	cr_assert(dx_spool_exists(sp, "pending", "m"));
	/* A move never overwrites. */
	cr_assert_eq(dx_spool_write(sp, "requested", "m", "2", 1, false, &err), 0);
	cr_assert_eq(dx_spool_move(sp, "requested", "pending", "m", &err), -1);
	cr_assert_eq(errno, EEXIST);
	/* A symlink is set aside as a symlink. */
	path_of(p, sizeof(p), "requested", "evil");
	cr_assert_eq(symlink("/etc/passwd", p), 0);
	cr_assert_eq(dx_spool_rename(sp, "requested", "evil", "tmp", "evil.refused",
	    &err), 0, "%s", err.msg);
	path_of(p, sizeof(p), "tmp", "evil.refused");
	{
		struct stat st;

		cr_assert_eq(lstat(p, &st), 0);
		cr_assert(S_ISLNK(st.st_mode));
	}
	cr_assert_eq(dx_spool_remove(sp, "pending", "m", &err), 0);
	cr_assert(!dx_spool_exists(sp, "pending", "m"));
	cr_assert_eq(dx_spool_remove(sp, "pending", "m", &err), 0, "missing is fine");
	dx_spool_close(sp);
}

Test(spool, refuses_a_spool_others_can_write)
{
	struct dx_spool *sp = open_new();
	struct dx_err err = { 0 };
	char p[512];

	dx_spool_close(sp);
	cr_assert_eq(chmod(spool_dir, 0770), 0);
	cr_assert_eq(dx_spool_open(&sp, spool_dir, false, &err), -1);
	cr_assert(strstr(err.msg, "writable by group or others") != NULL, "%s",
	    err.msg);
	cr_assert_eq(err.kind, DX_USAGE);
	cr_assert_eq(chmod(spool_dir, 0700), 0);
	snprintf(p, sizeof(p), "%s/pending", spool_dir);
	cr_assert_eq(chmod(p, 0722), 0);
	cr_assert_eq(dx_spool_open(&sp, spool_dir, false, &err), -1);
	cr_assert(strstr(err.msg, "pending") != NULL, "%s", err.msg);
}

Test(spool, refuses_a_spool_of_another_owner)
{
	struct dx_spool *sp = open_new();
	struct dx_err err = { 0 };
	char p[512];

	dx_spool_close(sp);
	if (geteuid() != 0)
		cr_skip_test("needs root to chown");
	cr_assert_eq(chown(spool_dir, 12345, 12345), 0);
	cr_assert_eq(dx_spool_open(&sp, spool_dir, true, &err), -1);
	cr_assert(strstr(err.msg, "owned by uid 12345") != NULL, "%s", err.msg);
	cr_assert_eq(chown(spool_dir, 0, 0), 0);
	snprintf(p, sizeof(p), "%s/complete", spool_dir);
	cr_assert_eq(chown(p, 12345, 12345), 0);
	cr_assert_eq(dx_spool_open(&sp, spool_dir, false, &err), -1);
	cr_assert(strstr(err.msg, "complete") != NULL, "%s", err.msg);
}

Test(spool, refuses_symlinked_directories)
{
	struct dx_spool *sp = open_new();
	struct dx_err err = { 0 };
	char p[512], elsewhere[512];

	dx_spool_close(sp);
	snprintf(elsewhere, sizeof(elsewhere), "%s.elsewhere", spool_dir);
	cr_assert_eq(mkdir(elsewhere, 0700), 0);
	snprintf(p, sizeof(p), "%s/running", spool_dir);
	cr_assert_eq(rmdir(p), 0);
	cr_assert_eq(symlink(elsewhere, p), 0);
	cr_assert_eq(dx_spool_open(&sp, spool_dir, true, &err), -1);
	cr_assert(strstr(err.msg, "running") != NULL && strstr(err.msg, "symlink"),
	    "%s", err.msg);
	/* The spool itself given as a symlink. */
	snprintf(p, sizeof(p), "%s.link", spool_dir);
	cr_assert_eq(symlink(spool_dir, p), 0);
	cr_assert_eq(dx_spool_open(&sp, p, false, &err), -1);
	cr_assert(strstr(err.msg, "symlink") != NULL, "%s", err.msg);
}

Test(spool, ids_are_fixed_width_and_increase)
{
	struct dx_spool *sp = open_new();
	struct dx_err err = { 0 };
	char prev[DX_SPOOL_ID_SIZE] = "", id[DX_SPOOL_ID_SIZE];

	for (int i = 0; i < 20000; i++) {
		cr_assert_eq(dx_spool_new_id(sp, id, sizeof(id), &err), 0);
		cr_assert_eq(strlen(id), DX_SPOOL_ID_LEN, "%s", id);
		cr_assert(dx_spool_name_ok(id), "%s", id);
		cr_assert_gt(strcmp(id, prev), 0, "%s after %s", id, prev);
		strcpy(prev, id);
	}
	/* "20261202T013300.123456Z-0000012345-0001" */
	cr_assert_eq(id[8], 'T');
	cr_assert_eq(id[15], '.');
	cr_assert_eq(id[22], 'Z');
	cr_assert_eq(id[23], '-');
	cr_assert_eq(id[34], '-');
	dx_spool_close(sp);
}

#define NKIDS	8
#define NEACH	150

Test(spool, forked_submitters_never_collide)
{
	struct dx_spool *sp = open_new();
	struct dx_err err = { 0 };
	char **names;
	size_t n;
	pid_t kids[NKIDS];

	dx_spool_close(sp);
	for (int k = 0; k < NKIDS; k++) {
		kids[k] = fork();
		cr_assert_geq(kids[k], 0);
		if (kids[k] == 0) {
			struct dx_spool *mine;
			char id[DX_SPOOL_ID_SIZE];

			if (dx_spool_open(&mine, spool_dir, true, &err) == -1)
				_exit(10);
			for (int i = 0; i < NEACH; i++)
				if (dx_spool_submit(mine, "{}", 2, id, sizeof(id), &err) == -1)
					_exit(11);
			dx_spool_close(mine);
			_exit(0);
		}
	}
	for (int k = 0; k < NKIDS; k++) {
		int st;

		cr_assert_eq(waitpid(kids[k], &st, 0), kids[k]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "submitter %d: %d", k,
		    st);
	}
	cr_assert_eq(dx_spool_open(&sp, spool_dir, false, &err), 0);
	cr_assert_eq(dx_spool_list(sp, "requested", &names, &n, NULL, NULL, &err), 0);
	cr_assert_eq(n, NKIDS * NEACH, "%zu requests", n);
	/* Within one submitter, ids sort in the order it wrote them. */
	for (size_t i = 1; i < n; i++)
		cr_assert_neq(strcmp(names[i - 1], names[i]), 0);
	dx_spool_names_free(names, n);
	dx_spool_close(sp);
}

Test(spool, lock_is_exclusive_and_visible_to_clients)
{
	struct dx_spool *sp = open_new(), *other;
	struct dx_err err = { 0 };
	long pid;
	pid_t kid;
	int st;

	cr_assert(!dx_spool_serve_running(sp, &pid));
	cr_assert_eq(dx_spool_lock(sp, &err), 0, "%s", err.msg);
	kid = fork();
	cr_assert_geq(kid, 0);
	if (kid == 0) {
		/* Another process: sees serve, cannot lock. */
		if (dx_spool_open(&other, spool_dir, false, &err) == -1)
			_exit(10);
		if (!dx_spool_serve_running(other, &pid) || pid != (long)getppid())
			_exit(11);
		if (dx_spool_lock(other, &err) == 0 ||
		    strstr(err.msg, "already running") == NULL)
			_exit(12);
		dx_spool_close(other);
		_exit(0);
	}
	cr_assert_eq(waitpid(kid, &st, 0), kid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: %d", st);
	dx_spool_close(sp);
	cr_assert_eq(dx_spool_open(&other, spool_dir, false, &err), 0);
	cr_assert(!dx_spool_serve_running(other, NULL));
	dx_spool_close(other);
}

Test(spool, journal_group_commit_covers_earlier_lines)
{
	struct dx_spool *sp = open_new();
	struct dx_spool_journal *j;
	struct dx_err err = { 0 };
	uint64_t seq = 0, lines, syncs;
	char line[64], **got;
	size_t n;
	bool torn;

	cr_assert_eq(dx_spool_journal_open(sp, "running", "x.journal", true, &j,
	    &err), 0, "%s", err.msg);
	for (int i = 0; i < 10; i++) {
		snprintf(line, sizeof(line), "{\"n\":%d}", i);
		cr_assert_eq(dx_spool_journal_append(j, line, strlen(line), &seq, &err),
		    0);
	}
	cr_assert_eq(seq, 10);
	cr_assert_eq(dx_spool_journal_sync(j, seq, &err), 0);
	dx_spool_journal_counts(j, &lines, &syncs);
	cr_assert_eq(lines, 10);
	cr_assert_eq(syncs, 1, "one fsync covers every line before it");
	/* Already durable: no second fsync. */
	cr_assert_eq(dx_spool_journal_sync(j, 5, &err), 0);
	dx_spool_journal_counts(j, NULL, &syncs);
	cr_assert_eq(syncs, 1);
	cr_assert_eq(dx_spool_journal_append(j, "a\nb", 3, NULL, &err), -1);
	dx_spool_journal_close(j);
	cr_assert_eq(dx_spool_journal_read(sp, "running", "x.journal", 1 << 20, &got,
	    &n, &torn, &err), 0);
	cr_assert_eq(n, 10);
	cr_assert_str_eq(got[9], "{\"n\":9}");
	cr_assert(!torn);
	dx_spool_names_free(got, n);
	/* Created exclusively: a second create fails. */
	cr_assert_eq(dx_spool_journal_open(sp, "running", "x.journal", true, &j,
	    &err), -1);
	dx_spool_close(sp);
}

struct jarg {
	struct dx_spool_journal *j;
	int t;
};

static void *
journal_writer(void *p)
{
	struct jarg *a = p;
	struct dx_err err = { 0 };
	char line[64];

	for (int i = 0; i < 200; i++) {
		snprintf(line, sizeof(line), "{\"t\":%d,\"i\":%d}", a->t, i);
		if (dx_spool_journal_put(a->j, line, &err) == -1)
			return (void *)1;
	}
	return NULL;
}

Test(spool, journal_threads_never_interleave)
{
	struct dx_spool *sp = open_new();
	struct dx_spool_journal *j;
	struct dx_err err = { 0 };
	pthread_t th[8];
	struct jarg a[8];
	uint64_t lines, syncs;
	char **got;
	size_t n;
	int seen[8] = { 0 };

	cr_assert_eq(dx_spool_journal_open(sp, "running", "t.journal", true, &j,
	    &err), 0);
	for (int t = 0; t < 8; t++) {
		a[t].j = j;
		a[t].t = t;
		cr_assert_eq(pthread_create(&th[t], NULL, journal_writer, &a[t]), 0);
	}
	for (int t = 0; t < 8; t++) {
		void *rv;

		pthread_join(th[t], &rv);
		cr_assert_null(rv);
	}
	dx_spool_journal_counts(j, &lines, &syncs);
	cr_assert_eq(lines, 1600);
	cr_assert_leq(syncs, 1600);
	dx_spool_journal_close(j);
	cr_assert_eq(dx_spool_journal_read(sp, "running", "t.journal", 1 << 20, &got,
	    &n, NULL, &err), 0);
	cr_assert_eq(n, 1600);
	for (size_t i = 0; i < n; i++) {
		int t, k;

		cr_assert_eq(sscanf(got[i], "{\"t\":%d,\"i\":%d}", &t, &k), 2, "%s",
		    got[i]);
		/* Each thread's lines in its order: one write per line. */
		cr_assert_eq(k, seen[t], "thread %d line %d", t, k);
		seen[t]++;
	}
	dx_spool_names_free(got, n);
	dx_spool_close(sp);
}

Test(spool, journal_torn_last_line_is_ignored_and_not_glued)
{
	struct dx_spool *sp = open_new();
	struct dx_spool_journal *j;
	struct dx_err err = { 0 };
	char p[512], **got;
	size_t n;
	bool torn;
	int fd;

	path_of(p, sizeof(p), "running", "c.journal");
	cr_assert_geq(fd = open(p, O_WRONLY | O_CREAT, 0600), 0);
	cr_assert_eq(write(fd, "{\"a\":1}\n{\"b\":2}\n{\"c\"", 20), 20);
	close(fd);
	cr_assert_eq(dx_spool_journal_read(sp, "running", "c.journal", 1 << 20, &got,
	    &n, &torn, &err), 0);
	cr_assert_eq(n, 2);
	cr_assert(torn);
	dx_spool_names_free(got, n);
	/* Reopened for appending: the next line starts on a line of its own. */
	cr_assert_eq(dx_spool_journal_open(sp, "running", "c.journal", false, &j,
	    &err), 0, "%s", err.msg);
	cr_assert_eq(dx_spool_journal_put(j, "{\"d\":4}", &err), 0);
	dx_spool_journal_close(j);
	cr_assert_eq(dx_spool_journal_read(sp, "running", "c.journal", 1 << 20, &got,
	    &n, &torn, &err), 0);
	cr_assert_eq(n, 4);
	cr_assert_str_eq(got[3], "{\"d\":4}");
	cr_assert(!torn);
	dx_spool_names_free(got, n);
	/* A journal that is a symlink is refused, as any spool file. */
	path_of(p, sizeof(p), "running", "s.journal");
	cr_assert_eq(symlink("/etc/passwd", p), 0);
	cr_assert_eq(dx_spool_journal_open(sp, "running", "s.journal", false, &j,
	    &err), -1);
	cr_assert(strstr(err.msg, "symlink") != NULL, "%s", err.msg);
	dx_spool_close(sp);
}
