/* mv_keys.h - the site key and every value derived from it.
 *
 * Every pseudonym, UID and date offset is HMAC-SHA256(site key, purpose |
 * value): the same input gives the same output on any machine and in any
 * batch, with no shared state, and another key gives unrelated values. */
#ifndef MV_KEYS_H
#define MV_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define MV_KEY_BYTES 32

typedef struct mv_key {
  uint8_t bytes[MV_KEY_BYTES];
} mv_key;

/* Write a new random key to `path` (mode 0600, refuses to overwrite).
 * Returns MV_OK or a code, with a reason in err. */
int mv_key_generate(const char *path, char *err, size_t errlen);
/* Read a key file; refuses files that other users can read or write. */
int mv_key_load(const char *path, mv_key *key, char *err, size_t errlen);
/* Key files, whatever the key (the site key here, the crosswalk's
 * recipient keys in mv_xwalk_keys.c). Create `path` holding `line` with
 * exactly `mode`, never over an existing file or symlink, nothing left on
 * failure. */
int mv_keyfile_write_new(const char *path, const char *line, size_t n,
                         unsigned mode, char *err, size_t errlen);
/* Read a small key file into buf (NUL-terminated); its st_mode into
 * *mode when not NULL. With `secret`, refuse a file other users can read
 * or write (mv_keyfile_private). */
int mv_keyfile_read(const char *path, int secret, char *buf, size_t n,
                    unsigned *mode, char *err, size_t errlen);
/* MV_EPERM with the chmod advice when `mode` lets other users in. */
int mv_keyfile_private(const char *path, unsigned mode, char *err,
                       size_t errlen);

/* A short public fingerprint (16 hex chars) that names the key in records
 * without revealing it. */
void mv_key_fingerprint(const mv_key *key, char out[17]);

/* HMAC-SHA256(key, purpose NUL data): the NUL keeps purposes apart. */
void mv_key_hmac(const mv_key *key, const char *purpose, const void *data,
                 size_t len, uint8_t out[32]);

/* "2.25." + decimal of 128 bits: a valid UID of at most 44 characters. */
void mv_derive_uid(const mv_key *key, const char *uid, size_t len,
                   char out[64]);
/* prefix + 12 base32 characters (about 60 bits). out must hold
 * strlen(prefix) + 13 bytes. */
void mv_derive_pseudonym(const mv_key *key, const char *prefix,
                         const char *value, size_t len, char *out,
                         size_t outlen);
/* Lower-case hex of the HMAC, `hexlen` characters (1..64). */
void mv_derive_hash(const mv_key *key, const char *value, size_t len,
                    int hexlen, char *out);
/* A day offset in [min_days, max_days] for one patient. */
long mv_derive_day_offset(const mv_key *key, const char *who, size_t len,
                          long min_days, long max_days);

/* Standard DICOM UIDs (1.2.840.10008.*) name classes and syntaxes, not
 * patients: they are never remapped. */
int mv_uid_is_standard(const char *uid, size_t len);

#endif
