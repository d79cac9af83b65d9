// The product catalog: the shipped demo models load, and every mistake is reported with its file and place.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CatalogError, formatDuration, loadCatalog, parseCatalog, parseDuration } from '../src/catalog/index.js'

const demoDir = join(import.meta.dirname, '..', 'config', 'catalog')

/** A valid model to break one thing at a time. */
const model = (overrides: Record<string, unknown> = {}) => ({
  model: 'T-1',
  name: 'Test unit',
  category: 'refrigerator',
  warranty: { months: 12, labourRate: 80, callOutFee: 50, currency: 'CNY' },
  parts: [{ partNo: 'P-1', name: 'Sensor', price: 28 }],
  faultCodes: {
    F1: { title: 'Sensor fault', component: 'temperature_sensor', severity: 'minor', cause: 'open circuit', parts: [{ partNo: 'P-1' }], labourHours: 0.5 },
  },
  thresholds: [{ id: 'warm', metric: 'cabinet_temp', comparison: 'above', limit: 8, for: '30m', clearAt: 6, severity: 'major', title: 'Too warm' }],
  offline: { heartbeat: '5m', missedHeartbeats: 3 },
  ...overrides,
})

function problemsOf(run: () => unknown): string[] {
  try {
    run()
  } catch (err) {
    if (err instanceof CatalogError) return err.problems
    throw err
  }
  throw new Error('expected a CatalogError')
}

describe('the demo catalog', () => {
  it('holds home appliances and commercial equipment, each priced in one currency', async () => {
    const catalog = await loadCatalog(demoDir)
    expect(catalog.size).toBeGreaterThanOrEqual(4)
    const categories = [...catalog.values()].map((m) => m.category)
    expect(categories).toEqual(expect.arrayContaining(['refrigerator', 'air_conditioner', 'washing_machine', 'air_compressor']))
    for (const m of catalog.values()) {
      expect(m.warranty.currency).toBe('CNY')
      expect(m.faultCodes.size).toBeGreaterThan(5)
      expect(m.thresholds.length).toBeGreaterThan(0)
      expect([...m.faultCodes.values()].some((f) => f.safetyHazard)).toBe(true)
    }
  })

  it('has the fridge rule and compressor cover the issue describes', async () => {
    const fridge = (await loadCatalog(demoDir)).get('BCD-516WDVL')!
    expect(fridge.thresholds.find((r) => r.id === 'fridge_warm')).toMatchObject({
      metric: 'fridge_temp',
      comparison: 'above',
      limit: 8,
      for: 30 * 60_000,
      clearAt: 6,
    })
    expect(fridge.warranty.components).toContainEqual({ component: 'compressor', months: 120 })
    expect(fridge.faultCodes.get('E8')?.parts.map((p) => p.partNo)).toEqual(['0064001857', '0060900021'])
  })
})

describe('parseCatalog', () => {
  it('indexes models by id, fault codes by code, with part references resolved', () => {
    const catalog = parseCatalog([{ file: 't.yaml', content: model() }])
    const fault = catalog.get('T-1')?.faultCodes.get('F1')
    expect(fault).toMatchObject({ code: 'F1', safetyHazard: false, parts: [{ partNo: 'P-1', name: 'Sensor', price: 28, qty: 1 }] })
    // codes come from devices: object keys such as "constructor" must not be found
    expect(catalog.get('T-1')?.faultCodes.get('constructor')).toBeUndefined()
  })

  it('reports each problem as file: path.inside: problem', () => {
    const broken = model({
      warranty: { months: 12, labourRate: 80.005, callOutFee: 50, currency: 'CNY', exclusions: ['acts_of_god'] },
      thresholds: [
        { id: 'warm', metric: 'cabinet_temp', comparison: 'above', limit: 8, for: 'soon', clearAt: 9, severity: 'major', title: 'Too warm', colour: 'red' },
      ],
    })
    expect(problemsOf(() => parseCatalog([{ file: 'fridge.yaml', content: broken }]))).toEqual([
      'fridge.yaml: warranty.exclusions[0]: Invalid option: expected one of "misuse"|"liquid_damage"|"power_surge"|"unauthorised_repair"|"improper_installation"|"physical_damage"|"pest_damage"|"natural_disaster"|"lack_of_maintenance"|"non_genuine_parts"|"commercial_use"|"consumables"',
      'fridge.yaml: warranty.labourRate: at most two decimals (whole cents)',
      'fridge.yaml: thresholds[0].for: expected a positive duration such as "90s", "30m", "4h" or "7d"; got "soon"',
      'fridge.yaml: thresholds[0]: Unrecognized key: "colour"',
    ])
  })

  it('checks rules that span fields once the fields themselves are valid', () => {
    const rules = model({
      warranty: { months: 12, components: [{ component: 'compressor', months: 6 }], labourRate: 80, callOutFee: 50, currency: 'CNY' },
      thresholds: [
        { id: 'warm', metric: 'cabinet_temp', comparison: 'above', limit: 8, for: '30m', clearAt: 9, severity: 'major', title: 'Too warm' },
        { id: 'warm', metric: 'cabinet_temp', comparison: 'below', limit: 0, for: '2h', clearAt: -1, severity: 'minor', title: 'Too cold' },
      ],
    })
    expect(problemsOf(() => parseCatalog([{ file: 'fridge.yaml', content: rules }]))).toEqual([
      "fridge.yaml: warranty.components[0].months: component coverage (6) must be longer than the whole unit's (12), or it adds nothing",
      'fridge.yaml: thresholds[0].clearAt: a rule tripping above 8 must clear at or below it; got 9',
      'fridge.yaml: thresholds[1].clearAt: a rule tripping below 0 must clear at or above it; got -1',
    ])
  })

  it('reports unknown part references and duplicate ids', () => {
    const refs = model({
      parts: [
        { partNo: 'P-1', name: 'Sensor', price: 28 },
        { partNo: 'P-1', name: 'Sensor again', price: 30 },
      ],
      faultCodes: {
        F1: { title: 'Sensor fault', component: 'temperature_sensor', severity: 'minor', cause: 'open', parts: [{ partNo: 'P-9' }], labourHours: 0.5 },
      },
      thresholds: [
        { id: 'warm', metric: 'cabinet_temp', comparison: 'above', limit: 8, for: '30m', clearAt: 6, severity: 'major', title: 'Too warm' },
        { id: 'warm', metric: 'freezer_temp', comparison: 'above', limit: -12, for: '1h', clearAt: -15, severity: 'major', title: 'Freezer warm' },
      ],
    })
    expect(problemsOf(() => parseCatalog([{ file: 'fridge.yaml', content: refs }]))).toEqual([
      'fridge.yaml: parts[1].partNo: part P-1 is listed twice',
      'fridge.yaml: thresholds[1].id: threshold rule id "warm" is used twice',
      "fridge.yaml: faultCodes.F1.parts[0].partNo: unknown part P-9: not in this model's parts list",
    ])
  })

  it('reads list files by index and refuses a model id defined twice', () => {
    const sources = [
      { file: 'a.yaml', content: model() },
      { file: 'b.json', content: [model({ model: 'T-2' }), model(), 'nonsense'] },
    ]
    expect(problemsOf(() => parseCatalog(sources))).toEqual([
      'b.json: [1].model: duplicate model id "T-1", already defined in a.yaml',
      'b.json: [2]: Invalid input: expected object, received string',
    ])
  })
})

describe('loadCatalog', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-catalog-'))
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reads *.yaml, *.yml and *.json, one model or a list per file, and ignores other files', async () => {
    await writeFile(
      join(dir, 'one.yml'),
      'model: Y-1\nname: Y\ncategory: washer\nwarranty: { months: 12, labourRate: 80, callOutFee: 50, currency: CNY }\nfaultCodes: {}\noffline: { heartbeat: 5m, missedHeartbeats: 3 }\n',
    )
    await writeFile(join(dir, 'many.json'), JSON.stringify([model({ model: 'J-1' }), model({ model: 'J-2' })]))
    await writeFile(join(dir, 'README.md'), '# not a model')
    expect([...(await loadCatalog(dir)).keys()].sort()).toEqual(['J-1', 'J-2', 'Y-1'])
  })

  it('reports syntax errors with their line, beside the other files’ problems', async () => {
    await writeFile(join(dir, 'a.yaml'), 'model: A-1\nmodel: A-2\n')
    await writeFile(join(dir, 'b.json'), '{"model": ')
    await writeFile(join(dir, 'c.yaml'), 'model: C-1\n')
    const problems = await loadCatalog(dir).then(
      () => [],
      (err: CatalogError) => err.problems,
    )
    expect(problems[0]).toBe(`${join(dir, 'a.yaml')}: Map keys must be unique at line 2, column 1`)
    expect(problems[1]).toMatch(new RegExp(`^${join(dir, 'b.json')}: .*JSON`))
    expect(problems.slice(2)).toContain(`${join(dir, 'c.yaml')}: name: Invalid input: expected string, received undefined`)
  })

  it('refuses a missing or empty folder', async () => {
    await expect(loadCatalog(join(dir, 'nope'))).rejects.toThrow(/cannot read the catalog folder/)
    await expect(loadCatalog(dir)).rejects.toThrow(/no \*\.yaml, \*\.yml or \*\.json catalog files/)
  })
})

describe('durations', () => {
  it('reads text durations and writes them back', () => {
    expect(parseDuration('1h30m')).toBe(5_400_000)
    expect(parseDuration('90s')).toBe(90_000)
    expect(parseDuration('soon')).toBeUndefined()
    expect(formatDuration(5_400_000)).toBe('1h30m')
    expect(formatDuration(7 * 86_400_000)).toBe('7d')
  })
})
