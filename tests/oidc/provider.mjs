// A real OpenID Connect provider for tests/oidc/run: `oidc-provider` (OpenID Certified), on
// loopback, with
//   - the console's client (authorization code + PKCE, ID tokens RS256),
//   - two API clients (client credentials) whose JWT access tokens are signed RS256 and ES256
//     and carry role claims shaped as Keycloak (`realm_access.roles`, `groups`) and Entra ID
//     (`roles`, `tid`, `oid`) send them,
//   - accounts with the same shapes for the console's sign-in (the dev login form: any password).
// Usage: node provider.mjs gen KEYS.json   (a fresh RSA + P-256 key set, new kids)
//        node provider.mjs serve KEYS.json PORT CAREPATH_ORIGIN
import { writeFileSync, readFileSync } from 'node:fs';
import { generateKeyPair, exportJWK } from 'jose';
import Provider from 'oidc-provider';

const [, , command, keysFile, port, carepath] = process.argv;

if (command === 'gen') {
  const stamp = Date.now().toString(36);
  const keys = [];
  for (const alg of ['RS256', 'ES256']) {
    const { privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
    const jwk = await exportJWK(privateKey);
    keys.push({ ...jwk, alg, use: 'sig', kid: `${alg.toLowerCase()}-${stamp}` });
  }
  writeFileSync(keysFile, JSON.stringify({ keys }));
  console.log(keys.map((k) => k.kid).join(' '));
  process.exit(0);
}

const jwks = JSON.parse(readFileSync(keysFile, 'utf8'));
const issuer = `http://127.0.0.1:${port}`;

// The console's accounts, by login name: claims as each kind of provider shapes them.
const accounts = {
  'kc-physician': { sub: 'kc-physician', realm_access: { roles: ['offline_access', 'physician'] }, groups: ['/niimi-clinic'] },
  'kc-nobody': { sub: 'kc-nobody', realm_access: { roles: ['offline_access'] }, groups: ['/niimi-clinic'] },
};

// The API clients' token claims (client credentials: no user, so the client's own).
const apiClaims = {
  'ehr-keycloak': { realm_access: { roles: ['physician'] }, groups: ['/niimi-clinic'] },
  'ehr-entra': { oid: 'entra-oid-1', tid: 'tenant-1', roles: ['Carepath.Nurse', 'Other.Role'] },
};
const resources = {
  'ehr-keycloak': { resource: 'urn:carepath:keycloak', audience: 'carepath', alg: 'RS256' },
  'ehr-entra': { resource: 'urn:carepath:entra', audience: 'carepath-entra', alg: 'ES256' },
};

const provider = new Provider(issuer, {
  jwks,
  clients: [
    {
      client_id: 'carepath-console',
      client_secret: 'console-secret-for-tests-only',
      redirect_uris: [`${carepath}/console/oidc/callback`],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_post',
      id_token_signed_response_alg: 'RS256',
    },
    ...Object.keys(apiClaims).map((client_id) => ({
      client_id,
      client_secret: `${client_id}-secret-for-tests-only`,
      redirect_uris: [],
      response_types: [],
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_post',
    })),
  ],
  pkce: { required: () => true },
  scopes: ['openid', 'carepath', 'api'],
  claims: { openid: ['sub'], carepath: ['realm_access', 'groups'] },
  conformIdTokenClaims: false,
  findAccount: async (ctx, id) => {
    const claims = accounts[id];
    if (!claims) return undefined;
    return { accountId: id, claims: async () => claims };
  },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (ctx, client) => resources[client.clientId]?.resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource, client) => {
        const r = Object.values(resources).find((x) => x.resource === resource) ?? resources[client.clientId];
        return { scope: 'api', audience: r.audience, accessTokenTTL: 600, accessTokenFormat: 'jwt', jwt: { sign: { alg: r.alg } } };
      },
    },
  },
  extraTokenClaims: (ctx, token) => (token.clientId && apiClaims[token.clientId]) || {},
  // The console asks only for openid + carepath; a consent is granted here without a page.
  loadExistingGrant: async (ctx) => {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid carepath');
    await grant.save();
    return grant;
  },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));
provider.listen(Number(port), '127.0.0.1', () => console.log(`oidc-provider on ${issuer}, keys ${jwks.keys.map((k) => k.kid).join(' ')}`));
