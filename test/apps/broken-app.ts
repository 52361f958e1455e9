/**
 * An app whose migration fails on every start: its worker exits before it is ready, each time.
 * That is the tenant's own crash loop (no run to blame and quarantine), which the control plane
 * backs off and ends by marking the tenant `failed`.
 */
export default {
  migrations: ['CREATE TABLE broken (id INTEGER PRIMARY KEY', 'SELECT 1'],
  workflows: {
    quick: async () => 1,
  },
}
