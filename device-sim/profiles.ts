// What each simulated model reports, and how its readings move. Data plus small pure step functions: no I/O,
// no clock; the only randomness is the seeded `Rng` passed in, so the same seed gives the same readings.
//
// Metric names, fault codes and threshold limits follow the product catalog (config/catalog/*.yaml); devices are
// registered under the catalog's model id so Faultline's detectors find their rules. The short codes (RF-500, ...)
// are what the simulator's --model flag takes.
import type { Rng } from './random.js'

export type Readings = Record<string, number>

export interface FaultSpec {
  code: string
  detail: string
}

export interface Profile<S = unknown> {
  /** what --model takes */
  code: string
  /** registered model id: the catalog's `model` */
  catalogModel: string
  /** device ids are `<prefix>-<idTag>-0001` */
  idTag: string
  kind: string
  fw: string
  /** plausible fault codes from the catalog */
  faults: FaultSpec[]
  /** --breach drives this metric towards `value`, past the catalog limit `limit` */
  breach: { metric: string; value: number; limit: number }
  /** counters never go down; the rest are gauges */
  counters: string[]
  init(rng: Rng): S
  /** advances the state by dt seconds; returns the new state and its readings */
  step(state: S, dt: number, rng: Rng): { state: S; readings: Readings }
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v))
const round = (v: number, digits = 2) => Math.round(v * 10 ** digits) / 10 ** digits
/** moves v towards target with time constant tau seconds */
const approach = (v: number, target: number, dt: number, tau: number) => v + (target - v) * (1 - Math.exp(-dt / tau))

// ---- RF-500: 516 L French-door refrigerator (catalog BCD-516WDVL) ----------------------------------------------
interface FridgeState {
  fridge: number
  freezer: number
  compressor: boolean
  doorLeft: number
}

const refrigerator: Profile<FridgeState> = {
  code: 'RF-500',
  catalogModel: 'BCD-516WDVL',
  idTag: 'rf',
  kind: 'refrigerator',
  fw: 'RF500-2.4.1',
  faults: [
    { code: 'F1', detail: 'freezer sensor open circuit' },
    { code: 'F2', detail: 'fridge sensor open circuit' },
    { code: 'F3', detail: 'defrost sensor out of range' },
    { code: 'F5', detail: 'defrost heater circuit open' },
    { code: 'E1', detail: 'condenser fan stalled' },
    { code: 'E2', detail: 'evaporator fan stalled' },
    { code: 'E6', detail: 'display board not responding' },
    { code: 'Fd', detail: 'air damper stuck' },
    { code: 'dr', detail: 'door open for more than 2 minutes' },
  ],
  breach: { metric: 'fridge_temp', value: 11, limit: 8 },
  counters: [],
  init: (rng) => ({ fridge: rng.range(3, 5), freezer: rng.range(-19, -17), compressor: rng.chance(0.4), doorLeft: 0 }),
  step(s, dt, rng) {
    // Thermostat with hysteresis: the compressor runs from 5 °C down to 3 °C (a ~20-minute cycle).
    const compressor = s.fridge > 5 ? true : s.fridge < 3 ? false : s.compressor
    const doorLeft = s.doorLeft > 0 ? Math.max(0, s.doorLeft - dt) : rng.chance(0.004 * dt) ? rng.range(5, 40) : 0
    const door = doorLeft > 0
    const fridge = s.fridge + dt * ((compressor ? -0.0025 : 0.0013) + (door ? 0.03 : 0)) + rng.normal(0, 0.02)
    const freezer = clamp(s.freezer + dt * ((compressor ? -0.0035 : 0.0018) + (door ? 0.01 : 0)) + rng.normal(0, 0.03), -24, 10)
    const power = compressor ? 95 + rng.normal(0, 4) : 1.8 + rng.normal(0, 0.2)
    return {
      state: { fridge, freezer, compressor, doorLeft },
      readings: {
        fridge_temp: round(fridge),
        freezer_temp: round(freezer),
        compressor_on: compressor ? 1 : 0,
        door_open: door ? 1 : 0,
        power_w: round(Math.max(0, power), 1),
      },
    }
  },
}

// ---- AC-3500: 1.5 HP inverter split air conditioner, cooling (catalog KFR-35GW-BP3DN1) --------------------------
interface AcState {
  indoor: number
  outdoor: number
  hz: number
  setpoint: number
}

const airConditioner: Profile<AcState> = {
  code: 'AC-3500',
  catalogModel: 'KFR-35GW-BP3DN1',
  idTag: 'ac',
  kind: 'air_conditioner',
  fw: 'AC35-1.8.0',
  faults: [
    { code: 'E1', detail: 'high-pressure switch open' },
    { code: 'E2', detail: 'indoor coil anti-freeze' },
    { code: 'E4', detail: 'discharge temperature protection' },
    { code: 'E6', detail: 'no reply from the outdoor unit' },
    { code: 'F1', detail: 'room sensor open circuit' },
    { code: 'F3', detail: 'outdoor ambient sensor open circuit' },
    { code: 'FL', detail: 'condensate float switch tripped' },
    { code: 'PH', detail: 'supply voltage 271 V' },
  ],
  breach: { metric: 'discharge_pressure', value: 4.45, limit: 4.15 },
  counters: [],
  init: (rng) => ({ indoor: rng.range(26, 30), outdoor: rng.range(30, 36), hz: 0, setpoint: rng.pick([24, 25, 26]) }),
  step(s, dt, rng) {
    const outdoor = clamp(s.outdoor + rng.normal(0, 0.05) * Math.sqrt(dt), 20, 45)
    // Inverter: frequency follows the room's distance from the set point; it stops half a degree below it.
    const target = s.indoor < s.setpoint - 0.5 ? 0 : clamp(30 + 25 * (s.indoor - s.setpoint), 20, 90)
    const hz = clamp(approach(s.hz, target, dt, 30), 0, 95)
    const indoor = s.indoor + dt * (0.0006 * (outdoor - s.indoor) - 0.00035 * hz) + rng.normal(0, 0.02)
    // Running, the pressures split; stopped, they equalise (~1.9 MPa for R32 at these temperatures).
    const running = Math.min(1, hz / 20)
    const dischargePressure = 1.9 + running * (0.35 + 0.035 * (outdoor - 25) + 0.004 * hz) + rng.normal(0, 0.02)
    const suctionPressure = 1.9 - running * (0.85 + 0.0035 * hz) + rng.normal(0, 0.01)
    const dischargeTemp = outdoor + running * (20 + 0.38 * hz) + rng.normal(0, 0.5)
    return {
      state: { indoor, outdoor, hz, setpoint: s.setpoint },
      readings: {
        indoor_temp: round(indoor),
        outdoor_temp: round(outdoor),
        indoor_coil_temp: round(indoor - running * (12 + 0.08 * hz) + rng.normal(0, 0.2)),
        discharge_temp: round(dischargeTemp, 1),
        discharge_pressure: round(dischargePressure, 3),
        suction_pressure: round(suctionPressure, 3),
        compressor_hz: round(hz, 1),
        power_w: round(Math.max(0, 8 + running * 110 + 13 * hz + rng.normal(0, 6)), 1),
      },
    }
  },
}

// ---- WM-800: 10 kg front-load washer (catalog XQG100-B14376) ----------------------------------------------------
type WashPhase = 'idle' | 'fill' | 'wash' | 'rinse' | 'spin'
const NEXT_PHASE: Record<WashPhase, WashPhase> = { idle: 'fill', fill: 'wash', wash: 'rinse', rinse: 'spin', spin: 'idle' }
interface WasherState {
  phase: WashPhase
  left: number
  water: number
  motor: number
  rpm: number
  cycles: number
}

const phaseSeconds = (phase: WashPhase, rng: Rng) =>
  ({ idle: rng.range(60, 300), fill: rng.range(45, 75), wash: rng.range(200, 300), rinse: rng.range(100, 140), spin: rng.range(100, 140) })[phase]

const washer: Profile<WasherState> = {
  code: 'WM-800',
  catalogModel: 'XQG100-B14376',
  idTag: 'wm',
  kind: 'washing_machine',
  fw: 'WM800-3.0.7',
  faults: [
    { code: 'E1', detail: 'drain timeout after 6 min' },
    { code: 'E2', detail: 'door lock did not engage' },
    { code: 'E4', detail: 'water inlet timeout' },
    { code: 'F3', detail: 'water NTC open circuit' },
    { code: 'F4', detail: 'heater current absent' },
    { code: 'UE', detail: 'unbalanced load, spin reduced' },
    { code: 'Sud', detail: 'excessive suds detected' },
  ],
  breach: { metric: 'motor_temp', value: 132, limit: 120 },
  counters: ['wash_cycles'],
  init: (rng) => ({ phase: 'idle', left: rng.range(0, 120), water: rng.range(14, 18), motor: 25, rpm: 0, cycles: rng.int(20, 900) }),
  step(s, dt, rng) {
    let { phase, left, cycles } = s
    left -= dt
    if (left <= 0) {
      if (phase === 'spin') cycles++
      phase = NEXT_PHASE[phase]
      left = phaseSeconds(phase, rng)
    }
    const targetRpm = { idle: 0, fill: 0, wash: 52, rinse: 48, spin: 1400 }[phase]
    const rpm = Math.max(0, approach(s.rpm, targetRpm, dt, phase === 'spin' ? 20 : 3))
    const heating = phase === 'wash' && s.water < 40
    const water = heating ? s.water + 0.12 * dt : approach(s.water, 16, dt, 900)
    const motor = approach(s.motor, 28 + 0.045 * rpm, dt, 120)
    const power = (heating ? 1950 : 0) + (rpm > 0 ? 80 + 0.35 * rpm : phase === 'idle' ? 1 : 35)
    return {
      state: { phase, left, water, motor, rpm, cycles },
      readings: {
        drum_rpm: Math.round(rpm + (rpm > 0 ? rng.normal(0, 3) : 0)),
        water_temp: round(water + rng.normal(0, 0.1), 1),
        motor_temp: round(motor + rng.normal(0, 0.3), 1),
        vibration_g: round(0.03 + 0.00035 * rpm + Math.abs(rng.normal(0, 0.03)), 3),
        leak_level: 0,
        power_w: round(Math.max(0, power + rng.normal(0, power > 50 ? 10 : 0.1)), 1),
        wash_cycles: cycles,
      },
    }
  },
}

// ---- CP-7500: 37 kW VSD rotary screw air compressor (catalog LGV-37A-8) -----------------------------------------
interface CompressorState {
  pressure: number
  temp: number
  demand: number
  separatorDp: number
  runHours: number
}

const airCompressor: Profile<CompressorState> = {
  code: 'CP-7500',
  catalogModel: 'LGV-37A-8',
  idTag: 'cp',
  kind: 'air_compressor',
  fw: 'LGV-CTRL-5.2.3',
  faults: [
    { code: 'E01', detail: 'discharge temperature 111 °C, shutdown' },
    { code: 'E02', detail: 'main motor overload relay tripped' },
    { code: 'E06', detail: 'pressure transducer signal 0.8 mA' },
    { code: 'E08', detail: 'cooling fan motor overload' },
    { code: 'E09', detail: 'emergency stop pressed' },
    { code: 'A01', detail: 'air filter dp 65 mbar' },
    { code: 'A02', detail: 'oil filter dp 1.6 bar' },
    { code: 'A03', detail: 'separator dp 0.9 bar' },
  ],
  breach: { metric: 'discharge_temp', value: 112, limit: 105 },
  counters: ['run_hours'],
  init: (rng) => ({
    pressure: 7.5,
    temp: rng.range(78, 86),
    demand: rng.range(0.4, 0.8),
    separatorDp: rng.range(0.2, 0.4),
    runHours: round(rng.range(300, 3900), 3),
  }),
  step(s, dt, rng) {
    // Air demand wanders; the VSD holds 7.5 bar by speeding up or slowing down.
    const demand = clamp(s.demand + rng.normal(0, 0.02) * Math.sqrt(dt), 0.15, 1)
    const pressure = clamp(approach(s.pressure, 7.5 + rng.normal(0, 0.08), dt, 5), 6.5, 8.5)
    const temp = approach(s.temp, 74 + 14 * demand, dt, 180) + rng.normal(0, 0.2)
    const separatorDp = s.separatorDp + 0.00000005 * dt
    const runHours = s.runHours + dt / 3600
    const current = 22 + 52 * demand + rng.normal(0, 0.6)
    return {
      state: { pressure, temp, demand, separatorDp, runHours },
      readings: {
        discharge_pressure: round(pressure),
        discharge_temp: round(temp, 1),
        separator_dp: round(separatorDp + rng.normal(0, 0.005), 3),
        motor_current: round(current, 1),
        motor_speed_rpm: Math.round(900 + 2100 * demand),
        power_kw: round(current * 0.52, 1),
        run_hours: round(runHours, 3),
      },
    }
  },
}

export const profiles: Record<string, Profile> = Object.fromEntries([refrigerator, airConditioner, washer, airCompressor].map((p) => [p.code, p]))

/** A profile by its short code or by its catalog model id, case-insensitively. */
export function findProfile(name: string): Profile | undefined {
  const n = name.trim().toLowerCase()
  return Object.values(profiles).find((p) => p.code.toLowerCase() === n || p.catalogModel.toLowerCase() === n)
}
