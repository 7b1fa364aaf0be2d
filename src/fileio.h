/*
 * fileio.h - reading the small local files dronex trusts (known_hosts,
 * identities) without hanging or running out of memory.
 *
 * A FIFO given as a file would block open() and read() forever, a device
 * such as /dev/zero never ends, and a huge file would be read whole.  So a
 * file is opened with O_NONBLOCK (an open of a FIFO returns at once) and
 * O_NOCTTY, must be a regular file (fstat), and is read up to a cap.
 *
 * dx_file_read() fills a dx_file whose data the caller releases with
 * dx_file_wipe(), which also overwrites it (it may hold key material).
 */
#ifndef DX_FILEIO_H
#define DX_FILEIO_H

#include <sys/stat.h>

#include "dronex.h"

#define DX_FILE_WHY	128

struct dx_file {
	char		*data;		/* NUL-terminated, len bytes before the NUL */
	size_t		 len;
	struct stat	 st;
};

/*
 * Opens path for reading without blocking and checks that it is a
 * regular file: returns the fd, or -1 with *code set (errno, or ENOENT,
 * EISDIR, EFTYPE-like ENODEV for "not a regular file") and why filled
 * ("does not exist", "is a FIFO, not a regular file", ...).
 */
int	dx_file_open(const char *path, int flags, struct stat *st, int *code,
	    char *why, size_t whysize);
/* Reads the open regular file fd (from offset 0) of at most cap bytes. */
int	dx_file_read_fd(int fd, size_t cap, struct dx_file *, int *code,
	    char *why, size_t whysize);
/* dx_file_open() and dx_file_read_fd(); 0 or -1 with *code and why. */
int	dx_file_read(const char *path, size_t cap, struct dx_file *, int *code,
	    char *why, size_t whysize);
/* Overwrites and frees f->data. */
void	dx_file_wipe(struct dx_file *);

#endif
