#!/usr/bin/env bash
# docs/tools/check.sh — keeps docs/*.md honest (run by ctest, label `docs`).
#
#   bash docs/tools/check.sh snippets [--write]
#       Every ```c block of docs/*.md (but pages marked <!-- snippets: examples/DIR -->, which
#       docs/tools/page_checks.sh checks against that program) is either a snippet, preceded by the line
#       <!-- snippet:NAME -->, whose lines must be exactly those between /* snippet:NAME */ and
#       /* end snippet */ in one of docs/examples/*.c (dedented; regions may nest; the marker
#       lines themselves are left out) -- programs the build compiles with -Werror and ctest runs
#       on every backend -- or preceded by <!-- fragment: why --> (deliberately not a program:
#       a declaration quoted from a header, a shape to fill in). --write copies each region
#       into its block.
#   bash docs/tools/check.sh selftest
#       The snippet check, on a copy of docs/, fails on a changed block, a changed region and a
#       block without a marker (so that a broken snippet cannot pass unnoticed).
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
  local write="${1:-}" failed=0 md out
  local sources=("$docs"/examples/*.c)
  for md in "$docs"/*.md; do
    # A page marked <!-- snippets: examples/... --> quotes another program tree and has a
    # check of its own (docs/tools/page_checks.sh): not a docs/examples page.
    if grep -q '^<!-- snippets: examples/' "$md"; then
      continue
    fi
    out="$(mktemp)"
    # Prints the page (with --write: its snippets replaced by their regions) to $out and each
    # problem, as "LINE: message", to stdout.
    awk -v nex="${#sources[@]}" -v out="$out" -v write="$write" '
      function rtrim(s) { sub(/[ \t\r]+$/, "", s); return s }
      function close_region(   n, i, k, ind, m, t) {
        n = stack[depth--]
        # dedent by the smallest indent of the non-blank lines
        ind = 1000
        for (i = 1; i <= nl[n]; i++) {
          t = ln[n, i]
          if (t == "") continue
          match(t, /^ */); if (RLENGTH < ind) ind = RLENGTH
        }
        body = ""
        for (i = 1; i <= nl[n]; i++) body = body (i > 1 ? "\n" : "") (ln[n, i] == "" ? "" : substr(ln[n, i], ind + 1))
        region[n] = body
      }
      FNR == 1 { file++ }
      file <= nex {
        if (match($0, /^[ \t]*\/\* snippet:[A-Za-z0-9_.-]+ \*\/[ \t]*$/)) {
          n = $0; sub(/^[ \t]*\/\* snippet:/, "", n); sub(/ \*\/[ \t]*$/, "", n)
          if (n in where) { printf "0: snippet \"%s\" is marked twice: in %s and in %s:%d\n", n, where[n], FILENAME, FNR; next }
          where[n] = FILENAME ":" FNR; stack[++depth] = n; nl[n] = 0; next
        }
        if ($0 ~ /^[ \t]*\/\* end snippet \*\/[ \t]*$/) {
          if (depth == 0) printf "0: %s:%d: an end snippet with no snippet open\n", FILENAME, FNR
          else close_region()
          next
        }
        for (d = 1; d <= depth; d++) { n = stack[d]; ln[n, ++nl[n]] = rtrim($0) }
        if (FNR == 1 && depth) {}
        next
      }
      # the page
      /^[ \t]*```c[ \t]*$/ {
        print > out
        inblk = 1; blk = ""; nb = 0; start = FNR; name = ""
        if (prev ~ /^<!-- snippet:[A-Za-z0-9_.-]+ -->$/) { name = prev; sub(/^<!-- snippet:/, "", name); sub(/ -->$/, "", name) }
        else if (prev !~ /^<!-- fragment/) printf "%d: this ```c block has neither a <!-- snippet:NAME --> line (the region /* snippet:NAME */ ... /* end snippet */ of a docs/examples program) nor a <!-- fragment: why --> line before it\n", FNR
        next
      }
      inblk && /^[ \t]*```[ \t]*$/ {
        inblk = 0
        if (name != "") {
          if (!(name in region)) printf "%d: snippet \"%s\" is not marked in any docs/examples/*.c (/* snippet:%s */ ... /* end snippet */)\n", start, name, name
          else if (blk != region[name]) {
            if (write == "--write") printf "%d: rewritten from %s\n", start, where[name] > "/dev/stderr"
            else printf "%d: this block differs from snippet \"%s\" (%s); bash docs/tools/check.sh snippets --write copies the program'"'"'s lines here\n", start, name, where[name]
          }
          if (name in region) used[name] = 1
          if (name in region && write == "--write") print region[name] > out
          else if (nb) print blk > out
        } else if (nb) print blk > out
        print > out; prev = $0; next
      }
      inblk { blk = blk (nb++ ? "\n" : "") rtrim($0); next }
      { print > out; if ($0 !~ /^[ \t]*$/) prev = $0 }
      END { if (depth) printf "0: a snippet region is not closed (/* end snippet */ missing)\n" }
    ' "${sources[@]}" "$md" >"$out.msg"
    if [ "$write" = --write ]; then
      cmp -s "$out" "$md" || cat "$out" >"$md"
      grep -v ': rewritten from' "$out.msg" | grep -v 'differs from snippet' >"$out.msg2" || true
      mv "$out.msg2" "$out.msg"
    fi
    while IFS= read -r msg; do
      echo "$md:$msg" >&2
      failed=1
    done <"$out.msg"
    rm -f "$out" "$out.msg"
  done
  [ "$failed" = 0 ] || exit 1
  echo "check.sh: every \`\`\`c block of docs/*.md is a marked region of a docs/examples program, or marked a fragment"
}

# The snippet check must fail when a page and its program differ: run it on a copy of docs/
# with one block changed, one region changed, and one block without a marker.
selftest() {
  local tmp rc=0 msg
  tmp="$(mktemp -d)"
  cp -r "$docs/tools" "$docs/examples" "$tmp/"
  cp "$docs"/*.md "$tmp/"
  expect_failure() { # expect_failure WHAT GREP_PATTERN
    if msg="$(bash "$tmp/tools/check.sh" snippets 2>&1)"; then
      echo "check.sh selftest: the snippet check passed after $1" >&2
      rc=1
    elif ! grep -q -- "$2" <<<"$msg"; then
      echo "check.sh selftest: after $1 the snippet check failed without saying \"$2\":" >&2
      echo "$msg" >&2
      rc=1
    fi
  }
  bash "$tmp/tools/check.sh" snippets >/dev/null || {
    echo "check.sh selftest: the copy of docs/ does not pass to begin with" >&2
    rm -rf "$tmp"
    exit 1
  }
  sed -i '0,/^static void log_line/s//static void log_lines/' "$tmp/tutorial.md"
  expect_failure "a changed line in tutorial.md" 'differs from snippet "engine.log_line"'
  cp "$docs/tutorial.md" "$tmp/tutorial.md"
  sed -i 's/fprintf(out, "\[sql\] %s\\n", line);/fprintf(out, "[SQL] %s\\n", line);/' "$tmp/examples/engine.c"
  expect_failure "a changed line in engine.c" 'differs from snippet "engine.log_line"'
  cp "$docs/examples/engine.c" "$tmp/examples/engine.c"
  sed -i '0,/^<!-- snippet:engine.log_line -->$/s///' "$tmp/tutorial.md"
  expect_failure "a marker removed" 'has neither a <!-- snippet:NAME --> line'
  rm -rf "$tmp"
  [ "$rc" = 0 ] || exit 1
  echo "check.sh: the snippet check fails on a changed page, a changed program and a block without a marker"
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
snippets)
  shift
  snippets "$@"
  ;;
selftest) selftest ;;
run)
  shift
  run_example "$@"
  ;;
errors)
  shift
  errors "$@"
  ;;
*)
  sed -n '2,26s/^# \{0,1\}//p' "$0" >&2
  exit 2
  ;;
esac
