// A rule-based stand-in for the chat model in the inference tests: extraction answers the facts a test lists
// per user message; the decision step reads the existing memories it is shown and decides like a careful model:
// the same text → NONE, "NOT x" → DELETE the memory saying x, the same topic (first two words) → UPDATE, else ADD.
import type { ChatCall } from './fake-model.js';

export type Facts = Record<string, (string | { text: string; entities: { name: string; type: string }[] })[]>;

export function decide(call: ChatCall) {
  const existing: { id: string; text: string }[] = JSON.parse(call.user.split('Existing memories:\n')[1].split('\n\nNew facts:')[0]);
  const facts: string[] = JSON.parse(call.user.split('New facts:\n')[1]);
  const topic = (t: string) => t.toLowerCase().split(/\s+/).slice(0, 2).join(' ');
  const memory = facts.map((fact) => {
    if (fact.startsWith('NOT ')) {
      const target = existing.find((m) => m.text.toLowerCase().includes(fact.slice(4).toLowerCase()));
      return target ? { id: target.id, text: target.text, event: 'DELETE' } : { id: 'x', text: fact, event: 'NONE' };
    }
    const same = existing.find((m) => m.text === fact);
    if (same) return { id: same.id, text: same.text, event: 'NONE' };
    const related = existing.find((m) => topic(m.text) === topic(fact));
    if (related) return { id: related.id, text: fact, event: 'UPDATE', old_memory: related.text };
    return { id: 'new', text: fact, event: 'ADD' };
  });
  return { memory };
}

export function brain(facts: Facts) {
  return (call: ChatCall): unknown => {
    if (call.system.startsWith('You maintain a memory store')) return decide(call);
    const said = call.user.split('\n').filter((l) => l.startsWith('user: ')).map((l) => l.slice(6));
    return { facts: said.flatMap((s) => facts[s] ?? []).map((f) => (typeof f === 'string' ? { text: f, entities: [] } : f)) };
  };
}
