// PostgreSQL array literals for the writer's unnest parameters, built here rather than by pg: its generic
// serialiser (prepareValue, then escapeElement for every element) cost ~2 µs a message, and a record's device id
// and time, written once per metric, are converted once here (bench/results/profile.md).

/** A text element, always quoted: a bare NULL would be read as a null, a comma or brace would split it. */
export const textElement = (text: string) => (/["\\]/.test(text) ? `"${text.replace(/["\\]/g, '\\$&')}"` : `"${text}"`)

/**
 * A number as JavaScript prints it, which float8 reads back to the same double. Anything else (a record from a
 * hand-edited log) goes as one quoted element, so the array keeps its length and the database refuses the value.
 */
export const numberElement = (value: unknown) => (typeof value === 'number' ? String(value) : textElement(String(value)))

export const arrayLiteral = (elements: string[]) => `{${elements.join(',')}}`
