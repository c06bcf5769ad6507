// The text report's width: every line the tester and compare print fits in
// 100 columns, so that a student reads it in a terminal, an editor or a
// pasted doc without lines running off the edge. Prose is wrapped here; the
// timelines and tables are laid out to fit (checker/explain.ts, faults.ts,
// report.ts's formatTable) and only wrapped if they still do not.

/** How many columns the text report fills at most. */
export const COLUMNS = 100;

// Colour codes (ESC [ ... m) take no room on the screen.
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * The columns `text` takes on a terminal: its characters (code points, so
 * that `→` or `▁` counts 1, as it is displayed), colour codes left out.
 */
export function displayWidth(text: string): number {
  return Array.from(text.replace(ANSI, '')).length;
}

/**
 * Breaks `line` at spaces into lines of at most `columns` displayed
 * characters (displayWidth). The first line keeps the line's own leading
 * spaces; every later line starts with `indent` (spaces, say, to align it
 * under the first line's text). The spaces where a line breaks are dropped;
 * other spaces are kept as they are. A word wider than the room left is never
 * cut: it stays whole, on a line of its own, and that line is wider than
 * `columns`. A line that fits comes back alone and unchanged.
 *
 *     wrap('   lost update (20x): two INCRs returned the same number...', '   ')
 */
export function wrap(line: string, indent: string, columns = COLUMNS): string[] {
  if (displayWidth(line) <= columns) return [line];
  const lead = /^ */.exec(line)![0];
  const words = line.slice(lead.length).split(/( +)/); // words at even indexes, the spaces between them at odd ones
  const lines: string[] = [];
  let current = lead + words[0]!;
  for (let i = 2; i < words.length; i += 2) {
    const gap = words[i - 1]!;
    const word = words[i]!;
    if (displayWidth(current + gap + word) <= columns) {
      current += gap + word;
    } else {
      lines.push(current);
      current = indent + word;
    }
  }
  lines.push(current);
  return lines;
}
