// A real OpenID Connect provider (the oidc-provider package) on loopback for carbonflow's SSO tests.
//
//   node provider.js PORT REDIRECT_URI [REDIRECT_URI ...]
//
// Issuer http://127.0.0.1:PORT, the clients and accounts of config.js, RS256 and ES256 signing keys made
// at start. Login and consent are two small HTML forms (below) that check the account's password, in place
// of the package's development interactions, which accept any login. Prints "ready <issuer>" when it listens.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

import { ACCOUNTS, CLIENTS } from './config.js';

const [port, ...redirectUris] = process.argv.slice(2);
if (!port || redirectUris.length === 0) {
  console.error('usage: node provider.js PORT REDIRECT_URI [REDIRECT_URI ...]');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

function signingKey(type, options, alg) {
  const { privateKey } = generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), alg, use: 'sig', kid: `test-${alg.toLowerCase()}` };
}

const provider = new Provider(issuer, {
  clients: CLIENTS.map((client) => ({
    grant_types: ['authorization_code'], response_types: ['code'], redirect_uris: redirectUris,
    token_endpoint_auth_method: 'client_secret_basic', ...client,
  })),
  jwks: { keys: [signingKey('rsa', { modulusLength: 2048 }, 'RS256'), signingKey('ec', { namedCurve: 'P-256' }, 'ES256')] },
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: account.email, email_verified: account.email_verified, name: account.name };
      },
    };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // put the requested claims into the ID token, as most providers do for the code flow
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['carbonflow-test-provider-cookie-key'] },
});

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head><body>`
    + `<h1>${escape(title)}</h1>${body}</body></html>`;
}

function loginForm(uid, message = '') {
  return page('Sign in to the test provider', `${message ? `<p class="error">${escape(message)}</p>` : ''}`
    + `<form method="post" action="/interaction/${escape(uid)}/login">`
    + '<input name="login" autocomplete="username"><input name="password" type="password">'
    + '<button type="submit">Sign in</button></form>');
}

function consentForm(uid, clientId) {
  return page(`Allow ${clientId}?`, `<form method="post" action="/interaction/${escape(uid)}/confirm">`
    + '<button type="submit">Allow</button></form>');
}

async function readForm(req) {
  let data = '';
  for await (const chunk of req) data += chunk;
  return new URLSearchParams(data);
}

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([\w-]+)(?:\/(login|confirm))?$/);
  if (!match) return next();
  const [, uid, action] = match;
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.uid !== uid) ctx.throw(400, 'interaction mismatch');
  ctx.set('Cache-Control', 'no-store');
  if (ctx.method === 'GET' && !action) {
    ctx.type = 'html';
    ctx.body = details.prompt.name === 'login' ? loginForm(uid) : consentForm(uid, details.params.client_id);
    return undefined;
  }
  if (ctx.method !== 'POST') ctx.throw(405, 'method not allowed');
  const form = await readForm(ctx.req);
  if (action === 'login') {
    const entry = Object.entries(ACCOUNTS).find(([, a]) => a.login === form.get('login'));
    if (!entry || entry[1].password !== form.get('password')) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = loginForm(uid, 'wrong login or password');
      return undefined;
    }
    return provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: entry[0] } },
      { mergeWithLastSubmission: false });
  }
  if (action === 'confirm' && details.prompt.name === 'consent') {
    const { prompt: { details: missing }, params, session } = details;
    const grant = details.grantId ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    return provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId: await grant.save() } },
      { mergeWithLastSubmission: true });
  }
  return ctx.throw(400, `nothing to do for ${action} at prompt ${details.prompt.name}`);
});

const server = createServer(provider.callback());
server.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
