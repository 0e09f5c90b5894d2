// Runs Backstage's PingOne catalog importer
// (@backstage-community/plugin-catalog-backend-module-pingidentity, its own
// PingIdentityEntityProvider as a Backstage backend creates it from app-config) against
// Roster, and prints what it hands the catalog as JSON:
//   {"users":[{name,id,email,displayName,memberOf}], "groups":[{name,id,description,parent}]}
//
// Environment: ROSTER_URL (https://localhost:port), ROSTER_ENV_ID, ROSTER_CLIENT_ID,
// ROSTER_CLIENT_SECRET; NODE_EXTRA_CA_CERTS names the server's certificate.
'use strict';

const { ConfigReader } = require('@backstage/config');
const {
  PingIdentityEntityProvider,
} = require('@backstage-community/plugin-catalog-backend-module-pingidentity/dist/providers/PingIdentityEntityProvider.cjs.js');

const ID_ANNOTATION = 'pingidentity.org/id';

const logger = {
  info: (m) => process.stderr.write(`info: ${m}\n`),
  warn: (m) => process.stderr.write(`warn: ${m}\n`),
  error: (m, meta) => process.stderr.write(`error: ${m} ${JSON.stringify(meta ?? {})}\n`),
  debug: () => {},
  child() {
    return logger;
  },
};

async function main() {
  const url = process.env.ROSTER_URL;
  const config = new ConfigReader({
    catalog: {
      providers: {
        pingIdentityOrg: {
          roster: {
            apiPath: `${url}/v1`,
            authPath: url,
            envId: process.env.ROSTER_ENV_ID,
            clientId: process.env.ROSTER_CLIENT_ID,
            clientSecret: process.env.ROSTER_CLIENT_SECRET,
          },
        },
      },
    },
  });
  const [provider] = PingIdentityEntityProvider.fromConfig(config, { logger, schedule: 'manual' });
  let mutation;
  await provider.connect({
    applyMutation: async (m) => {
      mutation = m;
    },
    refresh: async () => {},
  });
  // read() is what the scheduled task runs; its errors propagate here (the task would log them).
  await provider.read({ logger });
  if (!mutation || mutation.type !== 'full') throw new Error('the importer applied no full mutation');
  const entities = mutation.entities.map((e) => e.entity);
  const users = entities
    .filter((e) => e.kind === 'User')
    .map((e) => ({
      name: e.metadata.name,
      id: e.metadata.annotations[ID_ANNOTATION],
      email: e.spec.profile.email ?? null,
      displayName: e.spec.profile.displayName ?? null,
      memberOf: [...e.spec.memberOf].sort(),
    }));
  const groups = entities
    .filter((e) => e.kind === 'Group')
    .map((e) => ({
      name: e.metadata.name,
      id: e.metadata.annotations[ID_ANNOTATION],
      description: e.metadata.description ?? null,
      parent: e.spec.parent ?? null,
    }));
  process.stdout.write(JSON.stringify({ users, groups }));
}

main().catch((err) => {
  process.stderr.write(`import failed: ${err.stack ?? err}\n`);
  process.exit(1);
});
