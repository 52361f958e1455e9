import { useEffect, useMemo, useState } from 'preact/hooks'
import { Api } from './api.js'
import type { Caller } from './api-types.js'
import { RunPage } from './pages/run-page.js'
import { SignInPage } from './pages/sign-in-page.js'
import { TenantPage } from './pages/tenant-page.js'
import { TenantsPage } from './pages/tenants-page.js'
import { replaceHash, tenantHref, tenantsHref, useRoute } from './route.js'
import { SessionContext, type Session } from './session-context.js'
import { forgetToken, storedToken, storeToken } from './session.js'

/**
 * The dashboard: sign in with a token (kept in sessionStorage), then the tenant list (admin)
 * or the token's own tenant, its runs, a run, and the data console.
 */
export function App() {
  const [signedIn, setSignedIn] = useState<{ token: string; caller: Caller } | null>(null)
  const [isRestoring, setRestoring] = useState(() => storedToken() !== null)
  const route = useRoute()

  useEffect(() => {
    const token = storedToken()
    if (!token) return
    new Api(token).whoami().then(
      (caller) => {
        setSignedIn({ token, caller })
        setRestoring(false)
      },
      () => {
        forgetToken()
        setRestoring(false)
      },
    )
  }, [])

  const session = useMemo<Session | null>(() => {
    if (!signedIn) return null
    return {
      api: new Api(signedIn.token),
      caller: signedIn.caller,
      isAdmin: signedIn.caller.kind === 'admin',
      signOut: () => {
        forgetToken()
        setSignedIn(null)
        replaceHash(tenantsHref())
      },
    }
  }, [signedIn])

  // A tenant token has one tenant: its list page is that tenant's page.
  const ownTenant = session?.caller.kind === 'tenant' ? session.caller.tenantId : null
  useEffect(() => {
    if (ownTenant && (route.page === 'tenants' || route.tenantId !== ownTenant)) replaceHash(tenantHref(ownTenant))
  }, [ownTenant, route])

  if (isRestoring) return <div class="splash">Signing in…</div>
  if (!session) {
    return (
      <SignInPage
        onSignedIn={(token, caller) => {
          storeToken(token)
          setSignedIn({ token, caller })
        }}
      />
    )
  }
  return (
    <SessionContext.Provider value={session}>
      <TopBar session={session} />
      <main class="page">
        {route.page === 'tenants' && session.isAdmin && <TenantsPage query={route.query} />}
        {route.page === 'tenant' && <TenantPage key={route.tenantId} tenantId={route.tenantId} tab={route.tab} query={route.query} />}
        {route.page === 'run' && <RunPage key={`${route.tenantId}/${route.runId}`} tenantId={route.tenantId} runId={route.runId} />}
      </main>
    </SessionContext.Provider>
  )
}

function TopBar(props: { session: Session }) {
  const { caller } = props.session
  return (
    <header class="topbar">
      <a class="brand" href={caller.kind === 'admin' ? tenantsHref() : tenantHref(caller.tenantId)}>
        <span class="brand-mark" aria-hidden="true" />
        litecell
      </a>
      <nav class="topnav">
        {caller.kind === 'admin' && <a href={tenantsHref()}>Tenants</a>}
      </nav>
      <div class="topbar-right">
        <span class="who" data-testid="who">
          {caller.kind === 'admin' ? 'admin' : `tenant ${caller.tenantId}`}
        </span>
        <button type="button" class="button button-small button-ghost" onClick={props.session.signOut}>
          Sign out
        </button>
      </div>
    </header>
  )
}
