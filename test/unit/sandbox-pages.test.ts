// The shared bank page: the automation contract (form, post, decision buttons), escaping, and the redirect back.
import { describe, expect, test } from 'vitest'
import {
  parseBankDecision,
  redirectBackUrl,
  renderBankScaPage,
  renderErrorPage,
  renderResultPage,
} from '../../sandbox/shared/bank-page.ts'
import { escapeHtml, html } from '../../sandbox/shared/html.ts'

describe('bank SCA page', () => {
  test('is one post form back to its own URL with approve and deny decision buttons', () => {
    const page = renderBankScaPage({ bankName: 'CEC Bank', action: '/link/abc?x=1&y=2' })

    expect(page.match(/<form /g)).toHaveLength(1)
    expect(page).toContain('<form method="post" action="/link/abc?x=1&amp;y=2">')
    expect(page).toContain('<button type="submit" name="decision" value="approve">')
    expect(page).toContain('<button type="submit" name="decision" value="deny">')
  })

  test('renders extra fields a flow needs: hidden as is, visible with a label', () => {
    const page = renderBankScaPage({
      bankName: 'Bank',
      action: '/sca',
      fields: [
        { name: 'session', value: 's-1' },
        { name: 'holders', value: '2', type: 'number', label: 'Account holders' },
      ],
    })

    expect(page).toContain('<input type="hidden" name="session" value="s-1">')
    expect(page).toContain('<label>Account holders <input type="number" name="holders" value="2"></label>')
  })

  test('escapes everything interpolated', () => {
    const hostile = '<script>alert("x")</script>'

    const pages = [
      renderBankScaPage({ bankName: hostile, action: `/a"><script>`, details: [[hostile, hostile]], note: hostile }),
      renderResultPage({ title: hostile, message: hostile, details: [[hostile, hostile]] }),
      renderErrorPage({ title: hostile, message: hostile }),
    ]

    for (const page of pages) {
      expect(page).not.toContain('<script>')
      expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;')
    }
  })

  test('only approve and deny are decisions', () => {
    expect(parseBankDecision('approve')).toBe('approve')
    expect(parseBankDecision('deny')).toBe('deny')
    expect(parseBankDecision('APPROVE')).toBeNull()
    expect(parseBankDecision(null)).toBeNull()
  })
})

describe('html', () => {
  test('escapes the five HTML specials and the backtick', () => {
    expect(escapeHtml(`&<>"'\``)).toBe('&amp;&lt;&gt;&quot;&#39;&#96;')
  })

  test('keeps nested safe markup, joins arrays and drops null, undefined and false', () => {
    const items = ['a<b', 'c']

    const markup = html`<ul>${items.map((item) => html`<li>${item}</li>`)}</ul>${null}${undefined}${false}${0}`

    expect(markup.markup).toBe('<ul><li>a&lt;b</li><li>c</li></ul>0')
  })
})

describe('redirectBackUrl', () => {
  test('appends the outcome and keeps the existing query and fragment', () => {
    const url = redirectBackUrl('https://partner.example/cb?ref=1#top', { consent_id: 'c 1', status: 'authorized' })

    expect(url).toBe('https://partner.example/cb?ref=1&consent_id=c+1&status=authorized#top')
  })

  test('works without an existing query', () => {
    expect(redirectBackUrl('http://127.0.0.1:3000/done', { status: 'failed' })).toBe(
      'http://127.0.0.1:3000/done?status=failed',
    )
  })
})
