#!/usr/bin/env bash
# scripts/quickstart.sh — from a fresh clone to a running uvsql program, no database server needed.
#
#   bash scripts/quickstart.sh [URL]
#
# Installs the missing build dependencies (scripts/deps.sh), builds uvsql and its examples in
# build/, and runs build/quickstart (examples/quickstart.c): an engine on an SQLite file
# (build/quickstart.db), a table, inserts in a transaction, a query read with typed getters.
# Give a URL (e.g. postgresql://user@localhost/db) to run the same program on another database.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
echo "quickstart.sh: configuring and building in build/"
cmake -S . -B build >/dev/null
cmake --build build --target quickstart -j "$(nproc 2>/dev/null || echo 2)"
echo "quickstart.sh: running build/quickstart $*"
echo
cd build
./quickstart "$@"
