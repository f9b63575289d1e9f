// A sandbox's hosted page read as a browser reads it: its first form's action, method, inputs and submit buttons.

/** The first form of a page: where it posts, and what it would send. */
export interface PageForm {
  action: URL
  method: string
  inputs: Array<{ name: string; value: string; type: string }>
  buttons: Array<{ name: string; value: string }>
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#96': '`' }

function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|#96);/g, (_all, entity: string) => ENTITIES[entity] ?? '')
}

/** A tag's quoted attributes, entities decoded. */
export function attributesOf(tag: string): Record<string, string> {
  const found: Record<string, string> = {}
  for (const [, name = '', value = ''] of tag.matchAll(/([a-z-]+)="([^"]*)"/gi)) found[name] = decodeEntities(value)
  return found
}

/** The page's first form, its action resolved against `pageUrl`; undefined when the page has none. */
export function parseForm(html: string, pageUrl: string | URL): PageForm | undefined {
  const form = /<form\b([^>]*)>([\s\S]*?)<\/form>/i.exec(html)
  if (!form) return undefined
  const { action = '', method = 'get' } = attributesOf(form[1] ?? '')
  const inner = form[2] ?? ''
  return {
    action: new URL(action, pageUrl),
    method: method.toLowerCase(),
    inputs: [...inner.matchAll(/<input\b([^>]*)>/gi)].map((input) => {
      const { name = '', value = '', type = 'text' } = attributesOf(input[1] ?? '')
      return { name, value, type }
    }),
    buttons: [...inner.matchAll(/<button\b([^>]*)>/gi)].map((button) => {
      const { name = '', value = '' } = attributesOf(button[1] ?? '')
      return { name, value }
    }),
  }
}

/** GETs a page: its status, its HTML and its form. */
export async function openPage(url: string): Promise<{ status: number; html: string; form: PageForm | undefined }> {
  const response = await fetch(url)
  const html = await response.text()
  return { status: response.status, html, form: parseForm(html, url) }
}
