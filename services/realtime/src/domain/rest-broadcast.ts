// Broadcasts sent over HTTP (POST /api/broadcast, /api/broadcast/{topic}/events/{event}): the project's own
// publishing path. Every message is checked before any is sent, so a refused batch sends nothing.
import type { Principal, Project } from '@basalt/tenancy';
import type { Config } from '../config.js';
import { rtErrors } from '../errors.js';
import type { ChannelAuth } from './channel-auth.js';
import type { Hub } from './hub.js';
import { limitsOf } from './limits.js';

export interface RestMessage {
  topic: string;
  event: string;
  encoding: 0 | 1;
  bytes: Buffer;
  private: boolean;
}

export function restBroadcaster(deps: { config: Config; hub: Hub; channelAuth: ChannelAuth }) {
  return async function send(project: Project, caller: Principal, messages: RestMessage[]): Promise<void> {
    const limits = limitsOf(project, deps.config);
    for (const m of messages) {
      if (m.topic === '' || Buffer.byteLength(m.topic) > 200) throw rtErrors.validation('topic must be 1 to 200 bytes');
      if (m.event === '' || Buffer.byteLength(m.event) > 255) throw rtErrors.validation('event must be 1 to 255 bytes');
      if (m.bytes.length > limits.maxPayloadBytes) throw rtErrors.payloadTooLarge(limits.maxPayloadBytes);
      if (caller.role === 'service_role') continue;
      if (!limits.clientBroadcast) throw rtErrors.clientBroadcastOff();
      if (m.private && !(await deps.channelAuth.canWrite(project, caller, m.topic, 'broadcast'))) throw rtErrors.cannotWrite(m.topic);
    }
    for (const m of messages) {
      deps.hub.publish(`${project.ref}:${m.private ? 'p' : 'u'}:${m.topic}`, {
        topic: `realtime:${m.topic}`, kind: 'broadcast', userEvent: m.event, encoding: m.encoding, bytes: m.bytes, meta: '', exclude: null,
      });
    }
  };
}
