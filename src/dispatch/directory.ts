// Technicians and providers as Faultline keeps them: the zod schemas of what the API takes and shows, checked
// against the catalog (skills name its categories and components). 003: 工程师信息维护 (location, skills).
import { z } from 'zod'
import { isoDate, storableText } from '../store/index.js'
import { isValidTimeZone } from './hours.js'
import type { SkillCatalog } from './skills.js'

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits and "._-", at most 64')
const name = storableText.trim().min(1).max(200)
const slug = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, "_" and "-", at most 64')
/** a region a technician covers, or "*" for anywhere (a national provider) */
const region = z.union([slug, z.literal('*')])
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 00:00 to 23:59')

export const skillSchema = z.strictObject({
  category: slug,
  /** absent: the whole category */
  component: slug.optional(),
  /** 1 trainee … 5 expert */
  level: z.number().int().min(1).max(5),
})

export const workingHoursSchema = z
  .strictObject({
    timeZone: z.string().refine(isValidTimeZone, 'expected an IANA time zone such as UTC or Asia/Shanghai'),
    days: z.array(z.number().int().min(1).max(7)).min(1).max(7),
    from: hhmm,
    to: hhmm,
  })
  .refine((h) => h.from < h.to, { path: ['to'], message: 'the shift must end after it starts, on the same day' })

export const leaveSchema = z.strictObject({ from: isoDate, to: isoDate }).refine((l) => l.from <= l.to, { path: ['to'], message: 'must not be before from' })

const technicianFields = {
  name,
  /** the maker's own team (internal staff) */
  team: storableText.trim().min(1).max(100).optional(),
  /** or the external provider they work for */
  providerId: id.optional(),
  skills: z.array(skillSchema).min(1).max(100),
  regions: z.array(region).min(1).max(100),
  home: z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }).optional(),
  /** open tickets at once */
  capacity: z.number().int().min(0).max(10_000),
  hours: workingHoursSchema,
  leave: z.array(leaveSchema).max(100).default([]),
  onLeave: z.boolean().default(false),
}

/** Skills must name the catalog's categories and components; a technician is internal or a provider's, not both. */
const checked =
  (catalogSkills: () => SkillCatalog) => (t: { skills?: z.infer<typeof skillSchema>[]; team?: string; providerId?: string }, ctx: z.RefinementCtx) => {
    const skills = catalogSkills()
    t.skills?.forEach((s, i) => {
      const components = skills.get(s.category)
      if (!components)
        ctx.addIssue({
          code: 'custom',
          path: ['skills', i, 'category'],
          message: `no product category "${s.category}" in the catalog (${[...skills.keys()].join(', ')})`,
        })
      else if (s.component !== undefined && !components.has(s.component)) {
        ctx.addIssue({
          code: 'custom',
          path: ['skills', i, 'component'],
          message: `no component "${s.component}" in category ${s.category} (${[...components].join(', ')})`,
        })
      }
    })
  }

export const newTechnician = (skills: () => SkillCatalog) =>
  z
    .strictObject({ id, ...technicianFields })
    .superRefine(checked(skills))
    .refine((t) => (t.team === undefined) !== (t.providerId === undefined), { path: ['team'], message: 'exactly one of team (internal staff) or providerId' })

/** An update names only what changes; team and provider are fixed at creation. */
export const technicianChange = (skills: () => SkillCatalog) =>
  z
    .strictObject(technicianFields)
    .pick({ name: true, skills: true, regions: true, capacity: true, hours: true })
    .partial()
    .extend({
      home: technicianFields.home.nullable().optional(),
      // without the creation defaults: an update that leaves them out changes nothing
      leave: z.array(leaveSchema).max(100).optional(),
      onLeave: z.boolean().optional(),
      active: z.boolean().optional(),
    })
    .superRefine(checked(skills))

export type NewTechnician = z.output<ReturnType<typeof newTechnician>>
export type TechnicianChange = z.output<ReturnType<typeof technicianChange>>

export const technicianSchema = z.object({
  id: z.string(),
  name: z.string(),
  team: z.string().nullable(),
  providerId: z.string().nullable(),
  skills: z.array(skillSchema),
  regions: z.array(z.string()),
  home: z.object({ lat: z.number(), lon: z.number() }).nullable(),
  capacity: z.number(),
  hours: z.object({ timeZone: z.string(), days: z.array(z.number()), from: z.string(), to: z.string() }),
  leave: z.array(z.object({ from: z.string(), to: z.string() })),
  onLeave: z.boolean(),
  active: z.boolean(),
  openTickets: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
})
export type Technician = z.infer<typeof technicianSchema>

const providerFields = {
  name,
  /** the catalog's product categories it is certified for */
  certifiedCategories: z.array(slug).min(1).max(100),
  qualifiedUntil: isoDate,
  hourlyRate: z.number().nonnegative().max(1e6),
  callOutFee: z.number().nonnegative().max(1e6),
}

const certified = (skills: () => SkillCatalog) => (p: { certifiedCategories?: string[] }, ctx: z.RefinementCtx) =>
  p.certifiedCategories?.forEach((c, i) => {
    if (!skills().has(c)) ctx.addIssue({ code: 'custom', path: ['certifiedCategories', i], message: `no product category "${c}" in the catalog` })
  })

export const newProvider = (skills: () => SkillCatalog) => z.strictObject({ id, ...providerFields }).superRefine(certified(skills))
export const providerChange = (skills: () => SkillCatalog) =>
  z.strictObject(providerFields).partial().extend({ active: z.boolean().optional() }).superRefine(certified(skills))
export type NewProvider = z.output<ReturnType<typeof newProvider>>
export type ProviderChange = z.output<ReturnType<typeof providerChange>>

export const providerSchema = z.object({
  id: z.string(),
  name: z.string(),
  certifiedCategories: z.array(z.string()),
  qualifiedUntil: z.string(),
  hourlyRate: z.number(),
  callOutFee: z.number(),
  active: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
})
export type Provider = z.infer<typeof providerSchema>

export const technicianIdSchema = id
