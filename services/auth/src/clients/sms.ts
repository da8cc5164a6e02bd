// Texts through the project's SMS provider, on each provider's own wire (as GoTrue's sms_provider package sends
// them), always through the egress policy. Each answers the provider's message id or throws SmsError with the
// provider's reason. `api_base_url` replaces the provider's origin (a compatible gateway, or a test's stand-in).
import { egressFetch, type EgressPolicy } from '@basalt/egress';
import type { SmsSettings } from '../domain/settings.js';

export class SmsError extends Error {}

const TIMEOUT_MS = 10_000;

async function post(url: string, form: Record<string, string>, headers: Record<string, string>, egress: EgressPolicy): Promise<{ status: number; json: any }> {
  const r = await egressFetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers },
    body: new URLSearchParams(form).toString(),
    policy: egress,
    timeoutMs: TIMEOUT_MS,
    redirect: 'error',
  });
  const text = await r.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    throw new SmsError(`the provider answered ${r.status} with a body that is not JSON`);
  }
  return { status: r.status, json };
}

const join = (base: string | undefined, fallback: string, path: string) => `${(base ?? fallback).replace(/\/+$/, '')}${path}`;

/** Sends `message` to `phone` (E.164 digits, no +); returns the provider's message id. */
export async function sendSms(sms: SmsSettings, phone: string, message: string, egress: EgressPolicy): Promise<string> {
  switch (sms.provider) {
    case 'twilio': {
      const t = sms.twilio!;
      const url = join(t.api_base_url, 'https://api.twilio.com', `/2010-04-01/Accounts/${encodeURIComponent(t.account_sid)}/Messages.json`);
      const auth = `Basic ${Buffer.from(`${t.account_sid}:${t.auth_token}`).toString('base64')}`;
      const r = await post(url, { To: `+${phone}`, Channel: 'sms', From: t.message_service_sid, Body: message }, { authorization: auth }, egress);
      if (Math.floor(r.status / 100) !== 2) throw new SmsError(`twilio error: ${r.json?.message ?? `HTTP ${r.status}`} (code ${r.json?.code ?? r.status})`);
      if (r.json?.status === 'failed' || r.json?.status === 'undelivered') {
        throw new SmsError(`twilio error: ${r.json.error_message ?? ''} ${r.json.error_code ?? ''} for message ${r.json.sid}`.trim());
      }
      return String(r.json?.sid ?? '');
    }
    case 'messagebird': {
      const m = sms.messagebird!;
      const r = await post(join(m.api_base_url, 'https://rest.messagebird.com', '/messages'),
        { originator: m.originator, body: message, recipients: phone, type: 'sms', datacoding: 'unicode' },
        { authorization: `AccessKey ${m.access_key}` }, egress);
      if (Math.floor(r.status / 100) !== 2) {
        const e = r.json?.errors?.[0];
        throw new SmsError(`messagebird error: ${e?.description ?? `HTTP ${r.status}`} (code: ${e?.code ?? r.status})`);
      }
      if (!r.json?.recipients?.totalSentCount) throw new SmsError('messagebird error: total sent count is 0');
      return String(r.json.id ?? '');
    }
    case 'vonage': {
      const v = sms.vonage!;
      const r = await post(join(v.api_base_url, 'https://rest.nexmo.com', '/sms/json'),
        { from: v.from, to: phone, text: message, api_key: v.api_key, api_secret: v.api_secret, ...(/[\u0080-\uffff]/.test(message) ? { type: 'unicode' } : {}) },
        {}, egress);
      const first = r.json?.messages?.[0];
      if (Math.floor(r.status / 100) !== 2 || !first) throw new SmsError(`vonage error: HTTP ${r.status}`);
      if (first.status !== '0') throw new SmsError(`vonage error: ${first['error-text'] ?? 'unknown'} (status: ${first.status})`);
      return String(first['message-id'] ?? '');
    }
    case 'textlocal': {
      const t = sms.textlocal!;
      const r = await post(join(t.api_base_url, 'https://api.txtlocal.com', '/send'), { sender: t.sender, apikey: t.api_key, message, numbers: phone }, {}, egress);
      if (r.json?.status !== 'success') {
        const e = r.json?.errors?.[0];
        throw new SmsError(`textlocal error: ${e?.message ?? `HTTP ${r.status}`} (code: ${e?.code ?? r.status})`);
      }
      return String(r.json?.messages?.[0]?.id ?? r.json?.batch_id ?? '');
    }
  }
}
