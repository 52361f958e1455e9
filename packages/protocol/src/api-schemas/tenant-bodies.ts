import { z } from 'zod'
import { DURABILITIES } from '../durability.js'
import { TENANT_ID_PATTERN } from '../tenant-id.js'
import { codedExpectation, text } from './body-parser.js'

/** Most labels a tenant may carry. */
export const MAX_LABELS = 32
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/

const TENANT_ID = codedExpectation(
  'INVALID_TENANT_ID',
  'a tenant id of lowercase letters, digits and dashes (1–63, not starting with a dash)',
)

/** A tenant id in a body (`INVALID_TENANT_ID` otherwise, as in a path). */
export const TenantIdSchema = z
  .string({ error: TENANT_ID })
  .regex(TENANT_ID_PATTERN, { error: TENANT_ID })
  .meta({
    description:
      'Lowercase letters, digits and dashes; a folder name, an S3 key segment and a pod name.',
  })

/** Labels: a flat object of short strings, at most {@link MAX_LABELS}. */
export const LabelsSchema = z
  .record(
    z
      .string()
      .regex(LABEL_KEY, { error: 'a label key of letters, digits, `.`, `_`, `/`, `-` (1–63)' }),
    z
      .string({ error: 'a string of at most 256 characters' })
      .max(256, { error: 'a string of at most 256 characters' }),
    { error: `an object of at most ${MAX_LABELS} string labels` },
  )
  .refine((labels) => Object.keys(labels).length <= MAX_LABELS, {
    error: `an object of at most ${MAX_LABELS} string labels`,
  })

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T/

/** An ISO-8601 time (`2026-11-23T09:00:00Z`), or null for "now". */
export const OptionalTimeSchema = z
  .string({ error: 'an ISO-8601 time' })
  .refine((value) => ISO_TIME.test(value) && !Number.isNaN(new Date(value).getTime()), {
    error: 'an ISO-8601 time',
  })
  .meta({ format: 'date-time' })
  .nullish()

/** When acknowledgements leave litecell: `local` (committed on the worker's disk) or `replicated` (in S3). */
export const DurabilitySchema = z
  .enum(DURABILITIES as ['local', 'replicated'], { error: `one of ${DURABILITIES.join(', ')}` })
  .optional()
  .meta({
    description:
      'local: acknowledged once committed on disk; replicated: once the commit is in S3.',
  })

/** `PATCH /v1/tenants/:id` (admin): what is given changes. */
export const UpdateTenantBody = z.object({
  labels: LabelsSchema.optional(),
  durability: DurabilitySchema,
})

/** `POST /v1/tenants`. */
export const CreateTenantBody = z.object({
  durability: DurabilitySchema,
  id: TenantIdSchema.optional().meta({ description: 'The new tenant id; generated if absent.' }),
  app: text(63).optional().meta({ description: 'A configured app name; `default` if absent.' }),
  labels: LabelsSchema.optional(),
})

/** `POST /v1/tenants/:id/fork`. */
export const ForkTenantBody = z.object({
  id: TenantIdSchema.meta({ description: 'The new tenant id.' }),
  at: OptionalTimeSchema.meta({
    description: 'A restore point (ISO-8601); the latest state if absent.',
  }),
})

/** `POST /v1/tenants/:id/upgrade`. */
export const UpgradeTenantBody = z.object({
  app: text(63)
    .optional()
    .meta({ description: 'The app to switch to; the same app (new code) if absent.' }),
})
