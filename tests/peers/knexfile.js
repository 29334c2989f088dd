// knexfile.js: knex's CLI (migrate:up, migrate:latest, migrate:list) on the .js migrations in
// PEER_KNEX_DIR, each wrapping its SQL in knex.raw. Env: PEER_URL (postgres://...). Run as
// NODE_PATH=<peers>/node_modules node <peers>/node_modules/knex/bin/cli.js --knexfile this-file
// (tests/integration/adopt-lib.sh).
module.exports = {
  client: 'pg',
  connection: process.env.PEER_URL,
  migrations: { directory: process.env.PEER_KNEX_DIR, loadExtensions: ['.js'] },
};
