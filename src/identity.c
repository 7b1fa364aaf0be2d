/*
 * identity.c - private key files read once, and ed25519 signing for libssh2
 * (see identity.h for why).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "base64.h"
#include "fileio.h"
#include "identity.h"

int
dx_identities_init(struct dx_identities *set)
{
	set->list = NULL;
	return pthread_mutex_init(&set->lock, NULL) == 0 ? 0 : -1;
}

void
dx_identities_release(struct dx_identities *set)
{
	struct dx_identity *id, *next;

	for (id = set->list; id != NULL; id = next) {
		next = id->next;
		EVP_PKEY_free(id->pkey);
		if (id->text != NULL) {
			OPENSSL_cleanse(id->text, id->textlen);
			free(id->text);
		}
		free(id->pub);
		free(id->problem);
		free(id->path);
		free(id);
	}
	set->list = NULL;
	pthread_mutex_destroy(&set->lock);
}

/* True if the private key text needs a passphrase. */
static bool
id_encrypted(const char *text)
{
	char b64[65];
	unsigned char bin[64];
	const char *p;
	size_t k = 0;
	bool enc;

	/* PEM: "Proc-Type: 4,ENCRYPTED" or "BEGIN ENCRYPTED PRIVATE KEY". */
	if (strstr(text, "ENCRYPTED") != NULL)
		return true;
	if ((p = strstr(text, "-----BEGIN OPENSSH PRIVATE KEY-----")) == NULL ||
	    (p = strchr(p, '\n')) == NULL)
		return false;
	/* OpenSSH: "openssh-key-v1\0", then the cipher name ("none"). */
	for (p++; *p != '\0' && *p != '-' && k < 64; p++)
		if (*p != '\n' && *p != '\r')
			b64[k++] = *p;
	b64[k] = '\0';
	if (k < 64 || dx_base64_decode(b64, 64, bin) < 23)
		return false;
	enc = memcmp(bin, "openssh-key-v1", 15) == 0 &&
	    memcmp(bin + 15, "\0\0\0\4none", 8) != 0;
	OPENSSL_cleanse(b64, sizeof(b64));
	OPENSSL_cleanse(bin, sizeof(bin));
	return enc;
}

/* True for an RSA key: PEM "BEGIN RSA", or "ssh-rsa" in the OpenSSH blob. */
static bool
id_is_rsa(const char *text)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	unsigned char bin[96];
	char b64[129];
	const char *p;
	size_t k = 0;
	bool rsa = false;
	int n;

	if (strstr(text, "BEGIN RSA PRIVATE KEY") != NULL)
		return true;
	if ((p = strstr(text, begin)) == NULL)
		return false;
	/* magic, cipher, kdf, kdf options, count, then the public blob's type. */
	for (p += sizeof(begin) - 1; *p != '\0' && *p != '-' && k < 128; p++)
		if (*p != '\n' && *p != '\r')
			b64[k++] = *p;
	b64[k] = '\0';
	if (k == 128 && (n = (int)dx_base64_decode(b64, 128, bin)) > 0)
		for (int i = 0; i + 11 <= n && !rsa; i++)
			rsa = memcmp(bin + i, "\0\0\0\7ssh-rsa", 11) == 0;
	OPENSSL_cleanse(b64, sizeof(b64));
	OPENSSL_cleanse(bin, sizeof(bin));
	return rsa;
}

/* A public key where a private one belongs ("ssh-ed25519 AAAA...", RFC 4716). */
static bool
id_is_public(const char *text)
{
	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
		text++;
	return strncmp(text, "ssh-", 4) == 0 || strncmp(text, "ecdsa-", 6) == 0 ||
	    strncmp(text, "sk-", 3) == 0 ||
	    strncmp(text, "---- BEGIN SSH2 PUBLIC KEY", 26) == 0;
}

/* Bounded reader over an SSH wire-format buffer. */
struct id_rd {
	const unsigned char	*p;
	size_t			 left;
};

static bool
id_rd_u32(struct id_rd *r, uint32_t *v)
{
	if (r->left < 4)
		return false;
	*v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 |
	    (uint32_t)r->p[2] << 8 | r->p[3];
	r->p += 4;
	r->left -= 4;
	return true;
}

static bool
id_rd_str(struct id_rd *r, const unsigned char **s, size_t *len)
{
	uint32_t n;

	if (!id_rd_u32(r, &n) || n > r->left)
		return false;
	*s = r->p;
	*len = n;
	r->p += n;
	r->left -= n;
	return true;
}

static bool
id_rd_is(struct id_rd *r, const char *want)
{
	const unsigned char *s;
	size_t len;

	return id_rd_str(r, &s, &len) && len == strlen(want) &&
	    memcmp(s, want, len) == 0;
}

/*
 * Parses an unencrypted OpenSSH-format ed25519 private key (PROTOCOL.key)
 * into id->pub and id->pkey.  Anything else leaves id->pkey NULL.
 */
static void
id_parse(struct dx_identity *id, const char *text)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	const unsigned char *pub, *ktype, *kpub, *kpriv;
	size_t publen, ktlen, kplen, kslen, k = 0;
	unsigned char *bin = NULL;
	char *b64 = NULL;
	const char *p, *e;
	struct id_rd r;
	uint32_t nkeys, c1, c2;
	int n;

	if ((p = strstr(text, begin)) == NULL ||
	    (e = strstr(p, "-----END OPENSSH PRIVATE KEY-----")) == NULL)
		return;
	p += sizeof(begin) - 1;
	if ((b64 = malloc((size_t)(e - p) + 1)) == NULL)
		return;
	for (; p < e; p++)
		if (*p != '\n' && *p != '\r' && *p != ' ' && *p != '\t')
			b64[k++] = *p;
	if (k == 0 || k % 4 != 0 || (bin = malloc(k / 4 * 3)) == NULL)
		goto out;
	if ((n = (int)dx_base64_decode(b64, k, bin)) < 0)
		goto out;
	r.p = bin;
	r.left = (size_t)n;
	if (r.left < 15 || memcmp(r.p, "openssh-key-v1", 15) != 0)
		goto out;
	r.p += 15;
	r.left -= 15;
	if (!id_rd_is(&r, "none") || !id_rd_is(&r, "none") ||
	    !id_rd_str(&r, &ktype, &ktlen) || !id_rd_u32(&r, &nkeys) ||
	    nkeys != 1 || !id_rd_str(&r, &pub, &publen) ||
	    !id_rd_str(&r, &kpriv, &kslen))
		goto out;
	/* The private section: check words, type, public, secret. */
	r.p = kpriv;
	r.left = kslen;
	if (!id_rd_u32(&r, &c1) || !id_rd_u32(&r, &c2) || c1 != c2 ||
	    !id_rd_is(&r, "ssh-ed25519") || !id_rd_str(&r, &kpub, &kplen) ||
	    kplen != 32 || !id_rd_str(&r, &kpriv, &kslen) || kslen != 64 ||
	    memcmp(kpriv + 32, kpub, 32) != 0)
		goto out;
	/* The public blob must be the same key. */
	if (publen != 4 + 11 + 4 + 32 || memcmp(pub + 19, kpub, 32) != 0 ||
	    memcmp(pub + 4, "ssh-ed25519", 11) != 0)
		goto out;
	if ((id->pub = malloc(publen)) == NULL)
		goto out;
	memcpy(id->pub, pub, publen);
	id->publen = publen;
	if ((id->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL,
	    kpriv, 32)) == NULL) {
		free(id->pub);
		id->pub = NULL;
	}
out:
	if (bin != NULL) {
		OPENSSL_cleanse(bin, k / 4 * 3);
		free(bin);
	}
	if (b64 != NULL) {
		OPENSSL_cleanse(b64, k);
		free(b64);
	}
}

/*
 * Reads and checks the file behind id.  False only when out of memory;
 * a file that cannot be used gets id->problem instead.
 */
static bool
id_load(struct dx_identity *id)
{
	char why[DX_FILE_WHY], buf[400];
	struct dx_file f;
	int code;
	bool ok = false;

	buf[0] = '\0';
	if (dx_file_read(id->path, DX_ID_MAX_BYTES, &f, &code, why,
	    sizeof(why)) == -1) {
		if (code == ENOMEM)
			return false;
		id->missing = code == ENOENT;
		snprintf(buf, sizeof(buf), "identity file '%s' %s", id->path, why);
	} else if (id_is_public(f.data))
		/* Said first: a public key file is usually 0644. */
		snprintf(buf, sizeof(buf), "identity file '%s' is a public key: "
		    "name the private key file (without .pub)", id->path);
	else if (strstr(f.data, "PRIVATE KEY-----") == NULL)
		snprintf(buf, sizeof(buf), "identity file '%s' is not a private key",
		    id->path);
	else if (f.st.st_uid != geteuid())
		snprintf(buf, sizeof(buf), "identity file '%s' is owned by uid %u, "
		    "not by you (uid %u)", id->path, (unsigned)f.st.st_uid,
		    (unsigned)geteuid());
	else if ((f.st.st_mode & 077) != 0)
		/* OpenSSH's words, and its rule: no bit for group or others. */
		snprintf(buf, sizeof(buf), "permissions %04o for '%s' are too open: "
		    "a private key must not be accessible by others",
		    (unsigned)(f.st.st_mode & 07777), id->path);
	else {
		id->encrypted = id_encrypted(f.data);
		id->rsa = id_is_rsa(f.data);
		id_parse(id, f.data);
		if (id->pkey == NULL) {
			/* libssh2 parses it, from memory, for each session. */
			id->text = f.data;
			id->textlen = f.len;
			f.data = NULL;
		}
	}
	ok = true;
	dx_file_wipe(&f);
	if (buf[0] != '\0' && (id->problem = strdup(buf)) == NULL)
		ok = false;
	return ok;
}

const struct dx_identity *
dx_identities_get(struct dx_identities *set, const char *path)
{
	struct dx_identity *id;

	pthread_mutex_lock(&set->lock);
	for (id = set->list; id != NULL; id = id->next)
		if (strcmp(id->path, path) == 0)
			goto out;
	if ((id = calloc(1, sizeof(*id))) == NULL ||
	    (id->path = strdup(path)) == NULL || !id_load(id)) {
		if (id != NULL) {
			EVP_PKEY_free(id->pkey);
			free(id->pub);
			if (id->text != NULL) {
				OPENSSL_cleanse(id->text, id->textlen);
				free(id->text);
			}
			free(id->problem);
			free(id->path);
		}
		free(id);
		id = NULL;
		goto out;
	}
	id->next = set->list;
	set->list = id;
out:
	pthread_mutex_unlock(&set->lock);
	return id;
}

int
dx_identity_sign(LIBSSH2_SESSION *session, unsigned char **sig, size_t *sig_len,
    const unsigned char *data, size_t data_len, void **abstract)
{
	EVP_PKEY *pkey = *abstract;
	EVP_MD_CTX *ctx;
	unsigned char *out;
	size_t len = 64;
	int ok = 0;

	(void)session;
	if ((out = malloc(len)) == NULL)
		return -1;
	if ((ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
	    EVP_DigestSign(ctx, out, &len, data, data_len) == 1)
		ok = 1;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		free(out);
		return -1;
	}
	*sig = out;
	*sig_len = len;
	return 0;
}
