// typeorm-run.cjs run|show|revert: TypeORM's own migration runner through a tiny data source, as
// Medusa's `medusa migrations run|show|revert` drive it (DataSource.runMigrations with TypeORM's
// default transaction mode, "all"). Env: BENCH_URL (postgres://...), BENCH_MIGRATIONS (a dir of .js).
const { DataSource } = require('typeorm');
const cmd = process.argv[2];
const ds = new DataSource({
  type: 'postgres',
  url: process.env.BENCH_URL,
  migrations: [process.env.BENCH_MIGRATIONS + '/*.js'],
  logging: false,
});
(async () => {
  await ds.initialize();
  if (cmd === 'run') await ds.runMigrations();
  else if (cmd === 'show') await ds.showMigrations();
  else if (cmd === 'revert') await ds.undoLastMigration();
  else throw new Error('usage: typeorm-run.cjs run|show|revert');
  await ds.destroy();
})().catch((e) => { console.error(e); process.exit(1); });
