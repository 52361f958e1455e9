import { useState } from 'preact/hooks'
import { tenantPath } from '../api.js'
import type { TenantView } from '../api-types.js'
import { replaceHash, tenantsHref } from '../route.js'
import { useSession } from '../session-context.js'
import { ConfirmDialog } from './confirm-dialog.js'
import { ErrorNote } from './error-note.js'
import { ForkDialog } from './fork-dialog.js'

type Dialog = 'hibernate' | 'delete' | 'fork' | null

/**
 * What can be done to a tenant: wake, hibernate, fork, download a snapshot, delete. Those that
 * interrupt or destroy ask first; the admin-only ones are hidden from a tenant token.
 */
export function TenantActions(props: { tenant: TenantView; onChanged: () => void; isCompact?: boolean }) {
  const { api, isAdmin } = useSession()
  const { tenant } = props
  const [dialog, setDialog] = useState<Dialog>(null)
  const [busy, setBusy] = useState<string | null>(null)
  const [error, setError] = useState<Error | undefined>()
  const act = async (label: string, action: () => Promise<unknown>) => {
    setBusy(label)
    setError(undefined)
    try {
      await action()
      props.onChanged()
    } catch (err) {
      setError(err as Error)
    } finally {
      setBusy(null)
    }
  }
  const canHibernate = tenant.state === 'active' || tenant.state === 'starting'
  const canWake = tenant.state === 'hibernated' || tenant.state === 'failed'
  const download = () =>
    act('snapshot', async () => {
      const response = await api.fetch('GET', tenantPath(tenant.id, '/snapshot'), { accept: 'application/vnd.sqlite3' })
      const url = URL.createObjectURL(await response.blob())
      const link = document.createElement('a')
      link.href = url
      link.download = `${tenant.id}.db`
      link.click()
      setTimeout(() => URL.revokeObjectURL(url), 10_000)
    })
  const size = props.isCompact ? 'button button-small' : 'button'
  return (
    <div class="actions">
      {isAdmin && canWake && (
        <button type="button" class={size} disabled={busy !== null} onClick={() => act('wake', () => api.post(tenantPath(tenant.id, '/wake')))}>
          {busy === 'wake' ? 'Waking…' : 'Wake'}
        </button>
      )}
      {isAdmin && canHibernate && (
        <button type="button" class={size} disabled={busy !== null} onClick={() => setDialog('hibernate')}>
          {busy === 'hibernate' ? 'Hibernating…' : 'Hibernate'}
        </button>
      )}
      {!props.isCompact && isAdmin && (
        <button type="button" class={size} onClick={() => setDialog('fork')}>
          Fork…
        </button>
      )}
      {!props.isCompact && (
        <button type="button" class={size} disabled={busy !== null} onClick={download}>
          {busy === 'snapshot' ? 'Preparing…' : 'Download snapshot'}
        </button>
      )}
      {!props.isCompact && isAdmin && (
        <button type="button" class={`${size} button-danger-outline`} onClick={() => setDialog('delete')}>
          Delete…
        </button>
      )}
      <ErrorNote error={error} class="inline" />
      {dialog === 'hibernate' && (
        <ConfirmDialog
          title={`Hibernate ${tenant.id}?`}
          confirmLabel="Hibernate"
          onClose={() => setDialog(null)}
          onConfirm={() => act('hibernate', () => api.post(tenantPath(tenant.id, '/hibernate')))}
        >
          The worker stops; runs in flight pause at their next durable point and resume on the next wake. The file is verified in
          S3 before local copies are removed.
        </ConfirmDialog>
      )}
      {dialog === 'delete' && (
        <ConfirmDialog
          title={`Delete ${tenant.id}?`}
          confirmLabel="Delete tenant"
          isDanger
          typeToConfirm={tenant.id}
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            await api.delete(tenantPath(tenant.id))
            replaceHash(tenantsHref())
            props.onChanged()
          }}
        >
          This stops its worker and deletes its database and every replica in S3. Runs, data and restore points are gone for good.
        </ConfirmDialog>
      )}
      {dialog === 'fork' && <ForkDialog tenantId={tenant.id} onClose={() => setDialog(null)} onForked={props.onChanged} />}
    </div>
  )
}
