// A real OpenID Connect provider for the single sign-on tests (the npm package oidc-provider, dev-only in
// package.json): authorization code flow with PKCE, signed ID tokens, a userinfo endpoint, published keys.
// Usage: node oidc_provider.mjs PORT CONFIG_JSON, CONFIG_JSON = {"client_id", "client_secret", "redirect_uris",
// "accounts": {"<login>": {claims}}}. The login page is reduced to what a test can drive without a browser:
// GET /interaction/<uid>?login=<login> signs that account in (an unknown login is refused); consent is granted
// for this one first-party client. Prints "ready <issuer>" once it listens.
import http from 'node:http';
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const config = JSON.parse(process.argv[3]);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: config.redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    // The role claim (e.g. groups) travels with the profile, as many providers send groups.
    profile: ['name', 'given_name', 'family_name', ...(config.role_claim ? [config.role_claim] : [])],
  },
  scopes: ['openid', 'email', 'profile', 'offline_access'],
  async findAccount(ctx, id) {
    const claims = config.accounts[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...claims }; } };
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: { devInteractions: { enabled: false } },
  // First-party client: consent is implied.
  async loadExistingGrant(ctx) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    grant.addOIDCClaims(['email', 'email_verified', 'name', 'given_name', 'family_name', config.role_claim].filter(Boolean));
    await grant.save();
    return grant;
  },
  cookies: { keys: ['isms-tests-only'] },
});
provider.proxy = false;

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, issuer);
  const match = url.pathname.match(/^\/interaction\/([^/]+)$/);
  if (!match) return callback(req, res);
  try {
    await provider.interactionDetails(req, res);
    const login = url.searchParams.get('login');
    if (!login) { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('login required'); return; }
    if (!config.accounts[login]) { res.writeHead(403, { 'content-type': 'text/plain' }); res.end('unknown login'); return; }
    await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(String(err));
  }
});
server.listen(port, '127.0.0.1', () => { console.log(`ready ${issuer}`); });
