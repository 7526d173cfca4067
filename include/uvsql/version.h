/* uvsql/version.h — the version of uvsql, at compile time and at run time.
 *
 * This file is the one place the version is written: CMakeLists.txt reads these three numbers
 * for project(VERSION), so the shared library's file name and soname, uvsql.pc and the CMake
 * package all follow it, and tests/test_version.c fails if CMake and this header ever differ.
 * While the major version is 0, a minor release may change the API and the ABI.
 *
 * The macros are what a program was compiled against; uvsql_version() and
 * uvsql_version_string() are what it runs with (the shared library may be newer).
 */
#ifndef UVSQL_VERSION_H
#define UVSQL_VERSION_H

#include "export.h"

#ifdef __cplusplus
extern "C" {
#endif
UVSQL__EXPORTS_BEGIN

#define UVSQL_VERSION_MAJOR 0
#define UVSQL_VERSION_MINOR 1
#define UVSQL_VERSION_PATCH 0

/* (major << 16) | (minor << 8) | patch, as libuv's UV_VERSION_HEX: versions compare as numbers,
 * e.g. #if UVSQL_VERSION_HEX >= 0x000200 */
#define UVSQL_VERSION_HEX                                                                          \
  ((UVSQL_VERSION_MAJOR << 16) | (UVSQL_VERSION_MINOR << 8) | (UVSQL_VERSION_PATCH))

#define UVSQL__STRINGIFY(v)        UVSQL__STRINGIFY_HELPER(v)
#define UVSQL__STRINGIFY_HELPER(v) #v
/* "0.1.0" */
#define UVSQL_VERSION_STRING                                                                       \
  UVSQL__STRINGIFY(UVSQL_VERSION_MAJOR)                                                            \
  "." UVSQL__STRINGIFY(UVSQL_VERSION_MINOR) "." UVSQL__STRINGIFY(UVSQL_VERSION_PATCH)

/* The running library's UVSQL_VERSION_HEX. */
unsigned uvsql_version(void);
/* The running library's UVSQL_VERSION_STRING (static storage, never NULL). */
const char *uvsql_version_string(void);

UVSQL__EXPORTS_END
#ifdef __cplusplus
}
#endif
#endif
