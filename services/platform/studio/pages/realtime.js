// The realtime channel inspector: joins a channel over the project's WebSocket (Phoenix protocol, as
// realtime-js speaks it) with the service_role key, shows broadcasts and presence, and sends broadcasts.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html, DataTable, Field, Form, Loading, Notice, Section, useAsync } from '../lib/ui.js';
import { platform, projectBase, serviceKey } from '../lib/api.js';

const HEARTBEAT_MS = 25_000;

function useChannel(ref, topic) {
  const [state, setState] = useState({ status: 'idle', error: null, messages: [], presence: {} });
  const ws = useRef(null);
  const seq = useRef(0);
  const push = (event, payload, t = `realtime:${topic}`) => {
    const msgRef = String(++seq.current);
    if (ws.current?.readyState === 1) ws.current.send(JSON.stringify({ topic: t, event, payload, ref: msgRef, join_ref: '1' }));
  };
  useEffect(() => {
    if (!topic) return undefined;
    let timer;
    let closed = false;
    seq.current = 0; // the join is message 1 of each socket
    setState({ status: 'connecting', error: null, messages: [], presence: {} });
    serviceKey(ref).then((key) => {
      if (closed) return;
      const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${projectBase(ref)}/realtime/v1/websocket?apikey=${encodeURIComponent(key)}&vsn=1.0.0`;
      const socket = new WebSocket(url);
      ws.current = socket;
      socket.onopen = () => {
        push('phx_join', { config: { broadcast: { self: true, ack: false }, presence: { key: 'studio' }, private: false }, access_token: key });
        timer = setInterval(() => push('heartbeat', {}, 'phoenix'), HEARTBEAT_MS);
      };
      socket.onmessage = (e) => {
        const m = JSON.parse(e.data);
        if (m.event === 'phx_reply' && m.payload?.status === 'ok' && m.ref === '1') setState((s) => ({ ...s, status: 'joined' }));
        else if (m.event === 'phx_reply' && m.payload?.status === 'error') setState((s) => ({ ...s, error: new Error(m.payload.response?.reason ?? 'join refused') }));
        else if (m.event === 'broadcast') setState((s) => ({ ...s, messages: [{ at: new Date().toLocaleTimeString(), event: m.payload.event, payload: m.payload.payload }, ...s.messages].slice(0, 200) }));
        else if (m.event === 'presence_state') setState((s) => ({ ...s, presence: m.payload }));
        else if (m.event === 'presence_diff') setState((s) => {
          const next = { ...s.presence, ...m.payload.joins };
          for (const k of Object.keys(m.payload.leaves ?? {})) if (!m.payload.joins?.[k]) delete next[k];
          return { ...s, presence: next };
        });
      };
      socket.onclose = () => !closed && setState((s) => ({ ...s, status: 'closed' }));
      socket.onerror = () => setState((s) => ({ ...s, error: new Error('WebSocket error') }));
    }, (error) => setState((s) => ({ ...s, error })));
    return () => { closed = true; clearInterval(timer); ws.current?.close(); ws.current = null; };
  }, [ref, topic]);
  return { ...state, push };
}

export default function Realtime({ ref }) {
  const stats = useAsync(() => platform(`/projects/${ref}/realtime/stats`), [ref]);
  const [topic, setTopic] = useState(null);
  const channel = useChannel(ref, topic);
  const send = ({ event, payload }) => {
    let body;
    try { body = JSON.parse(payload || '{}'); } catch { body = { text: payload }; }
    channel.push('broadcast', { type: 'broadcast', event, payload: body });
  };
  const track = ({ state }) => {
    let body;
    try { body = JSON.parse(state || '{}'); } catch { body = { status: state }; }
    channel.push('presence', { type: 'presence', event: 'track', payload: body });
  };
  const presence = Object.entries(channel.presence).flatMap(([key, v]) => (v.metas ?? []).map(({ phx_ref: _r, phx_ref_prev: _p, ...meta }) => ({ key, ...meta })));
  return html`<h1>Realtime</h1>
    <${Section} title="Connections">
      <${Loading} state=${stats} />
      ${stats.data && html`<p>${stats.data.connections} open sockets on this project.</p>`}
    </${Section}>
    <${Section} title="Channel inspector">
      <${Form} label="Join a channel" class="row" onSubmit=${({ name }) => setTopic(name.trim() || null)}>
        <${Field} label="Channel" name="name" required value=${topic ?? 'room-1'} />
        <button type="submit" class="primary">Join</button>
        ${topic && html`<button type="button" onClick=${() => setTopic(null)}>Leave</button>`}
      </${Form}>
      ${topic && html`<p role="status">Channel ${topic}: ${channel.status}</p>`}
      <${Notice} error=${channel.error} />
      ${channel.status === 'joined' && html`<div class="split">
        <${Form} label="Send a broadcast" onSubmit=${send}>
          <${Field} label="Event" name="event" value="message" required />
          <${Field} label="Payload (JSON)" name="payload" value='{"text":"hello"}' />
          <button type="submit">Broadcast</button>
        </${Form}>
        <${Form} label="Track presence" onSubmit=${track}>
          <${Field} label="Presence state (JSON)" name="state" value='{"user":"studio"}' />
          <button type="submit">Track</button>
        </${Form}>
      </div>`}
      <h3>Presence</h3>
      <${DataTable} caption="Presence" rows=${presence} empty="Nobody tracked." />
      <h3>Broadcasts</h3>
      <${DataTable} caption="Broadcasts" rows=${channel.messages} empty="No messages yet." />
    </${Section}>`;
}
