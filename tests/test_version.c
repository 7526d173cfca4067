/* tests/test_version.c — uvsql/version.h: the macros agree with each other, with the running
 * library, and with the version CMake builds and installs the library as (CMakeLists.txt reads
 * it from the header; UVSQL_TEST_CMAKE_VERSION is CMake's PROJECT_VERSION). */
#include "harness.h"

#ifndef UVSQL_TEST_CMAKE_VERSION
#error "CMakeLists.txt passes UVSQL_TEST_CMAKE_VERSION to this test"
#endif

TEST(header_version_is_cmake_project_version) {
  /* If this fails, CMakeLists.txt no longer takes its VERSION from include/uvsql/version.h. */
  ASSERT_STR_EQ(UVSQL_VERSION_STRING, UVSQL_TEST_CMAKE_VERSION);
  char numbers[64];
  snprintf(numbers, sizeof numbers, "%d.%d.%d", UVSQL_VERSION_MAJOR, UVSQL_VERSION_MINOR,
           UVSQL_VERSION_PATCH);
  ASSERT_STR_EQ(numbers, UVSQL_TEST_CMAKE_VERSION);
}

TEST(version_hex_packs_major_minor_patch) {
  ASSERT_INT_EQ(UVSQL_VERSION_HEX,
                (UVSQL_VERSION_MAJOR << 16) | (UVSQL_VERSION_MINOR << 8) | UVSQL_VERSION_PATCH);
  ASSERT_INT_EQ((UVSQL_VERSION_HEX >> 16) & 0xff, UVSQL_VERSION_MAJOR);
  ASSERT_INT_EQ((UVSQL_VERSION_HEX >> 8) & 0xff, UVSQL_VERSION_MINOR);
  ASSERT_INT_EQ(UVSQL_VERSION_HEX & 0xff, UVSQL_VERSION_PATCH);
  /* each part fits its byte, so versions compare as numbers */
  ASSERT(UVSQL_VERSION_MINOR < 256 && UVSQL_VERSION_PATCH < 256);
#if UVSQL_VERSION_HEX < 0x000100 /* usable in #if */
#error "UVSQL_VERSION_HEX is not a preprocessor number at least 0.1.0"
#endif
}

TEST(running_library_reports_the_header_version) {
  ASSERT_INT_EQ(uvsql_version(), UVSQL_VERSION_HEX);
  ASSERT_STR_EQ(uvsql_version_string(), UVSQL_VERSION_STRING);
  ASSERT_STR_EQ(uvsql_version_string(), UVSQL_TEST_CMAKE_VERSION);
  /* the same pointer every time: static storage, nothing to free */
  ASSERT(uvsql_version_string() == uvsql_version_string());
}
