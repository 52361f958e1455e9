import { z } from 'zod'
import { API_ROUTES, type ApiRoute, type QueryParam } from './api-routes.js'

/** A JSON object of the document. */
type Json = Record<string, unknown>

/** Every error response of the API has this body; `code` is stable, `message` is for people. */
const ERROR_SCHEMA: Json = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: {
          type: 'string',
          description: 'Stable SCREAMING_SNAKE code, e.g. `BAD_REQUEST`, `TENANT_NOT_FOUND`.',
        },
        message: {
          type: 'string',
          description: 'What went wrong: names the field and quotes the value for bad input.',
        },
      },
    },
  },
}

const CONTENT_TYPES = {
  json: 'application/json',
  text: 'text/plain',
  sqlite: 'application/vnd.sqlite3',
  'event-stream': 'text/event-stream',
  prometheus: 'text/plain',
} as const

/**
 * The API's OpenAPI 3.1 document, built from {@link API_ROUTES}: request bodies are the JSON
 * Schemas of the zod schemas the routes parse bodies with (`z.toJSONSchema`, draft 2020-12 as
 * OpenAPI 3.1 uses), so the document cannot drift from what is checked. Deterministic: the
 * committed `docs/openapi.json` is this document, and a test compares them.
 */
export function openApiDocument(): Json {
  const schemas: Json = { Error: ERROR_SCHEMA }
  const paths: Record<string, Json> = {}
  for (const route of API_ROUTES) {
    if (route.body) schemas[route.body.name] = jsonSchemaOf(route.body.schema)
    paths[route.path] = { ...paths[route.path], [route.method]: operation(route) }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'litecell API',
      version: '1',
      description:
        'Durable execution with one SQLite file per tenant. Errors are `{error: {code, message}}`; 429 and 503 answers carry `Retry-After`. Bodies over 1 MiB are refused with 413.',
    },
    servers: [{ url: 'http://127.0.0.1:8787' }],
    tags: [
      { name: 'tenants' },
      { name: 'runs' },
      { name: 'schedules' },
      { name: 'data' },
      { name: 'operations' },
    ],
    components: {
      schemas,
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'The admin token (`lca_…`).' },
        tenantToken: {
          type: 'http',
          scheme: 'bearer',
          description: "A tenant's token (`lct_…`): its own tenant's routes only.",
        },
      },
    },
    paths,
  }
}

function operation(route: ApiRoute): Json {
  const parameters = [
    ...[...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
      name,
      in: 'path',
      required: true,
      schema: name === 'seq' ? { type: 'integer', minimum: 1 } : { type: 'string' },
    })),
    ...(route.query ?? []).map(queryParameter),
  ]
  const content = route.success.content ?? 'json'
  const responses: Json = {
    [route.success.status]: {
      description: route.success.description,
      content: {
        [CONTENT_TYPES[content]]: {
          schema: content === 'json' ? { type: 'object' } : { type: 'string' },
        },
      },
    },
    default: {
      description:
        'An error: 400 bad input, 401/403 token, 404 not found, 409 conflict, 413 body too large, 429/503 retry after `Retry-After`.',
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    },
  }
  return {
    operationId: operationId(route),
    summary: route.summary,
    tags: [route.tag],
    ...(route.auth === 'none'
      ? { security: [] }
      : {
          security:
            route.auth === 'admin'
              ? [{ adminToken: [] }]
              : [{ adminToken: [] }, { tenantToken: [] }],
        }),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            // A missing body reads as `{}` (readJsonObject): required only if `{}` is refused.
            required: !route.body.schema.safeParse({}).success,
            content: {
              'application/json': { schema: { $ref: `#/components/schemas/${route.body.name}` } },
            },
          },
        }
      : {}),
    responses,
  }
}

function queryParameter(param: QueryParam): Json {
  return {
    name: param.name,
    in: 'query',
    required: false,
    description: param.description,
    schema: { type: param.type, ...(param.enum ? { enum: param.enum } : {}) },
  }
}

/** `getTenantsIdRunsRunIdResult`-style ids would be unreadable: method plus the path's words. */
function operationId(route: ApiRoute): string {
  const words = route.path
    .split('/')
    .filter((part) => part !== '' && part !== 'v1')
    .map((part) => part.replace(/[{}]/g, '').replace(/\.json$/, ''))
    .map((part) => part.replace(/[^A-Za-z0-9]+(.)/g, (_, c: string) => c.toUpperCase()))
  return [route.method, ...words]
    .map((word, index) => (index === 0 ? word : word[0]!.toUpperCase() + word.slice(1)))
    .join('')
}

function jsonSchemaOf(schema: z.ZodType): Json {
  const { $schema: _, ...json } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  }) as Json
  return json
}
