#!/usr/bin/env bash
# tests/install/run.sh — proves that an installed uvsql can be used from outside its tree.
#
#   bash tests/install/run.sh [SOURCE_DIR [VERSION]]
#
# In a temporary directory of its own (removed on exit; set UVSQL_INSTALL_TEST_KEEP=1 to keep
# it), it:
#   1. configures and builds uvsql from SOURCE_DIR (default: this checkout) in its own build
#      directory, library only, and installs it with `cmake --install --prefix` into a prefix;
#   2. checks what was installed: headers, libuvsql.a, libuvsql.so.<VERSION> with the soname
#      libuvsql.so.<major>, uvsql.pc, the CMake package; and that none of them names the source
#      or build tree (the build tree is then deleted, so nothing can quietly depend on it);
#   3. builds tests/install/hello.c against the installed copy through pkg-config
#      (PKG_CONFIG_PATH; shared, and static with `pkg-config --static`) and through CMake
#      (find_package(uvsql) with CMAKE_PREFIX_PATH; uvsql::uvsql and uvsql::uvsql_static);
#   4. runs the four programs on an SQLite file and checks what they print;
#   5. builds tests/install/hello_cpp.cc as C++17 (-Wall -Wextra -Werror -pedantic) against the
#      installed headers and library through pkg-config, runs it and checks what it prints.
# Registered with ctest as install.pkgconfig_and_cmake (label `install`). It takes about half a
# minute, most of it compiling uvsql once more.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "${1:-$here/../..}" && pwd)"
version="${2:-}"
cc="${CC:-cc}"
cxx="${CXX:-c++}"
jobs=2

say() { echo "install test: $*"; }
fail() {
  echo "install test: FAILED: $*" >&2
  exit 1
}

tmp="$(mktemp -d "${TMPDIR:-/tmp}/uvsql-install-test.XXXXXX")"
cleanup() {
  if [ "${UVSQL_INSTALL_TEST_KEEP:-0}" = 1 ]; then
    say "kept $tmp"
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
build="$tmp/build"
prefix="$tmp/prefix"
log="$tmp/log"
mkdir -p "$log"

step() { # step NAME CMD... — runs CMD with its output in a log, shown if it fails
  local name="$1"
  shift
  if ! "$@" >"$log/$name.log" 2>&1; then
    cat "$log/$name.log" >&2
    fail "$name: $*"
  fi
}

# ------------------------------------------------------------------ 1. build and install
say "building uvsql from $src in $build"
# The prefix given at configure time is a decoy: the install must follow --prefix.
step configure cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$tmp/not-the-prefix" -DCMAKE_INSTALL_LIBDIR=lib \
  -DUVSQL_BUILD_TESTS=OFF -DUVSQL_BUILD_EXAMPLES=OFF -DUVSQL_BUILD_BENCH=OFF
step build cmake --build "$build" -j "$jobs"
step install cmake --install "$build" --prefix "$prefix"
[ ! -e "$tmp/not-the-prefix" ] || fail "cmake --install wrote into the configure-time prefix"

# ------------------------------------------------------------------ 2. what was installed
lib="$prefix/lib"
for f in include/uvsql.h include/uvsql/engine.h include/uvsql/future.h include/uvsql/error.h \
  include/uvsql/value.h include/uvsql/sql.h include/uvsql/orm.h include/uvsql/version.h \
  include/uvsql/listen_copy.h lib/libuvsql.a lib/pkgconfig/uvsql.pc \
  lib/cmake/uvsql/uvsqlConfig.cmake lib/cmake/uvsql/uvsqlConfigVersion.cmake \
  lib/cmake/uvsql/uvsqlTargets.cmake share/doc/uvsql/LICENSE; do
  [ -f "$prefix/$f" ] || fail "not installed: $f"
done
real="$(find "$lib" -maxdepth 1 -name 'libuvsql.so.*.*.*' -type f | head -n 1)"
[ -n "$real" ] || fail "not installed: lib/libuvsql.so.<version>"
[ -z "$version" ] || [ "$real" = "$lib/libuvsql.so.$version" ] ||
  fail "shared library is $(basename "$real"), expected libuvsql.so.$version"
soname="$(objdump -p "$real" | awk '$1 == "SONAME" {print $2}')"
major="${real##*/libuvsql.so.}"
major="${major%%.*}"
[ "$soname" = "libuvsql.so.$major" ] || fail "soname is '$soname', expected libuvsql.so.$major"
[ "$(readlink "$lib/libuvsql.so.$major")" = "$(basename "$real")" ] ||
  fail "lib/libuvsql.so.$major does not point to $(basename "$real")"
[ "$(readlink "$lib/libuvsql.so")" = "libuvsql.so.$major" ] ||
  fail "lib/libuvsql.so (the link-time name) does not point to libuvsql.so.$major"
say "installed $(basename "$real") (soname $soname), libuvsql.a, headers, uvsql.pc, CMake package"

if grep -rlF -e "$src" -e "$build" "$prefix/lib/cmake" "$prefix/lib/pkgconfig" "$prefix/include"; then
  fail "the installed files above name the source or build tree"
fi
rm -rf "$build" # nothing below may need it

# ------------------------------------------------------------------ 3. build against it
export PKG_CONFIG_PATH="$lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
pc_version="$(pkg-config --modversion uvsql)" || fail "pkg-config does not find uvsql"
[ -z "$version" ] || [ "$pc_version" = "$version" ] ||
  fail "pkg-config --modversion uvsql is $pc_version, expected $version"
cflags="$(pkg-config --cflags uvsql)"
libs="$(pkg-config --libs uvsql)"
static_libs="$(pkg-config --static --libs uvsql)"
say "pkg-config --cflags --libs uvsql: $cflags $libs"
say "pkg-config --static --libs uvsql: $static_libs"
for want in -luvsql -luv -lpq -lmariadb -lsqlite3 -pthread; do
  case " $static_libs " in *" $want "*) ;; *) fail "pkg-config --static --libs lacks $want" ;; esac
done

out="$tmp/out"
mkdir -p "$out"
# gnu11, not c11: <uv.h> needs the POSIX declarations (pthread_rwlock_t) that strict C11 hides.
# shellcheck disable=SC2086 # the flags are word lists
step pc_shared "$cc" -std=gnu11 -Wall -Werror -o "$out/hello_pc_shared" "$here/hello.c" $cflags $libs
# --static: libuvsql.a itself (-l:libuvsql.a: the archive, not the .so beside it), with every
# library it needs from the system.
# shellcheck disable=SC2086
step pc_static "$cc" -std=gnu11 -Wall -Werror -o "$out/hello_pc_static" "$here/hello.c" $cflags \
  ${static_libs/-luvsql/-l:libuvsql.a}

step cmake_configure cmake -S "$here" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
  -DUVSQL_WANTED_VERSION="$version" -DCMAKE_BUILD_TYPE=Release
step cmake_build cmake --build "$tmp/consumer" -j "$jobs"
grep -q "found uvsql ${version}" "$log/cmake_configure.log" || fail "find_package said nothing"
cp "$tmp/consumer/hello_shared" "$out/hello_cmake_shared"
cp "$tmp/consumer/hello_static" "$out/hello_cmake_static"
say "built hello against the installed uvsql: pkg-config (shared, static), CMake (uvsql::uvsql, uvsql::uvsql_static)"

# ------------------------------------------------------------------ 4. run them
needs_so() { objdump -p "$1" | awk '$1 == "NEEDED" {print $2}' | grep -qx "libuvsql.so.$major"; }
for prog in hello_pc_shared hello_pc_static hello_cmake_shared hello_cmake_static; do
  case "$prog" in
  *_shared) needs_so "$out/$prog" || fail "$prog does not link libuvsql.so.$major" ;;
  *_static) ! needs_so "$out/$prog" || fail "$prog links libuvsql.so.$major, not libuvsql.a" ;;
  esac
  db="$tmp/$prog.db"
  # LD_LIBRARY_PATH: the prefix is not on the loader's path (CMake's binaries carry an rpath,
  # and were copied; the pkg-config ones do not).
  if ! got="$(LD_LIBRARY_PATH="$lib" "$out/$prog" "sqlite:///$db" 2>&1)"; then
    fail "$prog exited with an error: $got"
  fi
  [ "$got" = "uvsql on sqlite: 40 + 2 = 42" ] || fail "$prog printed '$got'"
  say "$prog: $got"
done
if [ "$(LD_LIBRARY_PATH="$lib" ldd "$out/hello_pc_shared" | awk '$1 ~ /^libuvsql/ {print $3}')" != \
  "$lib/libuvsql.so.$major" ]; then
  fail "hello_pc_shared did not load the installed libuvsql.so.$major"
fi

# ------------------------------------------------------------------ 5. C++17
command -v "$cxx" >/dev/null || fail "no C++ compiler '$cxx' (set CXX; Debian: g++)"
# shellcheck disable=SC2086
step cxx_shared "$cxx" -std=c++17 -Wall -Wextra -Werror -pedantic -o "$out/hello_cpp" \
  "$here/hello_cpp.cc" $cflags $libs
needs_so "$out/hello_cpp" || fail "hello_cpp does not link libuvsql.so.$major"
if ! got="$(LD_LIBRARY_PATH="$lib" "$out/hello_cpp" "sqlite:///$tmp/hello_cpp.db" 2>&1)"; then
  fail "hello_cpp exited with an error: $got"
fi
want="uvsql ${pc_version} from C++: forty first, 40 + 2 = 42, nothing on 2026-12-04, sqlite"
[ "$got" = "$want" ] || fail "hello_cpp printed '$got', expected '$want'"
say "hello_cpp ($cxx -std=c++17): $got"
say "ok"
