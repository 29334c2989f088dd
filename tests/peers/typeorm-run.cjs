// typeorm-run.cjs run|show: TypeORM's own migration runner through a tiny data source, as
// Medusa's `medusa migrations run|show` drive it (DataSource.runMigrations, TypeORM's default
// transaction mode "all"). Env: PEER_URL (postgres://...), PEER_MIGRATIONS (a directory of .js
// migration classes). Run with NODE_PATH=<peers>/node_modules (tests/integration/adopt-lib.sh).
const { DataSource } = require('typeorm');
const cmd = process.argv[2];
const ds = new DataSource({
  type: 'postgres',
  url: process.env.PEER_URL,
  migrations: [process.env.PEER_MIGRATIONS + '/*.js'],
  logging: false,
});
(async () => {
  await ds.initialize();
  if (cmd === 'run') {
    const done = await ds.runMigrations();
    for (const m of done) console.log('ran ' + m.name);
  } else if (cmd === 'show') {
    console.log((await ds.showMigrations()) ? 'pending' : 'up to date');
  } else throw new Error('usage: typeorm-run.cjs run|show');
  await ds.destroy();
})().catch((e) => { console.error(e); process.exit(1); });
