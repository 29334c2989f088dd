#!/usr/bin/env bash
# The shape of the house (README "Layout"): every include points down.
#   src/cli      -> strata.h and cli/ only (the command is a client of the public API)
#   src/api      -> core/, util/, strata.h (use cases reach engines through core/engine.h)
#   src/core     -> core/, util/, strata.h (never an engine)
#   src/engine/X -> core/, util/, engine/X/ (never another engine; engines.c lists them all)
#   src/util     -> util/, strata.h
# and no source file over 800 lines, no function over 120.
. "$(dirname "$0")/lib.sh"
cd "$ROOT/src" || bail "no src"

# includes of FILES that are not one of the allowed prefixes
bad_includes() { # ALLOWED-REGEX FILE...
	local allowed=$1
	shift
	grep -Hn '^#include "' "$@" | grep -Ev "#include \"($allowed)" || true
}

is 'src/cli includes only strata.h and its own headers' \
	"$(bad_includes 'strata\.h"|cli/' cli/*.[ch])" ''
is 'src/api includes no engine and no cli header' \
	"$(bad_includes 'strata\.h"|api/|core/|util/' api/*.[ch])" ''
is 'src/core includes no engine, api or cli header' \
	"$(bad_includes 'strata\.h"|core/|util/' core/*.[ch])" ''
is 'src/util includes only util/ and strata.h' \
	"$(bad_includes 'strata\.h"|util/' util/*.[ch])" ''
for e in engine/*/; do
	e=${e%/}
	is "$e includes core/, util/ and its own files only" \
		"$(bad_includes "strata\\.h\"|core/|util/|$e/" "$e"/*.[ch])" ''
done
is 'engines.c is the one place that names every engine' \
	"$(grep -rln '#include "engine/' --include=*.c . | grep -v '^\./engine/' | tr '\n' ' ')" ''
# the CLI links the library's public names only: no strata_ function it calls is outside strata.h
api=$(grep -o '^STRATA_API [^(]*(' "$ROOT/include/strata.h" | sed -E 's/.*[ *]([a-z_0-9]+)\($/\1/' | sort -u)
used=$(grep -ho '\bstrata_[a-z_0-9]*(' cli/*.c | tr -d '(' | sort -u)
is 'src/cli calls only functions of strata.h' "$(comm -13 <(printf '%s\n' "$api") <(printf '%s\n' "$used"))" ''

# sizes
is 'no source file over 800 lines' \
	"$(wc -l */*.[ch] engine/*/*.[ch] | awk '$2 != "total" && $1 > 800 {print $2 " " $1}')" ''
long=$(for f in */*.c engine/*/*.c; do
	awk -v f="$f" '
		/^\{$/ {start = NR; match(prev, /[a-z_0-9]+\(/); name = substr(prev, RSTART, RLENGTH - 1); next}
		/^\}$/ && start {if (NR - start + 1 > 120) print f ":" start " " name " " NR - start + 1; start = 0}
		{if ($0 ~ /\(/) prev = $0}' "$f"
done)
is 'no function over 120 lines' "$long" ''
done_testing
