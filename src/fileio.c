/*
 * fileio.c - bounded, non-blocking reads of regular files (see fileio.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "fileio.h"

static const char *
file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "is a directory";
	if (S_ISFIFO(m))
		return "is a FIFO, not a regular file";
	if (S_ISCHR(m))
		return "is a character device, not a regular file";
	if (S_ISBLK(m))
		return "is a block device, not a regular file";
	if (S_ISSOCK(m))
		return "is a socket, not a regular file";
	return "is not a regular file";
}

int
dx_file_open(const char *path, int flags, struct stat *st, int *code,
    char *why, size_t whysize)
{
	int fd;

	fd = open(path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0600);
	if (fd == -1) {
		*code = errno;
		if (errno == ENOENT)
			snprintf(why, whysize, "does not exist");
		else
			snprintf(why, whysize, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, st) == -1) {
		*code = errno;
		snprintf(why, whysize, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		*code = S_ISDIR(st->st_mode) ? EISDIR : ENODEV;
		snprintf(why, whysize, "%s", file_kind(st->st_mode));
		close(fd);
		return -1;
	}
	return fd;
}

int
dx_file_read_fd(int fd, size_t cap, struct dx_file *f, int *code, char *why,
    size_t whysize)
{
	size_t size, len = 0;
	ssize_t n;
	char *buf;

	f->data = NULL;
	f->len = 0;
	if (fstat(fd, &f->st) == -1) {
		*code = errno;
		snprintf(why, whysize, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(f->st.st_mode)) {
		*code = ENODEV;
		snprintf(why, whysize, "%s", file_kind(f->st.st_mode));
		return -1;
	}
	if (f->st.st_size < 0 || (uintmax_t)f->st.st_size > cap) {
		*code = EFBIG;
		snprintf(why, whysize, "is larger than %zu bytes", cap);
		return -1;
	}
	/* One byte more than the size, to notice a file that grew. */
	size = (size_t)f->st.st_size + 1;
	if ((buf = malloc(size + 1)) == NULL) {
		*code = ENOMEM;
		snprintf(why, whysize, "out of memory");
		return -1;
	}
	while (len < size) {
		n = pread(fd, buf + len, size - len, (off_t)len);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*code = errno;
			snprintf(why, whysize, "%s", strerror(errno));
			OPENSSL_cleanse(buf, len);
			free(buf);
			return -1;
		}
		len += (size_t)n;
	}
	/* A file that grows while read is read as far as its size said. */
	if (len > size - 1)
		len = size - 1;
	buf[len] = '\0';
	f->data = buf;
	f->len = len;
	return 0;
}

int
dx_file_read(const char *path, size_t cap, struct dx_file *f, int *code,
    char *why, size_t whysize)
{
	int fd, rc;

	f->data = NULL;
	f->len = 0;
	if ((fd = dx_file_open(path, O_RDONLY, &f->st, code, why, whysize)) == -1)
		return -1;
	rc = dx_file_read_fd(fd, cap, f, code, why, whysize);
	close(fd);
	return rc;
}

void
dx_file_wipe(struct dx_file *f)
{
	if (f->data != NULL) {
		OPENSSL_cleanse(f->data, f->len);
		free(f->data);
	}
	f->data = NULL;
	f->len = 0;
}
