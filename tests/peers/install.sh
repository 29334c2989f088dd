#!/usr/bin/env bash
# tests/peers/install.sh [DIR]: installs the npm tools of tests/peers/package-lock.json (dbmate,
# typeorm, knex, pg) into DIR (default build-test/peers, git-ignored) with `npm ci`, unless DIR
# already holds an install of exactly this lock. scripts/test.sh runs it before the suite.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-$here/../../build-test/peers}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# the stamp is written only after npm ci succeeded: a half-done install is redone
if cmp -s "$here/package-lock.json" "$dir/.installed-lock.json" && [ -d "$dir/node_modules" ]; then
	exit 0
fi
command -v npm >/dev/null || { echo "peers: npm is missing (scripts/setup.sh test installs it)" >&2; exit 1; }
echo "peers: npm ci into $dir (dbmate, typeorm, knex, pg)" >&2
rm -f "$dir/.installed-lock.json"
cp "$here/package.json" "$here/package-lock.json" "$dir/"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
"$dir/node_modules/.bin/dbmate" --version >/dev/null ||
	{ echo "peers: the dbmate binary of npm's dbmate package does not run here" >&2; exit 1; }
cp "$here/package-lock.json" "$dir/.installed-lock.json"
