/**
 * A small netrc reader, enough for what `wandb login` writes (`machine host[:port] login user password
 * key`) and for hand-edited files: `default` entries, `account`, `macdef` blocks and `#` comments.
 * Python's netrc module is the reference: the first entry for a machine wins, `default` is the fallback.
 */
export interface NetrcEntry {
  login: string | null;
  password: string | null;
  account: string | null;
}

export interface Netrc {
  machines: Map<string, NetrcEntry>;
  default: NetrcEntry | null;
}

export function parseNetrc(text: string): Netrc {
  const tokens = tokenize(text);
  const machines = new Map<string, NetrcEntry>();
  let fallback: NetrcEntry | null = null;
  let i = 0;
  while (i < tokens.length) {
    const tok = tokens[i++];
    if (tok === 'macdef') {
      // A macro body runs to the next blank line; the tokenizer marks those with '\n\n'.
      while (i < tokens.length && tokens[i] !== BLANK_LINE) i++;
      continue;
    }
    if (tok !== 'machine' && tok !== 'default') continue;
    const name = tok === 'machine' ? tokens[i++] : undefined;
    const entry: NetrcEntry = { login: null, password: null, account: null };
    while (i < tokens.length) {
      const key = tokens[i];
      if (key === 'machine' || key === 'default' || key === 'macdef') break;
      i++;
      if (key === BLANK_LINE) continue;
      const value = tokens[i];
      if (key === 'login' || key === 'password' || key === 'account') {
        if (value === undefined || value === BLANK_LINE) break;
        entry[key] = value;
        i++;
      }
    }
    if (tok === 'default') fallback ??= entry;
    else if (name !== undefined && name !== BLANK_LINE && !machines.has(name)) machines.set(name, entry);
  }
  return { machines, default: fallback };
}

/** The entry for `machine`, else the `default` entry, else null. */
export function netrcLookup(netrc: Netrc, machine: string): NetrcEntry | null {
  return netrc.machines.get(machine) ?? netrc.default;
}

const BLANK_LINE = '\n\n';

function tokenize(text: string): string[] {
  const out: string[] = [];
  const lines = text.split(/\r?\n/);
  for (const line of lines) {
    if (line.trim() === '') {
      out.push(BLANK_LINE);
      continue;
    }
    let j = 0;
    while (j < line.length) {
      const ch = line[j]!;
      if (ch === ' ' || ch === '\t') {
        j++;
        continue;
      }
      // '#' starts a comment only at the beginning of a token, so passwords may contain '#'.
      if (ch === '#') break;
      if (ch === '"') {
        let k = j + 1;
        let value = '';
        while (k < line.length && line[k] !== '"') {
          if (line[k] === '\\' && k + 1 < line.length) k++;
          value += line[k];
          k++;
        }
        out.push(value);
        j = k + 1;
        continue;
      }
      let k = j;
      while (k < line.length && line[k] !== ' ' && line[k] !== '\t') k++;
      out.push(line.slice(j, k));
      j = k;
    }
  }
  return out;
}
