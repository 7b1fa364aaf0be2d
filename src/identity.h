/*
 * identity.h - private key files, each read once per run.
 *
 * libssh2_userauth_publickey_fromfile_ex() re-reads and re-parses the key
 * file for every session: most of a drone's client CPU at fleet scale.  So
 * each identity file is read once, under the set's lock, and an
 * unencrypted OpenSSH-format ed25519 key is kept parsed (OpenSSL EVP_PKEY)
 * and signed with through libssh2_userauth_publickey() and
 * dx_identity_sign().  Any other key (ecdsa, rsa, encrypted, PEM) has a
 * NULL pkey and is handed to libssh2 by path as before.
 *
 * The set owns every identity; a returned identity is borrowed, immutable,
 * and lives until dx_identities_release().
 */
#ifndef DX_IDENTITY_H
#define DX_IDENTITY_H

#include <pthread.h>

#include <libssh2.h>

#include "dronex.h"

struct dx_identity {
	struct dx_identity *next;
	char		*path;
	unsigned char	*pub;		/* SSH wire-format public key blob */
	size_t		 publen;
	void		*pkey;		/* EVP_PKEY *; NULL: use libssh2 by path */
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
/* True if the private key file at path needs a passphrase. */
bool	dx_identity_encrypted(const char *path);

#endif
