/* src/dialects/mariadb/sqlscan.c — does SQL text hold more than one statement? MySQL's
 * lexical rules: '...', "..." and `...` quotes (backslash escapes in the first two), # and
 * "-- " comments to the end of the line, C-style block comments. Such a text runs through the
 * text protocol (exec.c), since a prepared statement holds one statement only. */
#include "mariadb.h"

int uvsql__my_is_multi(const char *sql, size_t len) {
  int seen_semicolon = 0;
  for (size_t i = 0; i < len; i++) {
    char c = sql[i];
    if (c == '\'' || c == '"' || c == '`') {
      for (i++; i < len && sql[i] != c; i++)
        if (sql[i] == '\\' && c != '`')
          i++;
    } else if (c == '#' || (c == '-' && i + 2 < len && sql[i + 1] == '-' &&
                            (sql[i + 2] == ' ' || sql[i + 2] == '\t'))) {
      while (i < len && sql[i] != '\n')
        i++;
    } else if (c == '/' && i + 1 < len && sql[i + 1] == '*') {
      for (i += 2; i + 1 < len && !(sql[i] == '*' && sql[i + 1] == '/'); i++)
        ;
      i++;
    } else if (c == ';') {
      seen_semicolon = 1;
    } else if (seen_semicolon && c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      return 1;
    }
  }
  return 0;
}
