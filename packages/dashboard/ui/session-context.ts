import { createContext } from 'preact'
import { useContext } from 'preact/hooks'
import type { Api } from './api.js'
import type { Caller } from './api-types.js'

/** The signed-in session: the API client with its token, and who the token belongs to. */
export interface Session {
  readonly api: Api
  readonly caller: Caller
  readonly isAdmin: boolean
  readonly signOut: () => void
}

export const SessionContext = createContext<Session | null>(null)

export function useSession(): Session {
  const session = useContext(SessionContext)
  if (!session) throw new Error('useSession outside a signed-in page')
  return session
}
