// The OAuth providers this service knows, by name.
import { github } from './github.js';
import { google } from './google.js';
import type { OAuthProvider } from './provider.js';

export const PROVIDERS: Record<string, OAuthProvider> = { github, google };
export type { OAuthProvider, ProviderUser } from './provider.js';
