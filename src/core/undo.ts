/** A stack of compensating actions: push after each side effect, unwind in reverse on failure. */
import type { Logger } from './log';

export class UndoStack {
  private readonly actions: { label: string; fn: () => Promise<void> | void }[] = [];

  push(label: string, fn: () => Promise<void> | void): void {
    this.actions.push({ label, fn });
  }

  /** Forget everything pushed so far (the operation committed). */
  commit(): void {
    this.actions.length = 0;
  }

  get size(): number {
    return this.actions.length;
  }

  /** Run every action in reverse order; failures are logged, never thrown, never mask the original error. */
  async unwind(log?: Logger): Promise<void> {
    while (this.actions.length > 0) {
      const a = this.actions.pop()!;
      try {
        await a.fn();
      } catch (err) {
        log?.warn({ err }, `rollback step "${a.label}" failed`);
      }
    }
  }

  /** Run `body` with a fresh stack; on throw, unwind and rethrow the original error. */
  static async run<T>(body: (undo: UndoStack) => Promise<T>, log?: Logger): Promise<T> {
    const undo = new UndoStack();
    try {
      const result = await body(undo);
      undo.commit();
      return result;
    } catch (err) {
      await undo.unwind(log);
      throw err;
    }
  }
}
