// The benchmark's telemetry, one definition for the load generator and the database ceilings (bench/ceilings.ts).

/** A telemetry payload of ~120 bytes with 3 metrics, unique (device, time) per message. */
export function payloadFor(ts: number, seq: number): string {
  const t = 4 + (seq % 40) / 10
  return `{"ts":${ts},"seq":${seq},"metrics":{"cabinet_temp_c":${t.toFixed(2)},"freezer_temp_c":${(-18 - t / 10).toFixed(2)},"compressor_power_w":${(90 + (seq % 17)).toFixed(1)}}}`
}
