/*
 * identity.c - private key files read once, and ed25519 signing for libssh2
 * (see identity.h for why).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

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
		free(id->pub);
		free(id->path);
		free(id);
	}
	set->list = NULL;
	pthread_mutex_destroy(&set->lock);
}

bool
dx_identity_encrypted(const char *path)
{
	char text[4096], b64[65];
	unsigned char bin[64];
	const char *p;
	size_t n = 0, k = 0;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL)
		return false;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
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
	if (k < 64 || EVP_DecodeBlock(bin, (const unsigned char *)b64, 64) < 23)
		return false;
	return memcmp(bin, "openssh-key-v1", 15) == 0 &&
	    memcmp(bin + 15, "\0\0\0\4none", 8) != 0;
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
	size_t publen, ktlen, kplen, kslen, k = 0, pad = 0;
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
	pad = (b64[k - 1] == '=') + (b64[k - 2] == '=');
	if ((n = EVP_DecodeBlock(bin, (unsigned char *)b64, (int)k)) < 0 ||
	    (size_t)n < pad)
		goto out;
	r.p = bin;
	r.left = (size_t)n - pad;
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

const struct dx_identity *
dx_identities_get(struct dx_identities *set, const char *path)
{
	struct dx_identity *id;
	char text[8192];
	size_t n;
	FILE *f;

	pthread_mutex_lock(&set->lock);
	for (id = set->list; id != NULL; id = id->next)
		if (strcmp(id->path, path) == 0)
			goto out;
	if ((id = calloc(1, sizeof(*id))) == NULL ||
	    (id->path = strdup(path)) == NULL) {
		free(id);
		id = NULL;
		goto out;
	}
	if ((f = fopen(path, "re")) != NULL) {
		n = fread(text, 1, sizeof(text) - 1, f);
		fclose(f);
		text[n] = '\0';
		id_parse(id, text);
		OPENSSL_cleanse(text, n);
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
