/**
 * The flow app with a short retention (`succeeded` runs are deleted 2 s after they ended), for
 * `test/retention-keeps-file-bounded.test.ts`. Registered as `retention`.
 */
import { migrations, workflows } from './flow-app.js'

export default {
  migrations,
  workflows,
  retention: { succeeded: '2s' },
}
