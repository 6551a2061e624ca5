// A certified OpenID Provider (panva/oidc-provider) for the campus SSO tests, on loopback only.
//
//   node tests/oidc/provider.mjs <port>
//
// Prints "ready <issuer>" once it listens. Everything is in memory and made at start-up (signing
// key, sessions, codes), so every run is a fresh provider. Started by tests/oidc_support.py.
//
// Login is a tiny form instead of oidc-provider's development pages: POST /interaction/<uid>
// with account=<name> logs that test account in (no password: the accounts are fixtures).
// Consent is granted at once for the registered clients (loadExistingGrant).
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 0);
const issuer = `http://127.0.0.1:${port}`;
const CAMPUS = 'https://campus.test';
// Provider slugs the campus tests configure (the redirect URI names the provider).
const SLUGS = ['oidc', 'oidc-domain', 'oidc-short', 'oidc-proxy', 'oidc-roles'];

const ACCOUNTS = {
  alice: { email: 'alice@example.org', email_verified: true, name: 'Alice Opettaja', school: 'north', roles: ['teacher'] },
  bob: { email: 'bob@example.org', email_verified: false, name: 'Bob Oppija', school: 'south', roles: [] },
  carol: { email: 'carol@elsewhere.test', email_verified: true, name: 'Carol Muualta', school: 'north', roles: [] },
  dave: { email: 'dave@example.org', email_verified: true, name: 'Dave Existing', school: 'north', roles: [] },
  erin: { email: 'erin@example.org', email_verified: true, name: 'Erin Rehtori', school: 'north', roles: ['principal', 'teacher'] },
};

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key-1', use: 'sig', alg: 'RS256' };

const campusClient = (clientId, secret) => ({
  client_id: clientId,
  client_secret: secret,
  redirect_uris: SLUGS.map((slug) => `${CAMPUS}/auth/sso/${slug}/callback`),
  post_logout_redirect_uris: [`${CAMPUS}/auth/sso/logged-out`],
  token_endpoint_auth_method: 'client_secret_basic',
});

const configuration = {
  clients: [
    campusClient('campus', 'campus-client-secret'),
    // Same campus, but its ID tokens live one second (the expiry test).
    campusClient('campus-short', 'campus-short-secret'),
    // Another relying party: its ID tokens are for another audience.
    {
      client_id: 'other-app',
      client_secret: 'other-app-secret',
      redirect_uris: ['https://other.test/callback'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: ['campus-test-provider-cookie-key'] },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'campus'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    campus: ['school', 'roles'],
  },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
  },
  ttl: {
    IdToken: (ctx, token, client) => (client.clientId === 'campus-short' ? 1 : 600),
    AccessToken: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  async findAccount(ctx, sub) {
    const account = ACCOUNTS[sub];
    if (!account) return undefined;
    return { accountId: sub, async claims() { return { sub, ...account }; } };
  },
  async loadExistingGrant(ctx) {
    const existing = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (existing) return ctx.oidc.provider.Grant.find(existing);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile campus');
    await grant.save();
    return grant;
  },
};

const provider = new Provider(issuer, configuration);
const handle = provider.callback();

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    const options = Object.keys(ACCOUNTS).map((name) => `<option>${name}</option>`).join('');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<!DOCTYPE html><title>Test login</title><form method="post">
      <label>Account <select name="account">${options}</select></label>
      <button>Log in</button></form>`);
    return;
  }
  const form = await readForm(req);
  const account = form.get('account');
  if (details.prompt.name !== 'login' || !ACCOUNTS[account]) {
    await provider.interactionFinished(req, res, { error: 'access_denied' });
    return;
  }
  await provider.interactionFinished(req, res, { login: { accountId: account } },
    { mergeWithLastSubmission: false });
}

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((error) => {
      res.statusCode = 400;
      res.end(String(error));
    });
    return;
  }
  handle(req, res);
});

server.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
