/* fuzz/fuzz_interval.c — libFuzzer target: the ISO 8601 interval round trip of value.h. The
 * input is text: whatever uvsql_parse_interval accepts must format (in the documented 64
 * bytes) to text that parses back to the same months, days and microseconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "uvsql.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  uvsql_interval_t v, back;
  char buf[80];
  if (uvsql_parse_interval((const char *)data, size, &v) != 0)
    return 0;
  size_t len = uvsql_format_interval(&v, buf, sizeof buf);
  if (len >= 64) {
    fprintf(stderr, "formatting an interval needs %zu bytes: %s\n", len, buf);
    abort();
  }
  if (uvsql_parse_interval(buf, len, &back) != 0 || back.months != v.months ||
      back.days != v.days || back.us != v.us) {
    fprintf(stderr, "round trip: '%.*s' -> {%d, %d, %lld} -> '%s'\n", (int)size, (const char *)data,
            v.months, v.days, (long long)v.us, buf);
    abort();
  }
  return 0;
}
