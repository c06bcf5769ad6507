// The docs check: every link in every Markdown file leads somewhere, and every
// command shown in the docs works as written. `npm run check:docs` runs it
// alone; docs/docs.test.ts runs it inside `npm test`. The conventions a doc
// author follows are in docs/README.md ("Commands in the docs").
//
// What "works as written" means here, honestly and fast:
// - statically, for every command in a fenced shell block: `npm run X` names a
//   script of package.json; a step named by `npm run step -- NN`, `--step NN`
//   or `npm run diff|compare|test:step -- NN` exists; every file a command
//   names exists; every `--flag` given to one of our programs is one its
//   `--help` lists (shared/cli/options.ts writes those help texts);
// - for real, the commands that are quick and need nothing else: `--help` of
//   our programs, `npm run diff`, and one-shot `redis-cli` and client commands,
//   run against the step the doc last started (the check starts it on port 0
//   and puts its port in place of the doc's). When the doc shows their output
//   (a `console` block), the output must match.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, listSteps } from '../../shared/cli/steps.ts';
import { launchServer, type RunningServer } from '../../tester/harness/launch.ts';
import { exitWhenOutputCloses } from '../../shared/cli/pipe.ts';

// ---------------------------------------------------------------- Markdown

export interface Problem {
  /** Path from the repository root. */
  file: string;
  line: number;
  message: string;
}

export const formatProblem = (p: Problem) => `${p.file}:${p.line}: ${p.message}`;

export interface CodeBlock {
  /** Line of the opening fence (1-based). */
  line: number;
  /** The info string's first word: `console`, `sh`, `text`... */
  lang: string;
  /** What an `<!-- docs-check: ... -->` comment just before the fence says. */
  marker: string | null;
  lines: Array<{ text: string; line: number }>;
}

export interface MarkdownDoc {
  file: string;
  lines: string[];
  blocks: CodeBlock[];
  /** Every anchor a link can point to: heading slugs and HTML ids. */
  anchors: Set<string>;
  links: Array<{ target: string; line: number }>;
}

const MARKER = /^\s*<!--\s*docs-check:\s*([a-z-]+(?: [0-9a-z-]+)?)\s*-->\s*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/;

/** Every Markdown file of the repository (node_modules, .git, data and dot-folders left out). */
export const markdownFiles = (root = ROOT): string[] => repositoryFiles((file) => file.endsWith('.md'), root);

/** Every file of the repository whose path (from the root) `wanted` accepts, with the same folders left out. */
export function repositoryFiles(wanted: (file: string) => boolean, root = ROOT): string[] {
  const found: string[] = [];
  const walk = (relative: string) => {
    for (const entry of readdirSync(path.join(root, relative), { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules' || entry.name === 'data') continue;
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (wanted(child)) found.push(child);
    }
  };
  walk('');
  return found.sort();
}

export function parseMarkdown(file: string, text: string): MarkdownDoc {
  const lines = text.split(/\r?\n/);
  const blocks: CodeBlock[] = [];
  const anchors = new Set<string>();
  const slugCounts = new Map<string, number>();
  const links: MarkdownDoc['links'] = [];
  const addHeading = (heading: string) => {
    const base = slug(heading);
    const count = slugCounts.get(base) ?? 0;
    slugCounts.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  };

  let open: { fence: string; block: CodeBlock } | null = null;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const number = i + 1;
    if (open) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(text);
      if (close && close[1]![0] === open.fence[0] && close[1]!.length >= open.fence.length) {
        blocks.push(open.block);
        open = null;
      } else {
        open.block.lines.push({ text, line: number });
      }
      continue;
    }
    const fence = FENCE.exec(text);
    if (fence) {
      let previous = i - 1;
      while (previous >= 0 && lines[previous]!.trim() === '') previous--;
      const marker = previous >= 0 ? MARKER.exec(lines[previous]!)?.[1] ?? null : null;
      open = { fence: fence[1]!, block: { line: number, lang: (fence[2] ?? '').toLowerCase(), marker, lines: [] } };
      continue;
    }
    const atx = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(text);
    if (atx) addHeading(atx[1]!);
    // A setext heading: a line of = or - under a line of text.
    const previous = lines[i - 1];
    if (/^ {0,3}(=+|-+)\s*$/.test(text) && previous !== undefined && previous.trim() !== ''
      && !/^\s*([-*+>]|\d+\.|#|\|)/.test(previous) && !FENCE.test(previous)) {
      addHeading(previous.trim());
    }
    for (const match of text.matchAll(/<a\s[^>]*(?:name|id)="([^"]+)"/gi)) anchors.add(match[1]!);
    const prose = stripCodeSpans(text);
    for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
      links.push({ target: match[1]!, line: number });
    }
    const definition = /^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/.exec(prose);
    if (definition) links.push({ target: definition[1]!, line: number });
    for (const match of prose.matchAll(/\s(?:href|src)="([^"]+)"/g)) links.push({ target: match[1]!, line: number });
  }
  if (open) blocks.push(open.block); // an unclosed fence runs to the end, as in CommonMark
  return { file, lines, blocks, anchors, links };
}

/** The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/`/g, '')
    .replace(/<[^>]+>/g, '')
    .replace(/\*+|~~/g, '')
    .replace(/(^|[^\p{L}\p{N}])_+|_+(?=[^\p{L}\p{N}]|$)/gu, '$1'); // _emphasis_, not snake_case
  return text.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

function stripCodeSpans(text: string): string {
  return text.replace(/(`+)(?:(?!\1).)+?\1/g, (span) => ' '.repeat(span.length));
}

// ------------------------------------------------------------------- links

export function checkLinks(docs: MarkdownDoc[], root = ROOT): Problem[] {
  const problems: Problem[] = [];
  const byFile = new Map(docs.map((doc) => [doc.file, doc]));
  const docAt = (file: string) => {
    if (!byFile.has(file)) {
      const full = path.join(root, file);
      byFile.set(file, parseMarkdown(file, readFileSync(full, 'utf8')));
    }
    return byFile.get(file)!;
  };
  for (const doc of docs) {
    for (const { target, line } of doc.links) {
      if (target === '' || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // external: http:, mailto:...
      const report = (message: string) => problems.push({ file: doc.file, line, message: `link '${target}': ${message}` });
      if (target.startsWith('/')) {
        report('starts with /; write it relative to this file so it works in a clone and on GitHub');
        continue;
      }
      const hash = target.indexOf('#');
      const linkPath = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
      const anchor = hash === -1 ? null : decodeURIComponent(target.slice(hash + 1));
      const resolved = linkPath === '' ? doc.file : path.posix.normalize(path.posix.join(path.posix.dirname(doc.file), linkPath));
      if (resolved.startsWith('../../shared/') || resolved === '..') {
        report('points outside the repository (a student\'s clone has nothing there)');
        continue;
      }
      const full = path.join(root, resolved);
      if (byFile.has(resolved)) {
        if (anchor !== null && !byFile.get(resolved)!.anchors.has(anchor)) report(`${resolved} has no heading with anchor #${anchor}`);
        continue;
      }
      if (!existsSync(full)) {
        report(`${resolved} does not exist`);
        continue;
      }
      if (anchor === null) continue;
      let targetFile = resolved;
      if (statSync(full).isDirectory()) targetFile = path.posix.join(resolved, 'README.md');
      if (targetFile.endsWith('.md') && existsSync(path.join(root, targetFile))) {
        if (!docAt(targetFile).anchors.has(anchor)) {
          report(`${targetFile} has no heading with anchor #${anchor}`);
        }
      } else if (/^L\d+(-L\d+)?$/.test(anchor)) {
        const lineCount = readFileSync(path.join(root, targetFile), 'utf8').split('\n').length;
        const last = Number(anchor.split('-').at(-1)!.slice(1));
        if (last > lineCount) report(`${targetFile} has only ${lineCount} lines`);
      } else {
        report(`an anchor into ${targetFile}, which is not Markdown; only #L<line> anchors can be checked there`);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------- commands

export interface DocCommand {
  file: string;
  line: number;
  /** As written, without the prompt, continuation lines joined. */
  text: string;
  /** The output lines shown under it (console blocks), or null when none is shown. */
  output: string[] | null;
  /** The block's marker: null, 'skip', 'output-varies', 'ignore' or 'needs-step NN'. */
  marker: string | null;
  lang: string;
}

export const SHELL_LANGS = new Set(['console', 'shell-session', 'sh', 'bash', 'shell', 'zsh']);
export const MARKERS = new Set(['skip', 'output-varies', 'ignore', 'needs-step NN']);
const isKnownMarker = (marker: string) => MARKERS.has(marker) || /^needs-step \d\d$/.test(marker);

export function extractCommands(doc: MarkdownDoc): { commands: DocCommand[]; problems: Problem[] } {
  const commands: DocCommand[] = [];
  const problems: Problem[] = [];
  for (const block of doc.blocks) {
    if (block.marker !== null && !isKnownMarker(block.marker)) {
      problems.push({ file: doc.file, line: block.line, message: `unknown marker 'docs-check: ${block.marker}' (known: ${[...MARKERS].join(', ')})` });
    }
    if (!SHELL_LANGS.has(block.lang)) continue;
    const session = block.lang === 'console' || block.lang === 'shell-session';
    let current: DocCommand | null = null;
    let continued = false;
    for (const { text, line } of block.lines) {
      if (continued && current) {
        current.text = current.text.slice(0, -1).trimEnd() + ' ' + text.trim();
        continued = current.text.endsWith('\\');
        continue;
      }
      const prompt = session ? /^\s*\$ (.*)$/.exec(text) : null;
      const isCommand = session ? prompt !== null : text.trim() !== '' && !text.trim().startsWith('#');
      if (isCommand) {
        current = {
          file: doc.file, line, text: (prompt ? prompt[1]! : text).trim(), output: session ? [] : null,
          marker: block.marker, lang: block.lang,
        };
        commands.push(current);
        continued = current.text.endsWith('\\');
      } else if (session && current) {
        current.output!.push(text);
      }
    }
  }
  for (const command of commands) {
    if (command.output) {
      while (command.output.length > 0 && command.output.at(-1)!.trim() === '') command.output.pop();
      if (command.output.length === 0) command.output = null;
    }
  }
  return { commands, problems };
}

/** A simple command: words, after the `VAR=value` assignments before them. */
export interface SimpleCommand {
  env: Record<string, string>;
  words: string[];
}

export interface ShellLine {
  /** The simple commands, split at `&&`, `||`, `;`, `|` and `&`. */
  commands: SimpleCommand[];
  /** True when the line is one simple command, no pipes, redirections or substitutions: safe to run. */
  simple: boolean;
}

/** Splits a shell line into words the way sh would (quotes, backslashes, operators). */
export function parseShellLine(line: string): ShellLine {
  const commands: SimpleCommand[] = [];
  let words: string[] = [];
  let word: string | null = null;
  let simple = true;
  const endWord = () => {
    if (word !== null) words.push(word);
    word = null;
  };
  const endCommand = () => {
    endWord();
    const env: Record<string, string> = {};
    while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) {
      const [name, ...value] = words.shift()!.split('=');
      env[name!] = value.join('=');
    }
    if (words.length > 0) commands.push({ env, words });
    words = [];
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      word = (word ?? '') + line.slice(i + 1, end === -1 ? line.length : end);
      i = end === -1 ? line.length : end;
    } else if (c === '"') {
      word = word ?? '';
      for (i++; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\' && '"\\$`'.includes(line[i + 1] ?? '')) i++;
        else if (line[i] === '$' || line[i] === '`') simple = false;
        word += line[i];
      }
    } else if (c === '\\') {
      word = (word ?? '') + (line[i + 1] ?? '');
      i++;
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else if (c === '#' && word === null) {
      break; // a comment
    } else if ('&|;'.includes(c)) {
      if (commands.length > 0 || words.length > 0 || word !== null) simple = false;
      endCommand();
      if (line[i + 1] === c) i++;
    } else if ('<>'.includes(c)) {
      simple = false;
      endWord();
      // the redirection's target is not a word of the command
      while (line[i + 1] === '>' || line[i + 1] === '&' || /\d/.test(line[i + 1] ?? '')) i++;
      while (line[i + 1] === ' ') i++;
      let target = '';
      while (i + 1 < line.length && !' \t;&|'.includes(line[i + 1]!)) target += line[++i];
      void target;
    } else {
      if (c === '$' || c === '`' || c === '*' || c === '?') simple = false;
      word = (word ?? '') + c;
    }
  }
  endCommand();
  return { commands, simple: simple && commands.length === 1 };
}

// What a command runs, once npm and tsx are looked through.
export interface Invocation {
  /** Our program's file (from the repository root), or null for another program. */
  program: string | null;
  /** For `npm run X`: X. */
  script: string | null;
  /** The arguments the program gets. */
  args: string[];
  /** A step server started by this command (its number), with its arguments. */
  startsStep: { step: string; args: string[] } | null;
}

interface PackageJson {
  scripts: Record<string, string>;
}

export class CommandChecker {
  private readonly pkg: PackageJson;
  private readonly steps = listSteps();
  private readonly helpCache = new Map<string, Promise<HelpInfo>>();

  constructor(private readonly root = ROOT) {
    this.pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as PackageJson;
  }

  stepExists(name: string): boolean {
    const wanted = /^\d$/.test(name) ? `0${name}` : name;
    return this.steps.some((s) => s.name === wanted || s.number === wanted);
  }

  stepServer(name: string): string {
    const wanted = /^\d$/.test(name) ? `0${name}` : name;
    const step = this.steps.find((s) => s.name === wanted || s.number === wanted)!;
    return path.relative(this.root, step.server).split(path.sep).join('/');
  }

  /** The program a script runs: `tsx FILE` or `node [flags] FILE`; null when it is more than that. */
  scriptProgram(script: string): string | null {
    const body = this.pkg.scripts[script];
    if (body === undefined || /&&|\|\||;|\$\(|`/.test(body)) return null;
    const words = body.trim().split(/\s+/);
    if (words[0] !== 'tsx' && words[0] !== 'node') return null;
    return words.find((w) => /\.(ts|mts|js|mjs)$/.test(w)) ?? null;
  }

  /** Looks through npm, npx and tsx to the program and its arguments. */
  resolve(words: string[]): { invocation: Invocation | null; problems: string[] } {
    const problems: string[] = [];
    const [head, ...rest] = words;
    let script: string | null = null;
    let program: string | null = null;
    let args: string[] = [];
    if (head === 'npm') {
      const sub = rest[0];
      if (sub === 'run' || sub === 'run-script') {
        script = rest[1] ?? null;
        if (script === null) return { invocation: null, problems };
        args = rest.slice(2);
      } else if (sub === 'start' || sub === 'test' || sub === 't') {
        script = sub === 't' ? 'test' : sub;
        args = rest.slice(1);
      } else {
        return { invocation: null, problems }; // npm ci, npm install...: npm's own business
      }
      if (this.pkg.scripts[script] === undefined) {
        problems.push(`npm script '${script}' does not exist (package.json has: ${Object.keys(this.pkg.scripts).join(', ')})`);
        return { invocation: null, problems };
      }
      const separator = args.indexOf('--');
      const beforeSeparator = separator === -1 ? args : args.slice(0, separator);
      const flag = beforeSeparator.find((a) => a.startsWith('-'));
      if (flag !== undefined) {
        problems.push(`'${flag}' before '--' goes to npm, not to the program: write npm run ${script} -- ${flag}`);
        return { invocation: null, problems };
      }
      args = separator === -1 ? args : args.slice(separator + 1);
      program = this.scriptProgram(script);
    } else if (head === 'npx' && rest[0] === 'tsx') {
      [program, ...args] = rest.slice(1);
    } else if (head === 'tsx') {
      [program, ...args] = rest;
    } else if (head === 'node') {
      let i = 0;
      while (i < rest.length && rest[i]!.startsWith('-')) i += rest[i] === '--import' || rest[i] === '-r' ? 2 : 1;
      program = rest[i] ?? null;
      args = rest.slice(i + 1);
    } else {
      return { invocation: { program: null, script: null, args: rest, startsStep: null }, problems };
    }
    if (head === 'node' && rest.includes('--test')) {
      // `node --test FILES...`: test files, maybe shell globs; each must match something.
      for (const pattern of [program, ...args].filter((word): word is string => typeof word === 'string')) {
        if (!globMatchesAFile(this.root, pattern)) problems.push(`${pattern} matches no file`);
      }
      return { invocation: null, problems };
    }
    if (program !== undefined && program !== null) {
      program = program.replace(/^\.\//, '');
      if (!existsSync(path.join(this.root, program))) {
        problems.push(`${program} does not exist`);
        return { invocation: null, problems };
      }
    } else {
      program = null;
    }

    let startsStep: Invocation['startsStep'] = null;
    if (program === 'tester/course/run-step.ts') {
      const step = args[0];
      if (step === undefined || step.startsWith('-')) return { invocation: { program, script, args, startsStep }, problems };
      if (!this.stepExists(step)) {
        problems.push(`step '${step}' does not exist (steps: ${this.steps.map((s) => s.name).join(', ')})`);
        return { invocation: null, problems };
      }
      program = this.stepServer(step);
      args = args.slice(1);
    }
    const stepMatch = program === null ? null : /^steps\/(\d\d)-[^/]+\/server\.ts$/.exec(program);
    if (stepMatch && !args.includes('--help') && !args.includes('-h')) startsStep = { step: stepMatch[1]!, args };
    return { invocation: { program, script, args, startsStep }, problems };
  }

  /** The static checks of one command; resolves to a list of problems in plain words. */
  async check(words: string[]): Promise<string[]> {
    const { invocation, problems } = this.resolve(words);
    for (const word of words) {
      const file = word.replace(/^\.\//, '');
      if (/^(steps|shared|tester|docs|\.ci)\//.test(file) && !/[*?$<>{]/.test(file) && !existsSync(path.join(this.root, file))) {
        if (!problems.some((p) => p.startsWith(`${file} does not exist`))) problems.push(`${file} does not exist`);
      }
    }
    if (invocation === null) return problems;
    const { program, script, args } = invocation;
    // Steps named as values of --step, or as the arguments of the scripts that take steps.
    const stepArgs: string[] = [];
    args.forEach((arg, i) => {
      if (arg === '--step' && args[i + 1] !== undefined) stepArgs.push(args[i + 1]!);
      else if (arg.startsWith('--step=')) stepArgs.push(arg.slice('--step='.length));
    });
    if (script === 'diff' || script === 'compare' || script === 'test:step') {
      stepArgs.push(...args.filter((a) => /^\d{1,2}(-[a-z0-9-]+)?$/.test(a)));
    }
    for (const step of stepArgs) {
      for (const one of step.split(',')) {
        if (!this.stepExists(one)) problems.push(`step '${one}' does not exist (steps: ${this.steps.map((s) => s.name).join(', ')})`);
      }
    }
    if (program === null || script === 'test:step') return problems;
    const flags = args.filter((a) => /^--[a-z]/.test(a)).map((a) => a.split('=')[0]!);
    if (flags.length === 0) return problems;
    const help = await this.help(program);
    if (help.flags === null) {
      problems.push(`cannot check ${flags.join(' ')}: '${program} --help' lists no options (${help.error})`);
      return problems;
    }
    for (const flag of flags) {
      if (flag !== '--help' && !help.flags.has(flag)) {
        problems.push(`${program} has no option ${flag} (its options: ${[...help.flags].join(' ')})`);
      }
    }
    return problems;
  }

  /** The options a program's `--help` lists (shared/cli/options.ts prints them as `  --name ...`). */
  help(program: string): Promise<HelpInfo> {
    let cached = this.helpCache.get(program);
    if (!cached) {
      cached = run(process.execPath, ['--import', 'tsx', program, '--help'], { cwd: this.root }).then((result) => {
        const flags = new Set([...result.stdout.matchAll(/^\s+(--[a-z0-9][a-z0-9-]*)/gm)].map((m) => m[1]!));
        if (result.code !== 0 || flags.size === 0) {
          return { flags: null, error: `exit ${result.code}: ${(result.stderr || result.stdout).trim().split('\n')[0] ?? ''}` };
        }
        return { flags, error: null };
      });
      this.helpCache.set(program, cached);
    }
    return cached;
  }
}

interface HelpInfo {
  flags: Set<string> | null;
  error: string | null;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * How long a command run for real may take. `npm run diff` takes 3 s on a quiet
 * machine, and went past 30 s at a load average of 30 (a full npm test beside
 * four benchmarking helpers): the bound is for a hang, not for a slow machine.
 */
const RUN_TIMEOUT_MS = 120_000;

export function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd, env: { ...process.env, ...options.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${options.timeoutMs ?? RUN_TIMEOUT_MS} ms)`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? RUN_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + error.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

// ------------------------------------------------------- running for real

/** Which commands the check runs for real, and how. */
export type RunPlan =
  | { kind: 'help' | 'diff' }
  | { kind: 'server'; portIndex: number | null; tool: 'redis-cli' | 'client' };

// redis-cli options that take a value, and modes that never end or need a Redis.
const REDIS_CLI_VALUE_OPTIONS = new Set(['-h', '-p', '-s', '-a', '-u', '-r', '-i', '-n', '-d', '-D', '--user', '--pass']);
const REDIS_CLI_LONG_MODES = /^(--stat|--latency.*|--bigkeys|--memkeys|--hotkeys|--scan|--pipe.*|--rdb|--functions-rdb|--replica|--slave|--eval|--cluster|-x|-r|-i)$/;
const LONG_RUNNING_COMMANDS = new Set(['MONITOR', 'SUBSCRIBE', 'PSUBSCRIBE', 'SHUTDOWN', 'SYNC', 'PSYNC', 'DEBUG', 'WORK']);

export function planRun(words: string[], invocation: Invocation | null): RunPlan | null {
  if (words[0] === 'redis-cli') {
    const args = words.slice(1);
    let i = 0;
    let portIndex: number | null = null;
    while (i < args.length && args[i]!.startsWith('-')) {
      if (REDIS_CLI_LONG_MODES.test(args[i]!)) return null;
      if (args[i] === '-p') portIndex = i + 2; // index in `words`
      i += REDIS_CLI_VALUE_OPTIONS.has(args[i]!) ? 2 : 1;
    }
    const command = args[i]?.toUpperCase();
    if (command === undefined || LONG_RUNNING_COMMANDS.has(command) || portIndex === null) return null;
    return { kind: 'server', portIndex, tool: 'redis-cli' };
  }
  if (invocation === null || invocation.program === null) return null;
  if (invocation.args.includes('--help') || invocation.args.includes('-h')) return { kind: 'help' };
  if (invocation.script === 'diff' || invocation.program === 'tester/course/diff-steps.ts') return { kind: 'diff' };
  if (invocation.program === 'shared/client/client.ts') {
    // One-shot: options, then a command. Without a command the client is interactive.
    const portAt = words.indexOf('--port');
    const args = invocation.args;
    let i = 0;
    while (i < args.length && args[i]!.startsWith('--')) i += args[i]!.includes('=') || args[i] === '--quiet' ? 1 : 2;
    const command = args[i]?.toUpperCase();
    if (command === undefined || LONG_RUNNING_COMMANDS.has(command) || portAt === -1) return null;
    return { kind: 'server', portIndex: portAt + 1, tool: 'client' };
  }
  return null;
}

/** Output as compared: no npm banner, ports and trailing spaces evened out. */
export function normalizeOutput(text: string | string[]): string {
  const lines = (Array.isArray(text) ? text : text.split('\n')).map((l) => l.replace(/\r$/, '').trimEnd());
  const kept: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    // npm run prints "> package@version script" and "> the command", then a blank line.
    if (/^> \S+@\S+ \S+/.test(lines[i]!) && lines[i + 1]?.startsWith('> ')) {
      i += lines[i + 2] === '' ? 2 : 1;
      continue;
    }
    kept.push(lines[i]!.replace(/\b(127\.0\.0\.1|localhost):\d+/g, '$1:PORT'));
  }
  while (kept.length > 0 && kept[0] === '') kept.shift();
  while (kept.length > 0 && kept.at(-1) === '') kept.pop();
  return kept.join('\n');
}

export interface CheckReport {
  problems: Problem[];
  /** How many commands were checked statically, and run. */
  checked: number;
  ran: Array<{ file: string; line: number; text: string }>;
  /** Commands in `needs-step NN` blocks whose step does not exist yet: not checked. */
  pending: Array<{ file: string; line: number; text: string }>;
}

/** Checks every command in `docs`: statically, and the runnable ones for real. */
export async function checkCommands(
  docs: MarkdownDoc[],
  options: { run: boolean; root?: string; strict?: boolean },
): Promise<CheckReport> {
  const root = options.root ?? ROOT;
  const checker = new CommandChecker(root);
  const report: CheckReport = { problems: [], checked: 0, ran: [], pending: [] };
  const perDoc = docs.map(async (doc) => {
    const { commands, problems } = extractCommands(doc);
    report.problems.push(...problems);
    let currentStep: { step: string; args: string[] } | null = null;
    let server: RunningServer | null = null;
    let serverFor: string | null = null;
    try {
      for (const command of commands) {
        if (command.marker === 'ignore') continue;
        // `needs-step 05`: written ahead of step 05; checked in full once it exists.
        const needs = /^needs-step (\d\d)$/.exec(command.marker ?? '');
        if (needs && !checker.stepExists(needs[1]!)) {
          report.pending.push({ file: doc.file, line: command.line, text: command.text });
          if (options.strict) {
            report.problems.push({ file: doc.file, line: command.line, message: `\`${command.text}\`: written for step ${needs[1]}, which does not exist yet` });
          }
          continue;
        }
        const problem = (message: string) => report.problems.push({ file: doc.file, line: command.line, message: `\`${command.text}\`: ${message}` });
        const line = parseShellLine(command.text);
        report.checked++;
        let wrong = false;
        for (const simple of line.commands) {
          for (const message of await checker.check(simple.words)) {
            problem(message);
            wrong = true;
          }
        }
        if (line.commands.length !== 1 || wrong) continue;
        const { words, env } = line.commands[0]!;
        const { invocation } = checker.resolve(words);
        if (invocation?.startsStep) currentStep = invocation.startsStep;
        if (!options.run || !line.simple || command.marker === 'skip') continue;
        const plan = planRun(words, invocation);
        if (plan === null) continue;
        const argv = [...words];
        if (plan.kind === 'server') {
          if (currentStep === null) continue; // the doc started no step: nothing to talk to
          const key = JSON.stringify(currentStep);
          if (serverFor !== key) {
            await server?.stop();
            const serverArgs = withoutPort(currentStep.args);
            try {
              server = await launchServer(path.join(root, checker.stepServer(currentStep.step)), { args: [...serverArgs, '--quiet'] });
            } catch (caught) {
              problem(`could not start step ${currentStep.step} to run this: ${(caught as Error).message.split('\n')[0]}`);
              server = null;
            }
            serverFor = key;
          }
          if (server === null) continue;
          if (plan.portIndex !== null) argv[plan.portIndex] = String(server.port);
          if (plan.tool === 'redis-cli' && !argv.includes('--raw') && !argv.includes('--no-raw')) {
            argv.splice(1, 0, '--no-raw'); // the format a terminal shows, as pasted in docs
          }
        }
        const result = await run(argv[0]!, argv.slice(1), { cwd: root, env });
        report.ran.push({ file: doc.file, line: command.line, text: command.text });
        if (result.code !== 0) {
          problem(`exited with ${result.code}: ${(result.stderr || result.stdout).trim().split('\n').slice(-3).join(' | ')}`);
          continue;
        }
        if (command.output !== null && command.marker !== 'output-varies') {
          const expected = normalizeOutput(command.output);
          const actual = normalizeOutput(result.stdout);
          if (expected !== actual) {
            problem(`the output shown differs from a real run (mark the block <!-- docs-check: output-varies --> if it must)\n${showDifference(expected, actual)}`);
          }
        }
      }
    } finally {
      await server?.stop();
    }
  });
  await Promise.all(perDoc);
  report.problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  return report;
}

function withoutPort(args: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--port') i++;
    else if (!args[i]!.startsWith('--port=')) kept.push(args[i]!);
  }
  return kept;
}

function showDifference(expected: string, actual: string): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  let first = 0;
  while (first < a.length && first < b.length && a[first] === b[first]) first++;
  return [
    `    first difference at output line ${first + 1}:`,
    `    doc shows: ${JSON.stringify(a[first] ?? '(nothing)')}`,
    `    real run:  ${JSON.stringify(b[first] ?? '(nothing)')}`,
  ].join('\n');
}

// -------------------------------------------------------------------- main

export function loadDocs(root = ROOT): MarkdownDoc[] {
  return markdownFiles(root).map((file) => parseMarkdown(file, readFileSync(path.join(root, file), 'utf8')));
}

async function main(): Promise<void> {
  exitWhenOutputCloses(); // `| head` ends the command quietly
  const runCommands = !process.argv.includes('--static');
  const docs = loadDocs();
  const links = checkLinks(docs);
  const commands = await checkCommands(docs, { run: runCommands, strict: process.argv.includes('--strict') });
  const problems = [...links, ...commands.problems];
  for (const problem of problems) console.log(formatProblem(problem));
  console.log(`${docs.length} Markdown files, ${docs.reduce((n, d) => n + d.links.length, 0)} links, `
    + `${commands.checked} commands checked, ${commands.ran.length} run for real, `
    + `${commands.pending.length} waiting for a step that does not exist yet: `
    + `${problems.length === 0 ? 'no problems' : `${problems.length} problem(s)`}`);
  process.exit(problems.length === 0 ? 0 : 1);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();

/** Whether a path, or a shell glob with `*` in its last part, names at least one existing file. */
function globMatchesAFile(root: string, pattern: string): boolean {
  const file = pattern.replace(/^\.\//, '');
  if (!file.includes('*')) return existsSync(path.join(root, file));
  const dir = path.dirname(file);
  if (dir.includes('*')) return true; // deeper globs: leave them to the shell
  const matcher = new RegExp(`^${path.basename(file).split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return existsSync(path.join(root, dir)) && readdirSync(path.join(root, dir)).some((name) => matcher.test(name));
}
