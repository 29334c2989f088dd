/*
 * sha256.h: libcrypto's SHA-256 functions (SHA256_Init, SHA256_Update, SHA256_Final), which
 * compute the digest directly. OpenSSL 3 deprecates them for EVP, whose first use sets up its
 * providers and their algorithm tables: 2 MiB of resident memory, more than the rest of a
 * migration run holds (measured: a program hashing five bytes peaks at 5.0 MiB through EVP,
 * 3.0 MiB through these, 2.8 MiB hashing nothing). Included instead of <openssl/sha.h>, it
 * declares them at the 1.1.1 API level, where they are not deprecated. Not SHA256(), which
 * OpenSSL 3 makes an EVP call.
 */
#ifndef STRATA_UTIL_SHA256_H
#define STRATA_UTIL_SHA256_H

#ifndef OPENSSL_API_COMPAT
#define OPENSSL_API_COMPAT 10101
#endif
#include <openssl/sha.h>

#endif
