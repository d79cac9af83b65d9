export { Dispatcher, AssignmentRefused, UnknownTechnician, type DispatchMode } from './dispatcher.js'
export { TechnicianRepository, AlreadyExists, UnknownProvider } from './technicians.js'
export { skillCatalog } from './skills.js'
export { availability } from './hours.js'
export {
  newTechnician,
  technicianChange,
  technicianSchema,
  newProvider,
  providerChange,
  providerSchema,
  technicianIdSchema,
  type Technician,
} from './directory.js'
