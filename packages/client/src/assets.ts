// The project's static site (/assets/admin/v1): publish files (text or bytes), list, remove, and read or change
// the site settings. Publishing needs the project's service_role key (or a platform token): server-side use only.
import { call, type Http } from './http.js';

export interface AssetFile {
  path: string;
  url: string;
  size: number;
  etag: string;
  content_type: string;
  updated_at: string;
}

const base64 = (bytes: Uint8Array) => {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};

export function assetsClient(h: Http) {
  return {
    /** text is sent as UTF-8, bytes as base64; answers each file with its public URL */
    upload: (files: { path: string; content: string | Uint8Array }[]) =>
      call<{ files: AssetFile[] }>(h, 'POST', '/assets/admin/v1/upload', {
        files: files.map((f) => (typeof f.content === 'string' ? { path: f.path, content: f.content, encoding: 'utf8' } : { path: f.path, content: base64(f.content), encoding: 'base64' })),
      }).then((r) => r.files),
    list: () => call<{ files: AssetFile[] }>(h, 'GET', '/assets/admin/v1/files').then((r) => r.files),
    remove: (path: string) => call<{ deleted: string }>(h, 'DELETE', `/assets/admin/v1/files/${path.split('/').map(encodeURIComponent).join('/')}`),
    settings: () => call<Record<string, unknown>>(h, 'GET', '/assets/admin/v1/settings'),
    updateSettings: (settings: Record<string, unknown>) => call<Record<string, unknown>>(h, 'PATCH', '/assets/admin/v1/settings', settings),
  };
}

export type AssetsClient = ReturnType<typeof assetsClient>;
