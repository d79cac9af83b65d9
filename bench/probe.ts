// Preloaded into the Faultline process the benchmark starts (node --import tsx --import ./bench/probe.ts src/main.ts):
// event-loop delay, RSS and CPU, measured inside the process and handed to bench/run.ts over the IPC channel.
// Faultline's own code is untouched; without an IPC channel this does nothing.
import { monitorEventLoopDelay } from 'node:perf_hooks'

export interface ProbeReport {
  type: 'probe'
  /** event-loop delay over the window, ms */
  eld: { p50: number; p99: number; max: number; mean: number }
  /** highest RSS sampled every 50 ms over the window, MB */
  rssPeakMb: number
  /** process CPU over the window, as a share of one core */
  cpuCores: number
  windowMs: number
}

if (process.send) {
  const histogram = monitorEventLoopDelay({ resolution: 10 })
  histogram.enable()
  let rssPeak = 0
  let cpu0 = process.cpuUsage()
  let t0 = performance.now()
  setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 50).unref()

  process.on('message', (msg: { probe?: 'reset' | 'report' }) => {
    if (msg.probe === 'reset') {
      histogram.reset()
      rssPeak = process.memoryUsage.rss()
      cpu0 = process.cpuUsage()
      t0 = performance.now()
    } else if (msg.probe === 'report') {
      const windowMs = performance.now() - t0
      const cpu = process.cpuUsage(cpu0)
      const ms = (ns: number) => ns / 1e6
      const report: ProbeReport = {
        type: 'probe',
        eld: { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), mean: ms(histogram.mean) },
        rssPeakMb: Math.max(rssPeak, process.memoryUsage.rss()) / 1024 / 1024,
        cpuCores: (cpu.user + cpu.system) / 1000 / windowMs,
        windowMs,
      }
      process.send!(report)
    }
  })
  // The channel must not keep Faultline running once it has shut down.
  process.channel?.unref()
}
