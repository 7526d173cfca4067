/* uvsql/export.h — what libuvsql.so exports.
 *
 * The library is compiled with -fvisibility=hidden and linked with cmake/uvsql.map, which
 * exports only names matching uvsql_[!_]*: nothing internal (uvsql__*) is reachable from the
 * shared library. The public headers put their declarations between UVSQL__EXPORTS_BEGIN and
 * UVSQL__EXPORTS_END, so every function they declare is exported without a mark on each
 * declaration (a new one needs no edit here); UVSQL_EXTERN marks a public declaration made
 * outside such a region. tests/abi/exports.sh checks that the functions the public headers
 * declare and the symbols libuvsql.so exports are the same set.
 */
#ifndef UVSQL_EXPORT_H
#define UVSQL_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define UVSQL_EXTERN         __attribute__((visibility("default")))
#define UVSQL__EXPORTS_BEGIN _Pragma("GCC visibility push(default)")
#define UVSQL__EXPORTS_END   _Pragma("GCC visibility pop")
#else
#define UVSQL_EXTERN
#define UVSQL__EXPORTS_BEGIN
#define UVSQL__EXPORTS_END
#endif

#endif
