/* src/loop/version.c — the library's version at run time: the numbers in uvsql/version.h as
 * they were when the library was built (a program compiled against other headers can compare
 * them with its own UVSQL_VERSION_HEX).
 */
#include "uvsql/version.h"

unsigned uvsql_version(void) {
  return UVSQL_VERSION_HEX;
}

const char *uvsql_version_string(void) {
  return UVSQL_VERSION_STRING;
}
