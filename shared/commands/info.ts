// INFO's reply as Redis 7 writes it: sections, each a `# Name` header and its
// `field:value` lines, a blank line between two sections.
//
//   INFO                      the default sections
//   INFO default | all | everything
//   INFO server clients ...   those sections, in the server's order, whatever
//                             the order asked; names are case-insensitive
//   INFO nosuchsection        an empty reply (Redis's answer, not an error)
//
// Redis's `all` and `everything` add sections that `default` leaves out
// (commandstats, latencystats; modules for `everything`). A step marks such a
// section `inDefault: false`; every section the course has is in the default.

export type InfoFields = Record<string, string | number>;

export interface InfoSection {
  /** As the header shows it: `Server`, `Clients`, `Replication`... */
  name: string;
  fields: InfoFields;
  /** Shown by a bare INFO and `INFO default` (true unless said otherwise). */
  inDefault?: boolean;
  /** Lines written as they are, after the fields (the keyspace's `db0:keys=...`). */
  lines?: string[];
}

/** Which sections `INFO args...` asks for: a predicate on a section. */
export function infoSelection(args: readonly Buffer[]): (section: InfoSection) => boolean {
  if (args.length === 0) return (section) => section.inDefault !== false;
  const names = new Set(args.map((arg) => arg.toString('latin1').toLowerCase()));
  const all = names.has('all') || names.has('everything');
  const defaults = names.has('default');
  return (section) => all || (defaults && section.inDefault !== false) || names.has(section.name.toLowerCase());
}

/** The text of INFO's reply for the sections chosen (an empty string when none is). */
export function infoText(sections: readonly InfoSection[], args: readonly Buffer[]): string {
  const chosen = sections.filter(infoSelection(args));
  return chosen.map((section) => {
    const lines = Object.entries(section.fields).map(([name, value]) => `${name}:${value}`);
    return `# ${section.name}\r\n${[...lines, ...(section.lines ?? [])].map((line) => `${line}\r\n`).join('')}`;
  }).join('\r\n');
}

/**
 * Adds fields to the section of that name, or to the first section when the
 * server has none of that name (steps 01-05 report everything under Server).
 */
export function addToSection(sections: InfoSection[], name: string, fields: InfoFields): void {
  const section = sections.find((s) => s.name === name) ?? sections[0];
  if (section !== undefined) Object.assign(section.fields, fields);
}
