#!/usr/bin/env bash
# The Release build of scripts/main.sh compiles cleanly; a plain `cmake -S . -B build` works
# without cmocka (a user who only wants the binary): the
# unit tests are then left out, and cmake says so. pkg-config is pointed at every .pc file of
# this machine but cmocka's, so the check needs no package removed.
. "$(dirname "$0")/lib.sh"
command -v cmake >/dev/null || skip_all "cmake is not installed"
mkdir pc
for d in $(pkg-config --variable pc_path pkg-config | tr ':' ' '); do
	[ -d "$d" ] || continue
	for f in "$d"/*.pc; do
		[ -e "$f" ] || continue
		case $(basename "$f") in cmocka.pc) ;; *) ln -sf "$f" pc/ ;; esac
	done
done
is 'cmocka is hidden from pkg-config' "$(PKG_CONFIG_LIBDIR=$PWD/pc pkg-config --exists cmocka && echo found || echo hidden)" hidden
check 'cmake configures without cmocka' 0 'cmocka not found: the unit tests are not built \(apt-get install libcmocka-dev\)' '' \
	env PKG_CONFIG_LIBDIR="$PWD/pc" cmake -S "$ROOT" -B b -G Ninja
run ninja -C b -t targets all
like '... strata is a target' "$out" '^strata: '
unlike '... no unit test is' "$out" '^test_[a-z_]+: '
check 'with cmocka the unit tests are there' 0 '' '' cmake -S "$ROOT" -B b2 -G Ninja
run ninja -C b2 -t targets all
like '... test_migration is a target' "$out" '^test_migration: '
# what scripts/main.sh builds: -O3 sees what -O0 does not (maybe-uninitialized), and warnings
# are errors there too
check 'the Release build (scripts/main.sh) compiles without a warning' 0 '' '' \
	cmake -S "$ROOT" -B rel -G Ninja -DCMAKE_BUILD_TYPE=Release -DSTRATA_TESTS=OFF
check '... builds' 0 '' '' ninja -C rel
check '... and its strata runs' 0 '^strata 0\.2\.0$' '^$' rel/strata --version
done_testing
