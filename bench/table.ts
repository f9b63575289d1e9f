// Plain-text tables for the human half of the bench output: right-aligned numbers, left-aligned text.

/** Renders `rows` under `header`, columns padded to their widest cell; numbers-looking cells align right. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)))
  const numeric = /^[-+]?[\d.,]+( ?[%x])?$|^n\/a$/
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => {
        const width = widths[column] ?? cell.length
        return numeric.test(cell) ? cell.padStart(width) : cell.padEnd(width)
      })
      .join('  ')
      .trimEnd()
  const rule = widths.map((width) => '-'.repeat(width)).join('  ')
  return [line(header), rule, ...rows.map(line)].join('\n')
}

/** A fixed-decimals number, or `n/a` for NaN and infinities. */
export const fixed = (value: number, decimals: number): string =>
  Number.isFinite(value) ? value.toFixed(decimals) : 'n/a'
