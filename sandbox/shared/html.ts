// Safe HTML building for sandbox pages: a tagged template that escapes every interpolated value unless marked safe.

/** Markup that is already safe to embed (built by `html` or escaped). */
export class SafeHtml {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup
  }
}

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
}

/** Escapes text for element content and quoted attribute values alike. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (character) => ENTITIES[character] ?? character)
}

/**
 * Builds markup; interpolated values are escaped, `SafeHtml` values are kept, arrays are concatenated, and
 * null/undefined/false render as nothing.
 * @example html`<p>${userInput}</p>`
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let markup = strings[0] ?? ''
  for (const [index, value] of values.entries()) markup += render(value) + (strings[index + 1] ?? '')
  return new SafeHtml(markup)
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.markup
  if (Array.isArray(value)) return value.map(render).join('')
  if (value === null || value === undefined || value === false) return ''
  if (typeof value === 'string') return escapeHtml(value)
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value)
  return escapeHtml(JSON.stringify(value) ?? '')
}

/** A whole page: the sandbox banner, the title and the body, with just enough style to be readable. */
export function htmlDocument(title: string, body: SafeHtml): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        <style>
          body {
            font-family: system-ui, sans-serif;
            max-width: 36rem;
            margin: 2rem auto;
            padding: 0 1rem;
            color: #1d2430;
          }
          .sandbox {
            background: #fff4d6;
            border: 1px solid #e8c766;
            padding: 0.4rem 0.7rem;
            font-size: 0.85rem;
          }
          dl {
            display: grid;
            grid-template-columns: max-content 1fr;
            gap: 0.3rem 1rem;
          }
          dt {
            font-weight: 600;
          }
          button {
            font-size: 1rem;
            padding: 0.5rem 1.2rem;
            margin-right: 0.6rem;
            cursor: pointer;
          }
        </style>
      </head>
      <body>
        <p class="sandbox">Sandbox: a simulator, not a real bank. No real money or data.</p>
        <h1>${title}</h1>
        ${body}
      </body>
    </html> `.markup
}
