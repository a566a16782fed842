// The static test clients and accounts of the test provider (tests/api/test_sso.py knows them too).
export const CLIENTS = [
  // carbonflow's own client; ID tokens signed RS256
  { client_id: 'carbonflow-test', client_secret: 'carbonflow-test-secret-7f3a9c' },
  // the same RP with ES256 ID tokens
  { client_id: 'carbonflow-es256', client_secret: 'carbonflow-es256-secret-51d2e8', id_token_signed_response_alg: 'ES256' },
  // another application at the same provider: its ID tokens must not open a carbonflow session
  { client_id: 'other-app', client_secret: 'other-app-secret-0b44c1' },
];

// accountId -> password and claims; the id is the subject ('sub') of the account's ID tokens
export const ACCOUNTS = {
  'alice-0001': { login: 'alice', password: 'alice-pass-2026', email: 'alice@plant.example', email_verified: true, name: 'Alice Operator' },
  'bob-0002': { login: 'bob', password: 'bob-pass-2026', email: 'bob@plant.example', email_verified: true, name: 'Bob Engineer' },
  'eve-0003': { login: 'eve', password: 'eve-pass-2026', email: 'eve@elsewhere.example', email_verified: false, name: 'Eve Unverified' },
  'mallory-0004': { login: 'mallory', password: 'mallory-pass-2026', email: 'mallory@elsewhere.example', email_verified: true, name: 'Mallory Unlinked' },
};
