/* src/dialects/sqlite/options.c — what a sqlite:// URL may say, checked before connecting.
 *
 * sqlite:///relative.db, sqlite:////absolute/path.db, sqlite:// (in memory), plus options:
 *   mode=ro|rw|rwc        open read-only, read-write, or read-write creating the file (default)
 *   timeout=<seconds>     how long a statement waits for another connection's lock (default 5)
 *   journal_mode=<mode>   delete|truncate|persist|memory|wal|off (default: wal for a file
 *                         opened for writing, see docs/backends.md; SQLite's own otherwise)
 *   foreign_keys=on|off   enforce FOREIGN KEY constraints (default on)
 *   busy_poll=on|off      the worker thread spins and the loop busy-polls briefly after each
 *                         statement (default on; off: both sleep, for servers that prefer idle
 *                         CPUs to ~10-20 us less per statement; src/loop/worker.c)
 *
 * Invariants: every option is validated here, so the values that reach SQLite (in PRAGMA text
 * in particular) are from a fixed list, never the URL's own text. An unknown option is an error
 * that names it and lists the accepted ones: a typo must not pass silently. A URL with a host,
 * user, password or port is an error too (SQLite has no server; it is a misplaced slash).
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "sqlite.h"

#define UVSQL__SQ_ACCEPTED "mode, timeout, journal_mode, foreign_keys, busy_poll"

static const char *const journal_modes[] = {"delete", "truncate", "persist",
                                            "memory", "wal",      "off"};

static int parse_one(uvsql__sq_options_t *opt, const char *key, const char *v, uvsql_error_t *err) {
  if (!v)
    v = "";
  if (!strcmp(key, "mode")) {
    if (!strcmp(v, "ro"))
      opt->open_flags = SQLITE_OPEN_READONLY;
    else if (!strcmp(v, "rw"))
      opt->open_flags = SQLITE_OPEN_READWRITE;
    else if (!strcmp(v, "rwc"))
      opt->open_flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    else
      return uvsql__error_set(err, UVSQL_EURL, "sqlite URL option mode=%s: expected ro, rw or rwc",
                              v);
    return 0;
  }
  if (!strcmp(key, "timeout")) {
    char *end;
    double s = strtod(v, &end);
    if (!*v || *end || !isfinite(s) || s < 0 || s > 86400.0 * 24)
      return uvsql__error_set(err, UVSQL_EURL,
                              "sqlite URL option timeout=%s: expected a number of seconds >= 0 "
                              "(e.g. timeout=5 or timeout=0.5)",
                              v);
    opt->busy_timeout_ms = (int)(s * 1000.0 + 0.5);
    return 0;
  }
  if (!strcmp(key, "journal_mode")) {
    for (size_t i = 0; i < sizeof journal_modes / sizeof journal_modes[0]; i++) {
      if (!strcasecmp(v, journal_modes[i])) {
        size_t n = strlen(journal_modes[i]);
        for (size_t j = 0; j <= n; j++)
          opt->journal_mode[j] = (char)toupper((unsigned char)journal_modes[i][j]);
        return 0;
      }
    }
    return uvsql__error_set(err, UVSQL_EURL,
                            "sqlite URL option journal_mode=%s: expected delete, truncate, "
                            "persist, memory, wal or off",
                            v);
  }
  if (!strcmp(key, "foreign_keys")) {
    if (uvsql__kit_parse_bool(v, &opt->foreign_keys) != 0)
      return uvsql__error_set(err, UVSQL_EURL,
                              "sqlite URL option foreign_keys=%s: expected on or off", v);
    return 0;
  }
  if (!strcmp(key, "busy_poll")) {
    if (uvsql__kit_parse_bool(v, &opt->busy_poll) != 0)
      return uvsql__error_set(err, UVSQL_EURL,
                              "sqlite URL option busy_poll=%s: expected on or off (off: the "
                              "worker thread and the loop sleep between statements)",
                              v);
    return 0;
  }
  return uvsql__error_set(
      err, UVSQL_EURL,
      "unknown sqlite URL option \"%s\": the accepted options are " UVSQL__SQ_ACCEPTED, key);
}

int uvsql__sq_options_parse(uvsql__sq_options_t *opt, const uvsql_url_t *url, uvsql_error_t *err) {
  memset(opt, 0, sizeof *opt);
  opt->open_flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  opt->busy_timeout_ms = 5000;
  opt->foreign_keys = 1;
  opt->busy_poll = 1;
  if (url->host || url->user || url->password || url->port)
    return uvsql__error_set(err, UVSQL_EURL,
                            "a sqlite URL names a file, not a server: write sqlite:///relative.db, "
                            "sqlite:////absolute/path.db or sqlite:// for an in-memory database");
  for (size_t i = 0; i < url->nquery; i++) {
    int rc = parse_one(opt, url->query[i].key, url->query[i].value, err);
    if (rc != 0)
      return rc;
  }
  const char *path = url->database && *url->database ? url->database : ":memory:";
  opt->path = strdup(path);
  if (!opt->path)
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory");
  return 0;
}

void uvsql__sq_options_free(uvsql__sq_options_t *opt) {
  free(opt->path);
  opt->path = NULL;
}

int uvsql__sq_validate_url(const uvsql_url_t *url, uvsql_error_t *err) {
  uvsql__sq_options_t opt;
  int rc = uvsql__sq_options_parse(&opt, url, err);
  uvsql__sq_options_free(&opt);
  return rc;
}
