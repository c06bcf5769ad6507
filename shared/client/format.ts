import type { Reply } from '../protocol/reply.ts';

// How the client shows replies to people: plain words, errors by their code,
// DUMP as a table, INFO as its lines.

export function formatReply(reply: Reply, command = ''): string {
  if (command === 'DUMP' && reply.type === 'array' && reply.value !== null) {
    return formatDumpTable(reply.value);
  }
  if (command === 'INFO' && reply.type === 'bulk' && reply.value !== null) {
    return reply.value.toString('utf8').replace(/\r\n/g, '\n').trimEnd(); // field:value lines
  }
  switch (reply.type) {
    case 'simple':
      return reply.value;
    case 'error':
      return `(error) ${reply.code}${reply.message ? `: ${reply.message}` : ''}`;
    case 'integer':
      return `(integer) ${reply.exact ?? reply.value}`;
    case 'map':
      return formatReply({ type: 'array', value: reply.value.flat() });
    case 'bulk':
      return reply.value === null ? '(nil)' : showText(reply.value);
    case 'array':
      if (reply.value === null) return '(nil)';
      if (reply.value.length === 0) return '(empty list)';
      return reply.value
        .map((item, i) => `${String(i + 1).padStart(String(reply.value!.length).length)}) ${formatReply(item)}`)
        .join('\n');
  }
}

/** DUMP's key, value, key, value... as a two-column table, sorted by key. */
export function formatDumpTable(items: Reply[]): string {
  const rows: Array<[string, string]> = [];
  for (let i = 0; i + 1 < items.length; i += 2) {
    rows.push([cell(items[i]!), cell(items[i + 1]!)]);
  }
  if (rows.length === 0) return '(the store is empty)';
  rows.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const keyWidth = Math.max(3, ...rows.map(([key]) => key.length));
  const valueWidth = Math.max(5, ...rows.map(([, value]) => value.length));
  const line = (key: string, value: string) => `${key.padEnd(keyWidth)} | ${value}`;
  return [
    line('key', 'value'),
    `${'-'.repeat(keyWidth)}-+-${'-'.repeat(Math.min(valueWidth, 60))}`,
    ...rows.map(([key, value]) => line(key, value)),
    `(${rows.length} ${rows.length === 1 ? 'entry' : 'entries'})`,
  ].join('\n');
}

function cell(reply: Reply): string {
  return reply.type === 'bulk' && reply.value !== null ? showText(reply.value) : formatReply(reply);
}

/**
 * Printable UTF-8 text is shown as it is; empty or binary values are shown
 * quoted with escapes, so that nothing invisible reaches the terminal.
 */
export function showText(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  const printable = text.length > 0 && !text.includes('\uFFFD') && !/[\x00-\x1f\x7f]/.test(text);
  if (printable && text.trim() === text) return text;
  return JSON.stringify(text.includes('\uFFFD') ? bytes.toString('latin1') : text);
}
