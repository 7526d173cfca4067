#!/usr/bin/env bash
# scripts/docs.sh — builds the API reference from the public headers' comments with Doxygen.
#
#   bash scripts/docs.sh     installs doxygen if missing (scripts/deps.sh --docs), then writes
#                            build/docs/api/index.html; fails on any Doxygen warning
#
# Settings: docs/Doxyfile. The tutorial and the other pages are Markdown in docs/.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh --docs
version="$(sed -n 's/^project(uvsql VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)"
mkdir -p build/docs
UVSQL_DOCS_OUT=build/docs UVSQL_VERSION="$version" doxygen docs/Doxyfile
echo "docs.sh: API reference in build/docs/api/index.html"
