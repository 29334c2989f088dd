#!/usr/bin/env bash
# libstrata installed and used by a program of its own: `cmake --install` of this build into a
# prefix, then examples/embed built out of tree with pkg-config only (shared and static) and with
# CMake's find_package(strata). The program migrates its own database at start-up from
# migrations compiled into it (one a C function that moves data); run twice, the second run
# applies nothing, and `strata migrations show` reads the same history, on SQLite and PostgreSQL.
. "$(dirname "$0")/lib.sh"

BUILD=$(dirname "$STRATA")
PREFIX=$TEST_DIR/prefix
command -v cc >/dev/null || bail "no C compiler"
command -v cmake >/dev/null || bail "no cmake"

run cmake --install "$BUILD" --prefix "$PREFIX"
is 'cmake --install into a prefix' "$rc" 0
for f in bin/strata lib/libstrata.so lib/libstrata.a include/strata.h lib/pkgconfig/strata.pc \
	lib/cmake/strata/strataConfig.cmake lib/cmake/strata/strataConfigVersion.cmake \
	share/man/man1/strata.1 share/man/man3/strata.3; do
	is "... installs $f" "$(find "$PREFIX" -path "$PREFIX/*$f" | head -1 | sed "s|^$PREFIX/||;s|/x86_64-linux-gnu||")" "$f"
done
LIBDIR=$(dirname "$(find "$PREFIX" -name 'libstrata.so' | head -1)")
SO=$LIBDIR/libstrata.so
like '... libstrata.so has an SONAME with the major version' \
	"$(readelf -d "$SO" | grep SONAME)" 'Library soname: \[libstrata\.so\.0\]'
is '... it exports only strata_* symbols' \
	"$(nm -D --defined-only "$SO" | awk '{print $3}' | grep -v '^strata_' | tr '\n' ' ')" ''
api=$(grep -o '^STRATA_API [^(]*(' "$ROOT/include/strata.h" | sed -E 's/.*[ *]([a-z_0-9]+)\($/\1/' | sort)
exported=$(nm -D --defined-only "$SO" | awk '$2 == "T" {print $3}' | sort)
is '... exactly the functions strata.h declares' "$exported" "$api"

# the program's own directory, away from the source tree
APP=$TEST_DIR/app
mkdir -p "$APP"
cp "$ROOT/examples/embed/embed.c" "$ROOT/examples/embed/Makefile" "$ROOT/examples/embed/CMakeLists.txt" "$APP/"
export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
cflags=$(pkg-config --cflags strata)
unlike 'pkg-config gives the installed header, not the source tree' "$cflags" "$ROOT"
# a library built with the sanitizers (the suite's) needs them in the program too
san=
nm -D "$SO" | grep -q ' U __asan_init' && san='-fsanitize=address,undefined'
check 'make: embed builds with pkg-config only' 0 '' '^$' \
	make -C "$APP" CFLAGS="-g -Wall -Wextra -Werror $san" LDFLAGS="-Wl,-rpath,$LIBDIR"
like '... linked against the shared library' "$(ldd "$APP/embed")" "libstrata\.so\.0 => $LIBDIR/libstrata\.so\.0"

scenario() {
	local k=$1 shown
	new_db "$k"
	check "$k: the first run migrates, then works" 0 \
		'^migrations: 3 applied now, 3 in all$' '^$' "$APP/embed" "$DB_URL"
	like "$k: ... each migration as the library reports it" "$out" '^migrated: 20240103000000-MoveAuthors \([0-9.]+ ms\)$'
	like "$k: ... the program's work reads the status" "$out" "^schema: 20240103000000-MoveAuthors, 3 migrations applied, 0 pending \\($([ "$k" = pg ] && echo postgres || echo sqlite), libstrata 0\\.2\\.0\\)\$"
	is "$k: ... the C step moved the data in its transaction" \
		"$(dbq "select b.title || '=' || a.name from books b join authors a on a.id = b.author_id order by b.id" | tr '\n' ';')" \
		'Dune=Frank Herbert;Children of Dune=Frank Herbert;The Dispossessed=Ursula K. Le Guin;'
	check "$k: the second run applies nothing" 0 '^migrations: 0 applied now, 3 in all$' '^$' \
		"$APP/embed" "$DB_URL"
	unlike "$k: ... and reports no migration" "$out" '^migrated:'
	is "$k: ... the history has each once" "$(db_history)" \
		'20240101000000-CreateBooks,20240102000000-CreateAuthors,20240103000000-MoveAuthors'
	# the command reads the history the library wrote: the migrations are the program's, so
	# they are applied and in none of its directories
	mkdir -p none
	check "$k: strata migrations show reads the same history" 0 '' '^$' \
		strata --database-url "$DB_URL" migrations show --dir none --json
	shown=$(printf '%s' "$out" | python3 -c 'import json,sys; print(" ".join(m["version"] + " " + m["name"] + " " + m["status"] for m in json.load(sys.stdin)["migrations"]))')
	is "$k: ... version, name and state of each" "$shown" \
		'20240101000000 CreateBooks missing 20240102000000 CreateAuthors missing 20240103000000 MoveAuthors missing'
	like "$k: ... applied by the program" "$out" '"missing": 3'
	check "$k: ... and a run of the command has nothing to do there" 0 '^nothing to run' '^$' \
		strata --database-url "$DB_URL" migrations run --dir none
}
each_db scenario

# the README's example, as written there, in a main()
python3 - "$ROOT/README.md" >readme_example.c <<'PY'
import sys
s = open(sys.argv[1]).read()
i = s.index("```c\n#include <strata.h>")
code = s[i + 5 : s.index("```", i + 5)]
head, rest = code.split("strata_db *db = NULL;", 1)
print("#include <stdio.h>\n" + head + "int main(void)\n{\nstrata_db *db = NULL;" + rest + "return 0;\n}")
PY
# shellcheck disable=SC2046,SC2086
check "the README's C example builds" 0 '' '^$' \
	cc $san -Wall -Werror -Wno-unused-parameter -o readme_example readme_example.c \
	$(pkg-config --cflags --libs strata) -Wl,-rpath,"$LIBDIR"
check '... and migrates' 0 '' '^$' ./readme_example
is "... both of its migrations" "$(sqlite3 app.db 'select group_concat(name) from strata_migrations')" 'CreateBooks,MoveAuthors'

# the static library, and CMake's package
new_db sqlite
check 'make STATIC=1: embed links libstrata.a' 0 '' '^$' \
	make -C "$APP" -B STATIC=1 CFLAGS="-g -Wall -Wextra -Werror $san"
unlike '... no libstrata.so needed' "$(ldd "$APP/embed")" 'libstrata'
check '... and migrates the same' 0 '^migrations: 3 applied now, 3 in all$' '^$' "$APP/embed" "$DB_URL"
check 'cmake: find_package(strata) configures' 0 '' '' \
	cmake -S "$APP" -B "$APP/build" -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_C_FLAGS="$san" \
	-DCMAKE_BUILD_RPATH="$LIBDIR"
check '... builds' 0 '' '' cmake --build "$APP/build"
new_db sqlite
check '... and the program migrates' 0 '^migrations: 3 applied now, 3 in all$' '^$' \
	"$APP/build/embed" "$DB_URL"
done_testing
