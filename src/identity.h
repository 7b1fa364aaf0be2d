/*
 * identity.h - private key files, each read once per run.
 *
 * libssh2_userauth_publickey_fromfile_ex() re-reads and re-parses the key
 * file for every session: most of a drone's client CPU at fleet scale.  So
 * each identity file is read once, under the set's lock, and an
 * unencrypted OpenSSH-format ed25519 key is kept parsed (OpenSSL EVP_PKEY)
 * and signed with through libssh2_userauth_publickey() and
 * dx_identity_sign().  Any other key (ecdsa, rsa, encrypted, PEM) has a
 * NULL pkey; its file's text is kept and handed to libssh2 from memory, so
 * the file is never opened again.
 *
 * A file is opened without blocking (a FIFO cannot hang a drone), must be
 * a regular file of at most DX_ID_MAX_BYTES, owned by the user and not
 * accessible to group or others (as OpenSSH requires), and must hold a
 * private key: otherwise the identity carries a problem, a message saying
 * why (a missing file, a directory, a public key, permissions), and is not
 * offered.  Key material is overwritten in every buffer it passed through
 * once it is no longer needed, and the kept text on release.
 *
 * The set owns every identity; a returned identity is borrowed, immutable,
 * and lives until dx_identities_release().
 */
#ifndef DX_IDENTITY_H
#define DX_IDENTITY_H

#include <pthread.h>

#include <libssh2.h>

#include "dronex.h"

#define DX_ID_MAX_BYTES	(1u << 20)

struct dx_identity {
	struct dx_identity *next;
	char		*path;
	char		*problem;	/* why it cannot be used; NULL if it can */
	bool		 missing;	/* the file does not exist */
	bool		 encrypted;	/* needs a passphrase (never asked for) */
	bool		 rsa;		/* an RSA key */
	unsigned char	*pub;		/* SSH wire-format public key blob */
	size_t		 publen;
	void		*pkey;		/* EVP_PKEY *; NULL: libssh2 parses text */
	char		*text;		/* the file, for libssh2; NULL with pkey */
	size_t		 textlen;
};

struct dx_identities {
	pthread_mutex_t	 lock;		/* guards list */
	struct dx_identity *list;	/* lock; entries immutable once listed */
};

/* 0, or -1 if the lock cannot be made. */
int	dx_identities_init(struct dx_identities *);
void	dx_identities_release(struct dx_identities *);
/* The identity for path, read on first use; NULL only when out of memory. */
const struct dx_identity *dx_identities_get(struct dx_identities *, const char *path);
/*
 * libssh2's sign callback for libssh2_userauth_publickey(): *abstract is
 * the identity's pkey.  The signature is malloc'd (libssh2 frees it).
 */
int	dx_identity_sign(LIBSSH2_SESSION *, unsigned char **sig, size_t *sig_len,
	    const unsigned char *data, size_t data_len, void **abstract);

#endif
