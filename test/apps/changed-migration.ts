/**
 * The test app with its first migration edited after tenants applied it (a column added in
 * place instead of in a new migration): a tenant of the test app must refuse to wake with it.
 */
import testApp from './test-app.js'

export default {
  ...testApp,
  migrations: ['CREATE TABLE ledger (run_id TEXT NOT NULL, entry TEXT NOT NULL, amount REAL)'],
}
