#!/usr/bin/env bash
# build.sh [OUTDIR]: builds the libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined)
# into OUTDIR (default: build-fuzz), from the library's sources and the command's config reader
# (the URL parser reaches the engines' URL readers, so the engines are linked in; no target
# opens a database).
# Needs Debian's clang and libclang-rt-14-dev (scripts/setup.sh fuzz installs them).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/build-fuzz}
CC=${FUZZ_CC:-clang}
mkdir -p "$OUT/obj"
command -v "$CC" >/dev/null || { echo "build.sh: $CC not found" >&2; exit 3; }
flags=(-std=c17 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
	-fno-sanitize-recover=undefined -I"$ROOT/include" -I"$ROOT/src" -I"$(pg_config --includedir)"
	-Wall -Wno-unused-parameter)
# libpg_query is loaded by its SONAME on first use (src/core/pgq.h), as CMakeLists.txt reads it
soname=$(objdump -p "$("$CC" -print-file-name=libpg_query.so)" | sed -n 's/^ *SONAME *//p')
[ -n "$soname" ] || { echo "build.sh: cannot read libpg_query's SONAME" >&2; exit 3; }
flags+=(-DSTRATA_PG_QUERY_SONAME="\"$soname\"" -DSTRATA_PG_QUERY_DEB="\"${soname/libpg_query.so./libpg-query}\"")
srcs=()
for s in "$ROOT"/src/util/*.c "$ROOT"/src/core/*.c "$ROOT"/src/engine/*.c "$ROOT"/src/engine/*/*.c \
	"$ROOT"/src/api/*.c "$ROOT"/src/cli/config.c "$ROOT"/src/cli/env.c; do
	srcs+=("${s#"$ROOT"/src/}")
done
objs=()
for s in "${srcs[@]}"; do
	o="$OUT/obj/$(echo "$s" | tr / _).o"
	# any header may be shared: a newer one rebuilds the object
	if [ ! -f "$o" ] || [ "$ROOT/src/$s" -nt "$o" ] ||
		[ -n "$(find "$ROOT/src" "$ROOT/include" -name '*.h' -newer "$o" | head -1)" ]; then
		"$CC" "${flags[@]}" -c "$ROOT/src/$s" -o "$o"
	fi
	objs+=("$o")
done
for t in fuzz_migration fuzz_config fuzz_seed_json fuzz_sqlsplit; do
	if [ ! -x "$OUT/$t" ] || [ "$ROOT/tests/fuzz/$t.c" -nt "$OUT/$t" ] || [ -n "$(find "$OUT/obj" -newer "$OUT/$t" -name '*.o')" ]; then
		"$CC" "${flags[@]}" -fsanitize=fuzzer "$ROOT/tests/fuzz/$t.c" "${objs[@]}" -lyajl -lcrypto \
			-lpg_query -lsqlite3 -lpq -o "$OUT/$t"
	fi
done
