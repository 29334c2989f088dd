#!/usr/bin/env bash
# setup.sh [build|test|bench]: installs, from Debian's packages, what strata needs and is
# missing here. Runs `apt-get update` and one `apt-get install` only when something is missing.
set -euo pipefail

what=${1:-build}
pkgs=(gcc cmake ninja-build pkg-config libpq-dev libsqlite3-dev libpg-query-dev libssl-dev
	libyajl-dev)
case $what in
build) ;;
test) pkgs+=(libcmocka-dev postgresql postgresql-common sqlite3 perl python3 pgbouncer valgrind clang-format make man-db
	clang libclang-rt-14-dev sqitch libdbd-pg-perl libdbd-sqlite3-perl locales)
	# the adopt tests' npm tools (tests/peers, installed by scripts/test.sh) need npm
	command -v npm >/dev/null || pkgs+=(nodejs npm) ;;
bench) pkgs+=(postgresql postgresql-common sqlite3 time hyperfine sqitch libdbd-pg-perl gnuplot-nox
	python3 iproute2 strace linux-perf)
	command -v npm >/dev/null || pkgs+=(nodejs npm) ;;
*) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >&2
