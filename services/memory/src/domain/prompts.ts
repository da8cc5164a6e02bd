// The two prompts of inference (after mem0's classic pipeline): fact extraction, then one decision per fact
// against the similar memories already stored, whose ids are replaced by small integers so none can be invented.
import type { ChatMessage } from '../clients/models.js';
import type { TextMessage } from './input.js';

export const EXTRACTION_MARKER = 'You extract durable facts';
export const DECISION_MARKER = 'You maintain a memory store';

export function extractionPrompt(messages: TextMessage[], today: string, instructions: string | null): ChatMessage[] {
  const system = `${EXTRACTION_MARKER} about the user (preferences, personal details, plans, relationships, health,
work, opinions) from a conversation, so an assistant can remember them later. Today is ${today}; resolve relative dates.
Write each fact as one short standalone sentence in the language of the conversation. Skip greetings, small talk and
anything the assistant said that the user did not confirm. Name the entities (people, places, organisations, products)
each fact mentions.
${instructions ? `Additional instructions from the application: ${instructions}\n` : ''}
Answer with JSON only: {"facts": [{"text": "...", "entities": [{"name": "...", "type": "person|place|organization|product|other"}]}]}
Answer {"facts": []} when there is nothing worth remembering.`;
  const conversation = messages.map((m) => `${m.role}: ${m.content}`).join('\n');
  return [{ role: 'system', content: system }, { role: 'user', content: `Conversation:\n${conversation}` }];
}

export function decisionPrompt(existing: { id: string; text: string }[], facts: string[]): ChatMessage[] {
  const system = `${DECISION_MARKER}. Compare the new facts with the existing memories and decide, for each, one event:
- ADD: the fact is new information; give it as text (its id is ignored).
- UPDATE: the fact refines or changes an existing memory about the same thing; keep that memory's id, give the merged
  text, and the previous text as old_memory.
- DELETE: the fact contradicts an existing memory so that it is no longer true; give that memory's id.
- NONE: the information is already stored or irrelevant; give the existing id when there is one.
Only use ids that appear in the existing memories.
Answer with JSON only: {"memory": [{"id": "0", "text": "...", "event": "ADD|UPDATE|DELETE|NONE", "old_memory": "..."}]}`;
  const user = `Existing memories:\n${JSON.stringify(existing)}\n\nNew facts:\n${JSON.stringify(facts)}`;
  return [{ role: 'system', content: system }, { role: 'user', content: user }];
}

/** JSON from a model answer, tolerating a fenced code block around it; null when it is not JSON */
export function parseModelJson(text: string): unknown {
  const trimmed = text.trim().replace(/^```(?:json)?\s*/i, '').replace(/\s*```$/, '');
  try {
    return JSON.parse(trimmed);
  } catch {
    return null;
  }
}
