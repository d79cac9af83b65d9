// The ops console's entry: its styles (uPlot's, then ours) and the app, rendered into the page.
import 'uplot/dist/uPlot.min.css'
import './console.css'
import { html } from 'htm/preact'
import { render } from 'preact'
import { App } from './app.js'

render(html`<${App} />`, document.getElementById('app')!)
