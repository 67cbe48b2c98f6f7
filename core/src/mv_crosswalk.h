/* mv_crosswalk.h - the encrypted crosswalk: originals beside their
 * replacements, sealed for one recipient.
 *
 * The runner holds only the recipient's PUBLIC key: it can append records
 * (libsodium sealed boxes, X25519 + XSalsa20-Poly1305) but never read them
 * back. Only the holder of the SECRET key (the authorised lookup office)
 * can open them. One record is one text line:
 *
 *   MVX1 <recipient fingerprint, 16 hex> <base64 of the sealed box>\n
 *
 * written with one write() on an O_APPEND descriptor, so files from
 * several workers or runs merge by plain concatenation. Inside the box is
 * a flat JSON object of strings (see mv_xwalk_field_names), padded to a
 * multiple of 256 bytes so that the line length says little about the
 * values. Plaintext buffers are wiped after use (sodium_memzero). */
#ifndef MV_CROSSWALK_H
#define MV_CROSSWALK_H

#include <stddef.h>
#include <stdint.h>

#define MV_XWALK_MAGIC "MVX1"
#define MV_XWALK_FP_LEN 16 /* hex characters of a recipient fingerprint */
/* A record's plaintext is at most this long; longer lines are damaged. */
#define MV_XWALK_MAX_PLAIN (64 * 1024)
#define MV_XWALK_MAX_LINE (128 * 1024)

/* ---- recipient keys (mv_xwalk_keys.c) --------------------------------- */

typedef struct mv_xwalk_pub {
  uint8_t pk[32];
  char fp[MV_XWALK_FP_LEN + 1];
} mv_xwalk_pub;

typedef struct mv_xwalk_secret {
  uint8_t pk[32], sk[32];
  char fp[MV_XWALK_FP_LEN + 1];
} mv_xwalk_secret;

/* Write PREFIX.key (secret, 0600) and PREFIX.pub (public, 0644). Refuses
 * when either exists. `fp` receives the recipient fingerprint. Returns
 * MV_OK or a code with a reason in err. */
int mv_xwalk_keygen(const char *prefix, char fp[MV_XWALK_FP_LEN + 1],
                    char *err, size_t errlen);
/* Read a public key file. A secret key file is refused: the process that
 * writes the crosswalk must not be able to read it. */
int mv_xwalk_load_public(const char *path, mv_xwalk_pub *pub, char *err,
                         size_t errlen);
/* Read a secret key file; refuses a file other users can access (0600,
 * like the site key). */
int mv_xwalk_load_secret(const char *path, mv_xwalk_secret *sec, char *err,
                         size_t errlen);
void mv_xwalk_secret_wipe(mv_xwalk_secret *sec);
/* First 8 bytes of BLAKE2b("medveil-recipient-v1" NUL pk), in hex: names
 * the recipient without revealing the key. */
void mv_xwalk_fingerprint(const uint8_t pk[32],
                          char out[MV_XWALK_FP_LEN + 1]);

/* ---- records (mv_xwalk_record.c) -------------------------------------- */

/* Fields of a record; names are the JSON keys inside the box. A record of
 * kind "object" describes one finished input; kind "rename" says that an
 * output (relative to out_dir) moved from `from` to `to` when the batch
 * settled duplicate names: it applies to the records before it. */
typedef enum mv_xwalk_field {
  MV_XF_KIND, MV_XF_JOB, MV_XF_TIME, MV_XF_OUT_DIR,
  MV_XF_STATUS, MV_XF_INPUT, MV_XF_INPUT_SHA256,
  MV_XF_OUTPUT, MV_XF_OUTPUT_SHA256, MV_XF_REVIEW_ID, MV_XF_SUBJECT,
  MV_XF_PATIENT_NAME, MV_XF_PATIENT_ID, MV_XF_ACCESSION,
  MV_XF_STUDY_UID, MV_XF_SERIES_UID, MV_XF_SOP_UID,
  MV_XF_NEW_PATIENT_NAME, MV_XF_NEW_PATIENT_ID, MV_XF_NEW_ACCESSION,
  MV_XF_NEW_STUDY_UID, MV_XF_NEW_SERIES_UID, MV_XF_NEW_SOP_UID,
  MV_XF_FROM, MV_XF_TO,
  MV_XF__COUNT
} mv_xwalk_field;

extern const char *const mv_xwalk_field_names[MV_XF__COUNT];

/* Seal one record (NULL fields are left out) into a full line ending in
 * '\n'. *line is malloc'd (caller frees); the plaintext never leaves this
 * call unwiped. Returns MV_OK, MV_ELIMIT (too long) or MV_ENOMEM. */
int mv_xwalk_seal(const mv_xwalk_pub *pub,
                  const char *const fields[MV_XF__COUNT], char **line,
                  size_t *len, char *err, size_t errlen);

/* Open one line (without or with its '\n'). On MV_OK, fields[] holds
 * malloc'd strings or NULL (free with mv_xwalk_fields_free). Otherwise:
 * MV_EKEY - sealed for another recipient, whose fingerprint is in
 * `other_fp`; MV_EFORMAT - not a crosswalk line or damaged; MV_EDECRYPT -
 * the box does not open (damaged, or fingerprint forged). */
int mv_xwalk_open(const mv_xwalk_secret *sec, const char *line, size_t len,
                  char *fields[MV_XF__COUNT],
                  char other_fp[MV_XWALK_FP_LEN + 1], char *err,
                  size_t errlen);
/* Wipe and free the strings of an opened record. */
void mv_xwalk_fields_free(char *fields[MV_XF__COUNT]);

/* ---- the file (mv_crosswalk.c) ---------------------------------------- */

typedef struct mv_xwalk_writer mv_xwalk_writer;

/* Open (create 0600, or append to) a crosswalk file for `pub`. Refuses a
 * file whose first record is sealed for another recipient. */
mv_xwalk_writer *mv_xwalk_writer_open(const char *path,
                                      const mv_xwalk_pub *pub, char *err,
                                      size_t errlen);
/* Seal and append one record with a single write(). Not thread-safe (the
 * job serialises observers). */
int mv_xwalk_append(mv_xwalk_writer *w,
                    const char *const fields[MV_XF__COUNT], char *err,
                    size_t errlen);
unsigned long mv_xwalk_written(const mv_xwalk_writer *w);
/* fsync and close; returns MV_OK or MV_EIO with a reason. Frees w. */
int mv_xwalk_writer_close(mv_xwalk_writer *w, char *err, size_t errlen);

/* Reading: every line of `path` in order. `record` gets each opened record
 * (its fields are freed after the call; a non-zero return stops the
 * read); `problem` gets each line that could not be opened, with the
 * code from mv_xwalk_open and, for MV_EKEY, the other fingerprint. Blank
 * lines are skipped. Returns MV_OK when the file was read to the end. */
typedef struct mv_xwalk_visit {
  void *ud;
  int (*record)(void *ud, unsigned long lineno, char *const *fields);
  void (*problem)(void *ud, unsigned long lineno, int code,
                  const char *other_fp);
} mv_xwalk_visit;

int mv_xwalk_read(const char *path, const mv_xwalk_secret *sec,
                  const mv_xwalk_visit *v, char *err, size_t errlen);

#endif
