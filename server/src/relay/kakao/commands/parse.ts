// Which chat command an utterance is. The command word is matched case-insensitively after
// trimming; `/pair` takes the rest as its code, the others take nothing (`/help me` is a message
// for the agent, not a command).

export type ChatCommand =
  | { readonly name: 'pair'; readonly code: string }
  | { readonly name: 'unpair' | 'status' | 'help' | 'code' };

const BARE_COMMANDS = new Set(['unpair', 'status', 'help', 'code'] as const);

export function parseCommand(utterance: string): ChatCommand | undefined {
  const trimmed = utterance.trim();
  if (!trimmed.startsWith('/')) return undefined;
  const match = /^\/(\S+)(?:\s+([\s\S]*))?$/.exec(trimmed);
  if (!match) return undefined;
  const word = match[1]!.toLowerCase();
  const rest = (match[2] ?? '').trim();
  if (word === 'pair') return { name: 'pair', code: rest };
  if (rest === '' && BARE_COMMANDS.has(word as 'help')) {
    return { name: word as 'unpair' | 'status' | 'help' | 'code' };
  }
  return undefined;
}
