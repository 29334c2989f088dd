// knexfile.js: knex's CLI (migrate:latest, migrate:list, migrate:down) on the set in
// BENCH_KNEX_DIR, a directory of .js migrations wrapping the set's SQL in knex.raw. Env:
// BENCH_URL (postgres://...). Kept beside node_modules: knex's CLI looks for its local install
// next to the knexfile.
module.exports = {
  client: 'pg',
  connection: process.env.BENCH_URL,
  migrations: { directory: process.env.BENCH_KNEX_DIR, loadExtensions: ['.js'] },
};
