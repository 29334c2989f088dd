#!/usr/bin/env bash
# main.sh: installs what is missing, builds strata, and runs the main job on the embedded
# default: in the example store project, build its migrations, apply them and load its seed
# data into the SQLite file examples/store/strata.db, then show where the database stands.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh build
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRATA_TESTS=OFF >/dev/null
ninja -C build >/dev/null

strata="$PWD/build/strata"
cd examples/store
set -x
"$strata" build
"$strata" seed -f data/seed.json
"$strata" migrations show
