import { createInterface } from 'node:readline/promises'
import { usageError } from './cli-error.js'

/**
 * Asks the person at the terminal to type `expected` to go ahead (like GitHub's "type the
 * repository name"). Without a terminal on stdin there is no one to ask: that is a usage
 * error telling the caller to pass `flag`, so a script never hangs or deletes by accident.
 */
export async function confirmByTyping(
  question: string,
  expected: string,
  flag: string,
): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw usageError(
      `${question.replace(/[?.]\s*$/, '')}: refusing without ${flag} (stdin is not a terminal)`,
    )
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr })
  try {
    const answer = await prompt.question(`${question} Type ${expected} to confirm: `)
    return answer.trim() === expected
  } finally {
    prompt.close()
  }
}
