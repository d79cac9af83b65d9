// What a technician can be skilled in: the catalog's product categories and, per category, the components its
// models name (fault codes, threshold rules, component warranties). 004: 技能矩陣 by fault type and product line.
import type { Catalog } from '../catalog/index.js'

/** Category → the components of its models. */
export type SkillCatalog = ReadonlyMap<string, ReadonlySet<string>>

export function skillCatalog(catalog: Catalog): SkillCatalog {
  const skills = new Map<string, Set<string>>()
  for (const model of catalog.values()) {
    const components = skills.get(model.category) ?? new Set<string>()
    skills.set(model.category, components)
    for (const fault of model.faultCodes.values()) components.add(fault.component)
    for (const rule of model.thresholds) if (rule.component) components.add(rule.component)
    for (const c of model.warranty.components) components.add(c.component)
  }
  return skills
}
