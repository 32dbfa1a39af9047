/** Just enough of an nft script parser for assertions: leading commands, tables, and each chain's header and rules. */
export interface ParsedChain {
  header?: string;
  rules: string[];
}
export interface ParsedScript {
  commands: string[];
  tables: Map<string, Map<string, ParsedChain>>;
}

export function parseNft(script: string): ParsedScript {
  const out: ParsedScript = { commands: [], tables: new Map() };
  let table: Map<string, ParsedChain> | undefined;
  let chain: ParsedChain | undefined;
  for (const raw of script.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let m: RegExpExecArray | null;
    if ((m = /^table (\S+ \S+) \{$/.exec(line))) {
      table = new Map();
      out.tables.set(m[1], table);
    } else if ((m = /^chain (\S+) \{$/.exec(line))) {
      if (!table) throw new Error(`chain outside a table: ${line}`);
      chain = { rules: [] };
      table.set(m[1], chain);
    } else if (line === '}') {
      if (chain) chain = undefined;
      else table = undefined;
    } else if (chain) {
      if (line.startsWith('type ')) chain.header = line;
      else chain.rules.push(line);
    } else if (!table) {
      out.commands.push(line);
    } else {
      throw new Error(`unexpected line inside a table: ${line}`);
    }
  }
  if (table || chain) throw new Error('unbalanced braces');
  return out;
}
