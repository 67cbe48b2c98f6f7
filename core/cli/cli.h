/* cli.h - shared pieces of the medveil subcommands. */
#ifndef MV_CLI_H
#define MV_CLI_H

#include <stddef.h>

#include "mv_paths.h"
#include "mv_policy.h"
#include "mv_registry.h"

/* Exit codes of the CLI contract. */
enum { MV_EXIT_OK = 0, MV_EXIT_REJECTED = 1, MV_EXIT_CONFIG = 2 };

/* Find data directories and load every plugin. On failure prints the
 * reason and returns NULL. */
mv_registry *mv_cli_load_plugins(mv_paths *paths);
/* Load a policy (profile name or rule file) with plugins `r` resolving
 * keywords; `env` receives the environment (workers load with it too). On
 * failure prints "medveil: file:line: reason" and returns NULL. */
mv_policy *mv_cli_load_policy(const mv_paths *paths, const mv_registry *r,
                              const char *spec, mv_policy_env *env);
/* The review folder: `given` (made absolute), or the report's path with
 * ".review" in place of ".json". */
void mv_cli_review_dir(const char *given, const char *report_abs, char *out,
                       size_t n);
/* Probe and open one file. On failure prints the reason and returns -1. */
int mv_cli_open_file(const mv_registry *r, const char *path,
                     const mv_loaded **fmt, mv_doc **doc);
/* Print "medveil: message" to stderr. */
void mv_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int mv_cmd_run(int argc, char **argv);
int mv_cmd_keygen(int argc, char **argv);
int mv_cmd_rules(int argc, char **argv);
int mv_cmd_inspect(int argc, char **argv);
int mv_cmd_review(int argc, char **argv);
int mv_cmd_detect(int argc, char **argv);
int mv_cmd_crosswalk(int argc, char **argv);
int mv_cmd_audit(int argc, char **argv);
int mv_cmd_jobs(int argc, char **argv);
int mv_cmd_verify(int argc, char **argv);
/* The leak check with its CLI output (cmd_verify.c): findings on stdout,
 * JSON to `report` (may be NULL); `pairs` (may be NULL) say which output
 * came from which input. Returns an MV_EXIT_* code. */
struct mv_verify_pair;
int mv_cli_verify(const mv_registry *reg, const mv_policy *policy,
                  const char *const *originals, int noriginals,
                  const char *deidentified, const char *report, int ocr,
                  int strict_dates, const struct mv_verify_pair *pairs,
                  size_t npairs, int jobs, int quiet);

#endif
