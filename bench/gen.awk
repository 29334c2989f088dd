# gen.awk: writes one migration set in every tool's format (part of bench/run).
#   awk -v dir=DIR -v n=N -v kind=schema|overhead -v psql=PSQL -f bench/gen.awk
# schema:   migration i creates table t<i> (4 columns, a primary key) and an index on it; every
#           fifth also adds a column to t<i-3>. Its down section undoes both.
# overhead: migration i is one cheap statement, `create schema s<i>` (down: drop schema s<i>).
# Versions are 13-digit numbers (1700000000000 + i), which TypeORM's class names need too.
# Writes under DIR:
#   pg/all.sql        every up section, for `psql -1 -f` (one transaction)
#   pg/each.sql       every up section wrapped in its own BEGIN/COMMIT, for `psql -f`
#   pg/down_last.sql  the newest migration's down section
#   strata/src/migrations/<v>-<name>.sql     strata (and dbmate: same -- migrate:up/down format)
#   dbmate/<v>_<name>.sql
#   typeorm/<v>-<name>.js   a class with up/down calling queryRunner.query (TypeORM, as Medusa)
#   knex/m/<v>_<name>.js   exports.up/down calling knex.raw (bench/peers/knexfile.js runs them)
#   sqitch/{sqitch.conf,sqitch.plan,deploy/,revert/}   BEGIN/COMMIT scripts, as `sqitch add` makes
#   sqlite/src/migrations/<v>-<name>.sql, sqlite/all.sql, sqlite/each.sql   the SQLite dialect
function up_sql(i, lite,   s) {
	if (kind == "overhead")
		return lite ? sprintf("create table s%d (x);", i) : sprintf("create schema s%d;", i)
	if (lite)
		s = sprintf("create table t%d (id integer primary key, a text not null, b integer, c text default current_timestamp);\ncreate index t%d_a on t%d (a);", i, i, i)
	else
		s = sprintf("create table t%d (id bigint primary key, a text not null, b integer, c timestamptz default now());\ncreate index t%d_a on t%d (a);", i, i, i)
	if (i % 5 == 0 && i > 3)
		s = s sprintf("\nalter table t%d add column d%d text;", i - 3, i)
	return s
}
function down_sql(i, lite,   s) {
	if (kind == "overhead")
		return lite ? sprintf("drop table s%d;", i) : sprintf("drop schema s%d;", i)
	s = sprintf("drop table t%d;", i)
	if (i % 5 == 0 && i > 3)
		s = s sprintf("\nalter table t%d drop column d%d;", i - 3, i)
	return s
}
BEGIN {
	if (kind == "") kind = "schema"
	P = dir "/pg"; S = dir "/strata/src/migrations"; D = dir "/dbmate"; T = dir "/typeorm"
	K = dir "/knex"; Q = dir "/sqitch"; L = dir "/sqlite"
	system("mkdir -p '" P "' '" S "' '" D "' '" T "' '" K "/m' '" Q "/deploy' '" Q "/revert' '" L "/src/migrations'")
	printf "[core]\n\tengine = pg\n\tplan_file = sqitch.plan\n\ttop_dir = .\n[engine \"pg\"]\n\tclient = %s\n[deploy]\n\tverify = false\n[user]\n\tname = bench\n\temail = bench@example.com\n", psql > (Q "/sqitch.conf")
	close(Q "/sqitch.conf")
	printf "%%syntax-version=1.0.0\n%%project=bench\n\n" > (Q "/sqitch.plan")
	print "begin;" > (L "/all.sql")
	for (i = 1; i <= n; i++) {
		v = "170000" sprintf("%07d", i)
		name = (kind == "overhead" ? "schema_s" : "create_t") i
		up = up_sql(i, 0); down = down_sql(i, 0)
		print up > (P "/all.sql")
		print "begin;\n" up "\ncommit;" > (P "/each.sql")
		if (i == n) { print down > (P "/down_last.sql"); close(P "/down_last.sql") }
		f = S "/" v "-" name ".sql"
		print "-- migrate:up\n" up "\n\n-- migrate:down\n" down > f; close(f)
		f = D "/" v "_" name ".sql"
		print "-- migrate:up\n" up "\n\n-- migrate:down\n" down > f; close(f)
		cls = "M" i "x" v
		f = T "/" v "-" name ".js"
		printf "module.exports = class %s {\n  constructor() { this.name = '%s'; }\n  async up(queryRunner) { await queryRunner.query(`%s`); }\n  async down(queryRunner) { await queryRunner.query(`%s`); }\n};\n", cls, cls, up, down > f
		close(f)
		f = K "/m/" v "_" name ".js"
		printf "exports.up = (knex) => knex.raw(`%s`);\nexports.down = (knex) => knex.raw(`%s`);\n", up, down > f
		close(f)
		printf "%s 2024-01-01T00:00:00Z bench <bench@example.com> # %s\n", name, name > (Q "/sqitch.plan")
		f = Q "/deploy/" name ".sql"; print "BEGIN;\n" up "\nCOMMIT;" > f; close(f)
		f = Q "/revert/" name ".sql"; print "BEGIN;\n" down "\nCOMMIT;" > f; close(f)
		lup = up_sql(i, 1); ldown = down_sql(i, 1)
		f = L "/src/migrations/" v "-" name ".sql"
		print "-- migrate:up\n" lup "\n\n-- migrate:down\n" ldown > f; close(f)
		print lup > (L "/all.sql")
		print "begin;\n" lup "\ncommit;" > (L "/each.sql")
	}
	print "commit;" > (L "/all.sql")
}
