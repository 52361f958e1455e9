import { useEffect, useMemo, useState } from 'preact/hooks'
import { tenantPath } from '../api.js'
import type { QueryResult } from '../api-types.js'
import { chartData, defaultAxes, numericColumns, type ChartAxes } from '../chart-series.js'
import { ErrorNote } from '../components/error-note.js'
import { QueryChart } from '../components/query-chart.js'
import { formatCell, formatCount, formatDuration } from '../format.js'
import { replaceHash, tenantHref } from '../route.js'
import { useSession } from '../session-context.js'
import { useLoad } from '../use-load.js'

// Litestream's and litecell's bookkeeping tables (`_litestream_*`, `_litecell_*`) and SQLite's own are left out.
const TABLES_SQL =
  "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_litestream\\_%' ESCAPE '\\' AND name NOT LIKE '\\_litecell\\_%' ESCAPE '\\' ORDER BY name LIKE 'lc\\_%' ESCAPE '\\', name"
const DEFAULT_SQL = "SELECT name, type, sql FROM sqlite_schema WHERE name NOT LIKE 'lc\\_%' ESCAPE '\\' AND name NOT LIKE '\\_litestream\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"

/**
 * The tenant's database, read-only: its tables, a SQL console (`POST /query`, results as a
 * table, the API's row cap shown) and a chart of any numeric column against another, one line
 * per value of a third. The SQL is kept in the URL, so a chart can be shared as a link.
 */
export function DataPanel(props: { tenantId: string; query: URLSearchParams; onLoaded?: () => void }) {
  const { api } = useSession()
  const sql = props.query.get('sql') ?? DEFAULT_SQL
  const [draft, setDraft] = useState(sql)
  const [generation, setGeneration] = useState(0)
  const tables = useLoad(
    (signal) => api.request<QueryResult>('POST', tenantPath(props.tenantId, '/query'), { body: { sql: TABLES_SQL }, signal }),
    [props.tenantId],
  )
  const result = useLoad(
    (signal) => {
      const started = performance.now()
      return api
        .request<QueryResult>('POST', tenantPath(props.tenantId, '/query'), { body: { sql }, signal })
        .then((answer) => ({ ...answer, ms: performance.now() - started }))
    },
    [props.tenantId, sql, generation],
  )
  useEffect(() => {
    if (!result.isLoading) props.onLoaded?.()
  }, [result.isLoading])
  const run = (text: string) => {
    setDraft(text)
    if (text === sql) setGeneration((n) => n + 1)
    else replaceHash(tenantHref(props.tenantId, 'data', { sql: text }))
  }
  return (
    <div class="data-layout">
      <aside class="card tables-list">
        <h3>Tables</h3>
        <ErrorNote error={tables.error} />
        <ul>
          {tables.data?.rows.map((row) => {
            const name = String(row.name)
            return (
              <li key={name}>
                <button type="button" class={name.startsWith('lc_') ? 'link muted' : 'link'} onClick={() => run(`SELECT * FROM "${name.replaceAll('"', '""')}" LIMIT 100`)}>
                  {name}
                </button>
              </li>
            )
          })}
        </ul>
      </aside>
      <div class="stack">
        <section class="card">
          <form
            class="console"
            onSubmit={(event) => {
              event.preventDefault()
              run(draft)
            }}
          >
            <textarea
              class="mono sql"
              name="sql"
              aria-label="SQL"
              rows={4}
              spellcheck={false}
              value={draft}
              onInput={(e) => setDraft(e.currentTarget.value)}
              onKeyDown={(event) => {
                if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
                  event.preventDefault()
                  run(draft)
                }
              }}
            />
            <div class="console-bar">
              <span class="muted small">Read-only. Ctrl+Enter runs.</span>
              <button type="submit" class="button button-primary">
                Run query
              </button>
            </div>
          </form>
          <ErrorNote error={result.error} />
        </section>
        {result.data && !result.error && <ChartCard result={result.data} />}
        {result.data && (
          <section class="card">
            <ResultTable result={result.data} ms={result.data.ms} />
          </section>
        )}
      </div>
    </div>
  )
}

function ResultTable(props: { result: QueryResult; ms: number }) {
  const { result } = props
  const numeric = new Set(numericColumns(result))
  const cap = result.maxRows ?? (result.truncated ? result.rows.length : undefined)
  return (
    <div>
      <div class="result-meta" data-testid="result-meta">
        <h2>Result</h2>
        <span>
          {formatCount(result.rows.length)} {result.rows.length === 1 ? 'row' : 'rows'} · {formatDuration(props.ms)}
        </span>
        {result.truncated ? (
          <span class="warning">Cut at the API's row cap of {formatCount(cap)} rows: add a WHERE or LIMIT to see the rest.</span>
        ) : (
          cap !== undefined && <span class="muted">The API returns at most {formatCount(cap)} rows.</span>
        )}
      </div>
      <div class="table-wrap result-table">
        <table class="table table-dense" data-testid="result-table">
          <thead>
            <tr>
              {result.columns.map((column) => (
                <th key={column} class={numeric.has(column) ? 'num' : ''}>
                  {column}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {result.rows.map((row, index) => (
              <tr key={index}>
                {result.columns.map((column) => {
                  const value = row[column]
                  return (
                    <td key={column} class={value === null ? 'null' : numeric.has(column) ? 'num mono' : 'mono'}>
                      {formatCell(value)}
                    </td>
                  )
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  )
}

function ChartCard(props: { result: QueryResult }) {
  const numeric = numericColumns(props.result)
  const suggested = useMemo(() => defaultAxes(props.result), [props.result])
  const [choice, setChoice] = useState<ChartAxes | null>(null)
  const axes = choice && props.result.columns.includes(choice.x) && props.result.columns.includes(choice.y) ? choice : suggested
  const data = useMemo(() => (axes ? chartData(props.result.rows, axes) : null), [props.result, axes])
  if (!axes || !data) {
    return (
      <section class="card muted small">
        Charts plot one numeric column against another: this result has {numeric.length === 1 ? 'one numeric column' : 'no numeric columns'}.
      </section>
    )
  }
  const set = (next: Partial<ChartAxes>) => setChoice({ ...axes, ...next })
  return (
    <section class="card">
      <header class="card-header">
        <h2>Chart</h2>
        <div class="toolbar">
          <label class="inline-field">
            x
            <select name="chart-x" value={axes.x} onChange={(e) => set({ x: e.currentTarget.value })}>
              {numeric.map((column) => (
                <option key={column}>{column}</option>
              ))}
            </select>
          </label>
          <label class="inline-field">
            y
            <select name="chart-y" value={axes.y} onChange={(e) => set({ y: e.currentTarget.value })}>
              {numeric.map((column) => (
                <option key={column}>{column}</option>
              ))}
            </select>
          </label>
          <label class="inline-field">
            one line per
            <select name="chart-group" value={axes.group ?? ''} onChange={(e) => set({ group: e.currentTarget.value || null })}>
              <option value="">(single line)</option>
              {props.result.columns
                .filter((column) => column !== axes.x && column !== axes.y)
                .map((column) => (
                  <option key={column}>{column}</option>
                ))}
            </select>
          </label>
        </div>
      </header>
      {data.omittedGroups > 0 && <p class="warning small">{data.omittedGroups} more groups not drawn.</p>}
      <QueryChart data={data} axes={axes} />
    </section>
  )
}
