#!/usr/bin/env bash
# The layer check must fail the build for an upward include and pass for a downward one.
set -euo pipefail
check="$1"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/db"
printf '#include "lib/error.hpp"\n' > "$dir/db/ok.cpp"
"$check" db "$dir/db" jobs modules http app || { echo "FAIL: a downward include was rejected"; exit 1; }
printf '#include "lib/error.hpp"\n  #  include "http/server.hpp"\n' > "$dir/db/bad.hpp"
if "$check" db "$dir/db" jobs modules http app 2>"$dir/err"; then
  echo "FAIL: an upward include was accepted"; exit 1
fi
grep -q "must not include layer 'http'" "$dir/err" || { echo "FAIL: the message does not name the layer"; cat "$dir/err"; exit 1; }
# And the real tree is clean for every layer.
src=$(cd "$(dirname "$0")/../../src" && pwd)
"$check" lib "$src/lib" db jobs modules http app
"$check" db "$src/db" jobs modules http app
"$check" jobs "$src/jobs" modules http app
"$check" modules "$src/modules" http app
"$check" http "$src/http" app
echo "PASS"
