// What send() needs of a cancellation: the part of AbortSignal it uses, so an AbortSignal still fits. Cancel is
// the cheap one for a hot path: an AbortController with one listener added and removed costs about 9 µs per call
// here (EventTarget bookkeeping), a Cancel a plain object; a real AbortSignal is made only when a caller asks for
// one (fetch, a library).

export interface Cancellation {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export class Cancel implements Cancellation {
  aborted = false;
  reason: unknown = undefined;
  #listeners: (() => void)[] | null = null;
  #controller: AbortController | null = null;

  /** Cancels once (later calls are ignored) and tells every listener, then the AbortSignal if one was made. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const listeners = this.#listeners;
    this.#listeners = null;
    if (listeners) for (const l of listeners) l();
    this.#controller?.abort(reason);
  }

  /** every listener runs once: a cancellation happens once */
  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.aborted) return;
    (this.#listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    const at = this.#listeners?.indexOf(listener) ?? -1;
    if (at >= 0) this.#listeners!.splice(at, 1);
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  /** a standard AbortSignal that follows this one, for APIs that want one (made on first use) */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort(this.reason);
    }
    return this.#controller.signal;
  }
}
