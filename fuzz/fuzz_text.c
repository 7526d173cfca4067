/* fuzz/fuzz_text.c — libFuzzer target: the `:name` parser of text statements (uvsql_text) on
 * any bytes, then its compiled form in each driver's placeholder style. */
#include <stdlib.h>
#include <string.h>
#include "engine/internal.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  char *sql = malloc(size + 1);
  if (!sql)
    return 0;
  memcpy(sql, data, size);
  sql[size] = 0;
  uvsql_stmt_t *stmt = NULL;
  uvsql_error_t err;
  if (uvsql_text(&stmt, sql, &err) == 0) {
    for (int style = 0; style < UVSQL__PARAMSTYLE_COUNT; style++)
      (void)uvsql__stmt_compile(stmt, (uvsql__paramstyle_t)style);
  } else if (!err.message[0]) {
    abort(); /* an error without a message */
  }
  uvsql_stmt_free(stmt);
  free(sql);
  return 0;
}
