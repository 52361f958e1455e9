#!/usr/bin/env node
// The installed `litecell` binary: the CLI is TypeScript, run through tsx's loader.
import { register } from 'tsx/esm/api'

register()
await import('../src/main.ts')
