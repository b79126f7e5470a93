/* Makes the Guix narinfo signature test vectors of GuixSignatureTest with libgcrypt, through the calls
 * guile-gcrypt makes for 'guix publish' (guix/scripts/publish.scm signed-string, guix/pki.scm
 * signature-sexp, gcrypt/pk-crypto.scm bytevector->hash-data and canonical-sexp->string):
 *   cc -o make-vector make-vector.c -lgcrypt
 *   ./make-vector '(genkey (ecdsa (curve Ed25519) (flags rfc6979)))' rfc6979 host < prefix > out
 * reads the signed part of a narinfo on stdin and prints the public key, then the Signature value. */
#include <gcrypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, gcry_error_t e) {
    fprintf(stderr, "%s: %s\n", what, gcry_strerror(e));
    exit(1);
}

/* canonical-sexp->string: gcry_sexp_sprint in the "advanced" format. */
static char *sprint(gcry_sexp_t s) {
    size_t n = gcry_sexp_sprint(s, GCRYSEXP_FMT_ADVANCED, NULL, 0);
    char *b = malloc(n);
    gcry_sexp_sprint(s, GCRYSEXP_FMT_ADVANCED, b, n);
    return b;
}

static gcry_sexp_t parse(const char *text) {
    gcry_sexp_t s;
    gcry_error_t e = gcry_sexp_new(&s, text, 0, 1);
    if (e) die(text, e);
    return s;
}

static char *base64(const unsigned char *in, size_t n) {
    static const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc(4 * ((n + 2) / 3) + 1), *o = out;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = in[i] << 16 | (i + 1 < n ? in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        *o++ = a[v >> 18 & 63];
        *o++ = a[v >> 12 & 63];
        *o++ = i + 1 < n ? a[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? a[v & 63] : '=';
    }
    *o = 0;
    return out;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: make-vector GENKEY-SEXP FLAG HOST < PREFIX\n"); return 2; }
    gcry_check_version(NULL);
    gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    gcry_sexp_t key, sig;
    gcry_error_t e = gcry_pk_genkey(&key, parse(argv[1]));
    if (e) die("genkey", e);
    gcry_sexp_t pub = gcry_sexp_find_token(key, "public-key", 0);
    gcry_sexp_t sec = gcry_sexp_find_token(key, "private-key", 0);

    static char prefix[1 << 16];
    size_t n = fread(prefix, 1, sizeof prefix, stdin);
    unsigned char hash[32];
    gcry_md_hash_buffer(GCRY_MD_SHA256, hash, prefix, n);
    char hex[65];
    for (int i = 0; i < 32; i++) sprintf(hex + 2 * i, "%02X", hash[i]);

    /* bytevector->hash-data: (data (flags rfc6979|pkcs1) (hash "sha256" #HEX#)) */
    char data_text[256];
    snprintf(data_text, sizeof data_text, "(data (flags %s) (hash \"sha256\" #%s#))", argv[2], hex);
    gcry_sexp_t data = parse(data_text);
    e = gcry_pk_sign(&sig, data, sec);
    if (e) die("sign", e);
    e = gcry_pk_verify(sig, data, pub);
    if (e) die("verify", e);

    /* signature-sexp: (signature DATA SIG-VAL PUBLIC-KEY), each through canonical-sexp->string. */
    char *d = sprint(data), *s = sprint(sig), *p = sprint(pub);
    char *whole = malloc(strlen(d) + strlen(s) + strlen(p) + 32);
    sprintf(whole, "(signature %s %s %s)", d, s, p);
    char *text = sprint(parse(whole));
    printf("%s\n", p);
    printf("1;%s;%s\n", argv[3], base64((unsigned char *) text, strlen(text)));
    return 0;
}
