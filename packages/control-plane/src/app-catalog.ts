import { isAbsolute } from 'node:path'
import { describeValue } from '@litecell/protocol'
import { ControlPlaneError } from './control-plane-error.js'

/** The app a tenant gets when it names none. */
export const DEFAULT_APP_NAME = 'default'

/**
 * The apps workers may load, by name. Clients name an app; they never send a path, so
 * nothing a client sends becomes a module path.
 */
export class AppCatalog {
  readonly #paths: ReadonlyMap<string, string>

  constructor(paths: Record<string, string>) {
    for (const [name, path] of Object.entries(paths)) {
      if (!isAbsolute(path)) throw new TypeError(`Expected app \`${name}\` to have an absolute path, got \`${path}\``)
    }
    if (!(DEFAULT_APP_NAME in paths)) throw new TypeError(`Expected an app named \`${DEFAULT_APP_NAME}\``)
    this.#paths = new Map(Object.entries(paths))
  }

  /** The module path of app `name` (`UNKNOWN_APP`, a 400, if there is none). */
  pathOf(name: string): string {
    const path = this.#paths.get(name)
    if (path === undefined) throw new ControlPlaneError('UNKNOWN_APP', `no app named ${describeValue(name)}; known: ${this.names().join(', ')}`)
    return path
  }

  names(): string[] {
    return [...this.#paths.keys()]
  }
}
