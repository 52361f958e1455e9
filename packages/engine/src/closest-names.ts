/**
 * The names closest to `name` by edit distance (insertions, deletions, substitutions and
 * swaps of neighbours), for "did you mean" hints: at most `limit`, each within a distance of
 * a third of the longer name (at least 2), nearest first.
 */
export function closestNames(name: string, candidates: Iterable<string>, limit = 3): string[] {
  const scored: { candidate: string; distance: number }[] = []
  for (const candidate of candidates) {
    const allowed = Math.max(2, Math.floor(Math.max(name.length, candidate.length) / 3))
    // The length difference is a lower bound of the distance: a name sent from outside (say
    // 1 MB) must not cost a length × length table per candidate.
    if (Math.abs(name.length - candidate.length) > allowed) continue
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase())
    if (distance <= allowed) scored.push({ candidate, distance })
  }
  return scored
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, limit)
    .map((entry) => entry.candidate)
}

/** Optimal string alignment distance (Damerau–Levenshtein without repeated edits). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1
  const cols = b.length + 1
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i < rows; i += 1) {
    for (let j = 1; j < cols; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1)
      d[i]![j] = best
    }
  }
  return d[rows - 1]![cols - 1]!
}
