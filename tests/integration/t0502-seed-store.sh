#!/usr/bin/env bash
# The example store (examples/store): build, then seed, on the embedded SQLite default and on
# PostgreSQL through DATABASE_URL, unchanged; the second seed is a no-op.
. "$(dirname "$0")/lib.sh"

cp -r "$ROOT/examples/store" store && cd store || bail "no examples/store"
rm -rf dist strata.db
check 'strata build in the example' 0 'built 3 migrations' '^$' "$STRATA" build
check 'seed on the SQLite default applies migrations, then loads' 0 \
	'applying 4 migrations to sqlite:strata\.db' '^$' "$STRATA" seed -f data/seed.json
like '... rows per table' "$out" 'prices +12 rows'
like '... and the total' "$out" 'seeded 39 rows from 1 file'
is '... a store, two regions, five countries' \
	"$(sq_q strata.db "select (select count(*) from stores), (select count(*) from regions), (select count(*) from countries)")" '1|2|5'
is '... prices reach their variant and product' \
	"$(sq_q strata.db "select p.handle || ':' || v.sku || ':' || pr.currency_code || ':' || pr.amount from prices pr join product_variants v on v.id = pr.variant_id join products p on p.id = v.product_id where v.sku = 'MUG' order by 1")" \
	"$(printf 'mug:MUG:eur:1200\nmug:MUG:usd:1400')"
is '... the admin user' "$(sq_q strata.db "select email || ' ' || role || ' ' || is_active from users")" 'admin@example.com admin 1'
check 'seeding again is a no-op' 0 'nothing to seed' '^$' "$STRATA" seed -f data/seed.json

if [ -n "${PGHOST:-}" ] && "$PSQL" -X -q -d postgres -c 'select 1' >/dev/null 2>&1; then
	need_pg
	check 'the same project seeds PostgreSQL unchanged' 0 'seeded 39 rows from 1 file' '^$' \
		env DATABASE_URL="$PG_URL" "$STRATA" seed -f data/seed.json
	is '... same rows' "$(pg_q "select (select count(*) from stores), (select count(*) from regions), (select count(*) from countries), (select count(*) from prices)")" '1|2|5|12'
	is '... jsonb metadata' "$(pg_q "select metadata->'tags'->>1 from products where handle = 't-shirt'")" summer
	is '... boolean' "$(pg_q "select is_active from users")" t
	check '... and again is a no-op' 0 'nothing to seed' '^$' \
		env DATABASE_URL="$PG_URL" "$STRATA" seed -f data/seed.json
elif [ "${STRATA_REQUIRE_PG:-0}" = 1 ]; then
	bail "PostgreSQL is required (run under pg_virtualenv)"
else
	echo "ok $((_n += 1)) - the store on PostgreSQL # skip no PostgreSQL server"
fi
done_testing
