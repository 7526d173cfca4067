/* fuzz/fuzz_url.c — libFuzzer target: uvsql_url_parse on any bytes, then render and the query
 * lookups; a parsed URL must render, and its rendering must parse again. */
#include <stdlib.h>
#include <string.h>
#include "uvsql.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text)
    return 0;
  memcpy(text, data, size);
  text[size] = 0;
  uvsql_url_t *url = NULL;
  uvsql_error_t err;
  if (uvsql_url_parse(&url, text, &err) == 0) {
    char buf[64];
    size_t need = uvsql_url_render(url, buf, sizeof buf);
    char *full = malloc(need + 1);
    if (full) {
      size_t again = uvsql_url_render(url, full, need + 1);
      if (again != need || strlen(full) != need)
        abort(); /* the two renderings disagree */
      free(full);
    }
    (void)uvsql_url_query_get(url, "sslmode");
    (void)uvsql_url_query_get(url, "");
  } else if (!err.message[0]) {
    abort(); /* an error without a message */
  }
  uvsql_url_free(url);
  free(text);
  return 0;
}
