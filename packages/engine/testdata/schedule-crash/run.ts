// Child process of the schedule crash test: opens the engine on <db> with a schedule that
// fires every second (overlap allow, catch-up all), prints `open` once it is open, and runs
// until it is killed. The test SIGKILLs it at random moments, reopens, and counts the runs.
import { Engine } from '../../src/index.js'
import app from './app.js'

const [path] = process.argv.slice(2)
if (path === undefined) throw new Error('usage: run.ts <db>')
await Engine.open({ path, app })
process.stdout.write('open\n')
await new Promise(() => undefined)
