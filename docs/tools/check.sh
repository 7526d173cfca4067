#!/usr/bin/env bash
# docs/tools/check.sh — keeps docs/*.md honest (run by ctest, label `docs`).
#
#   bash docs/tools/check.sh snippets
#       Every ```c block of docs/*.md must appear, line for line (leading and trailing blanks
#       ignored, blank lines skipped), in one of docs/examples/*.c, which the build compiles
#       with -Werror and ctest runs: a snippet in the docs is code that compiles and works.
#       (A block may also quote a public header, include/uvsql/*.h, verbatim.) Checked: the pages
#       that say so with the line <!-- snippets: docs/examples --> (tutorial, errors, backends).
#   bash docs/tools/check.sh run PROGRAM BACKEND
#       Runs one docs/examples program on BACKEND (sqlite: a file in the current directory;
#       postgresql / mariadb: $UVSQL_TEST_PG_URL / $UVSQL_TEST_MARIADB_URL, which must be set)
#       and fails when it exits non-zero or prints something else than
#       docs/examples/expected/NAME.BACKEND.out (else NAME.out). In those files a line
#       `re: REGEX` matches a line by an extended regular expression; a first line
#       `# lines in any order` compares the lines sorted. A program without an
#       expected file must check its own output (its header says "exits 1 when something
#       differs").
#   bash docs/tools/check.sh errors ERRORS_TABLE_PROGRAM [--write]
#       The table between the errors-table markers of docs/errors.md must be what
#       docs/tools/errors_table.c prints (from the library's UVSQL_ERRNO_MAP); --write updates it.
set -euo pipefail
docs="$(cd "$(dirname "$0")/.." && pwd)"

snippets() {
  local failed=0 md sources
  sources=("$docs"/examples/*.c "$docs"/../include/uvsql/*.h)
  for md in "$docs"/*.md; do
    grep -q '^<!-- snippets: docs/examples -->' "$md" || continue
    # awk prints "LINE" for each block not found in any example.
    local missing
    missing="$(awk '
      function norm(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); gsub(/[ \t]+/, " ", s); return s }
      FNR == 1 { file++ }
      file <= nex {                       # the examples, joined into one string each
        l = norm($0); if (l != "") text[file] = text[file] "\n" l; next
      }
      /^[ \t]*```c[ \t]*$/ { inblk = 1; blk = ""; start = FNR; next }
      inblk && /^[ \t]*```[ \t]*$/ {
        inblk = 0; found = 0
        for (i = 1; i <= nex; i++) if (index(text[i] "\n", blk "\n")) { found = 1; break }
        if (!found) print start
        next
      }
      inblk { l = norm($0); if (l != "") blk = blk "\n" l }
    ' nex="${#sources[@]}" "${sources[@]}" "$md")"
    for line in $missing; do
      echo "$md:$line: this \`\`\`c block is not (line for line) in any docs/examples/*.c (nor a header)" >&2
      failed=1
    done
  done
  [ "$failed" = 0 ] || exit 1
  echo "check.sh: every C snippet of docs/*.md is in docs/examples/*.c"
}

run_example() {
  local prog="$1" backend="$2" name url var expected out rc=0
  name="$(basename "$prog")"
  name="${name#docs_}"
  case "$backend" in
  sqlite) url="sqlite:///$name.db" ;;
  postgresql) var=UVSQL_TEST_PG_URL ;;
  mariadb) var=UVSQL_TEST_MARIADB_URL ;;
  *)
    echo "check.sh run: unknown backend \"$backend\" (sqlite, postgresql or mariadb)" >&2
    exit 2
    ;;
  esac
  if [ -n "${var:-}" ]; then
    url="${!var:-}"
    [ -n "$url" ] || {
      echo "check.sh run: $var is not set: give the $backend test server's URL (scripts/test.sh sets it)" >&2
      exit 1
    }
  fi
  expected="$docs/examples/expected/$name.$backend.out"
  [ -f "$expected" ] || expected="$docs/examples/expected/$name.out"
  if [ ! -f "$expected" ] && ! grep -q 'exits 1 when' "$docs/examples/$name.c"; then
    echo "check.sh run: docs/examples/$name.c neither checks its output (say \"exits 1 when something differs\" in its header) nor has docs/examples/expected/$name.out" >&2
    exit 1
  fi
  out="$(mktemp)"
  "$prog" "$url" >"$out" || rc=$?
  if [ "$rc" != 0 ]; then
    cat "$out"
    rm -f "$out"
    echo "check.sh run: docs_$name exited with $rc on $backend" >&2
    exit 1
  fi
  if [ -f "$expected" ]; then
    # Line by line; an expected line "re: X" matches by the ERE X (anchored). An expected file
    # whose first line is "# lines in any order" is compared sorted (callbacks of concurrent
    # statements).
    local want="$expected"
    if [ "$(head -n 1 "$expected")" = "# lines in any order" ]; then
      want="$(mktemp)"
      tail -n +2 "$expected" | LC_ALL=C sort >"$want"
      LC_ALL=C sort -o "$out" "$out"
    fi
    if ! awk '
      FNR == 1 { file++ }
      file == 1 { want[++nw] = $0; next }
      { have[++nh] = $0 }
      END {
        bad = 0
        for (i = 1; i <= (nw > nh ? nw : nh); i++) {
          w = want[i]; h = have[i]
          ok = (i <= nw && i <= nh) && (substr(w, 1, 4) == "re: " ? h ~ ("^" substr(w, 5) "$") : h == w)
          if (!ok) { printf "line %d:\n  expected: %s\n  printed:  %s\n", i, (i <= nw ? w : "(nothing)"), (i <= nh ? h : "(nothing)") > "/dev/stderr"; bad = 1 }
        }
        exit bad
      }' "$want" "$out"; then
      [ "$want" = "$expected" ] || rm -f "$want"
      echo "check.sh run: docs_$name on $backend printed (above the differences):" >&2
      cat "$out" >&2
      echo "check.sh run: it differs from ${expected#"$docs"/}" >&2
      rm -f "$out"
      exit 1
    fi
    [ "$want" = "$expected" ] || rm -f "$want"
  fi
  rm -f "$out"
  if [ -f "$expected" ]; then
    echo "check.sh: docs_$name on $backend printed what ${expected#"$docs"/} says"
  else
    echo "check.sh: docs_$name on $backend checked its own output"
  fi
}

errors() {
  local prog="$1" write="${2:-}" md="$docs/errors.md" want have
  want="$("$prog")"
  have="$(sed -n '/<!-- errors-table:begin/,/<!-- errors-table:end/p' "$md" | sed '1d;$d')"
  if [ "$want" = "$have" ]; then
    echo "check.sh: docs/errors.md has the table of include/uvsql/error.h"
    return 0
  fi
  if [ "$write" = --write ]; then
    local tmp
    tmp="$(mktemp)"
    awk -v table="$want" '
      /<!-- errors-table:begin/ { print; print table; skip = 1; next }
      /<!-- errors-table:end/ { skip = 0 }
      !skip { print }' "$md" >"$tmp"
    cat "$tmp" >"$md"
    rm -f "$tmp"
    echo "check.sh: docs/errors.md table rewritten"
    return 0
  fi
  echo "docs/errors.md: the error table differs from include/uvsql/error.h (- doc, + library):" >&2
  diff <(echo "$have") <(echo "$want") >&2 || true
  echo "update it with: bash docs/tools/check.sh errors $prog --write" >&2
  exit 1
}

case "${1:-}" in
snippets) snippets ;;
run)
  shift
  run_example "$@"
  ;;
errors)
  shift
  errors "$@"
  ;;
*)
  sed -n '2,19s/^# \{0,1\}//p' "$0" >&2
  exit 2
  ;;
esac
