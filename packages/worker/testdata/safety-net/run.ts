// Child process of the safety-net test: installs the net, lets the app misbehave, then (after
// `litecell-throw` in argv) throws from litecell's own code, which must end the process.
import { join } from 'node:path'
import pino from 'pino'
import { installSafetyNet } from '../../src/safety-net.js'
import { misbehave } from './app/app.js'

const net = installSafetyNet({
  log: () => pino(),
  onFatal: () => process.exit(70),
})
net.setAppPath(join(import.meta.dirname, 'app', 'app.ts'))
for (let i = 0; i < 3; i++) misbehave()
setTimeout(() => {
  process.stdout.write('{"survived":true}\n')
  if (process.argv.includes('litecell-throw')) {
    setTimeout(() => {
      throw new Error('broken invariant in litecell')
    }, 1)
  } else {
    process.exit(0)
  }
}, 100)
