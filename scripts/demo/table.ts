/** Column alignment: left or right. */
export type Align = 'left' | 'right'

/**
 * A plain-text table: a header, a rule, then the rows, columns padded to their widest
 * cell. `paintHeader` may style the header line (dim, bold) after padding.
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: { align?: readonly Align[]; paintHeader?: (line: string) => string } = {},
): string[] {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => {
        const width = widths[column] ?? 0
        return options.align?.[column] === 'right' ? cell.padStart(width) : cell.padEnd(width)
      })
      .join('   ')
      .trimEnd()
  const paint = options.paintHeader ?? ((text: string) => text)
  return [paint(line(header)), paint(widths.map((width) => '─'.repeat(width)).join('   ')), ...rows.map(line)]
}
