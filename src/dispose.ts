// Node 20 before 20.4 has no Symbol.asyncDispose: TypeScript's `await using` then looks the
// method up under Symbol.for('Symbol.asyncDispose'), where this puts it too.
export function disposableOnOldNode(prototype: { [Symbol.asyncDispose](): Promise<void> }): void {
  if (typeof Symbol.asyncDispose === 'symbol') return;
  Object.defineProperty(prototype, Symbol.for('Symbol.asyncDispose'), {
    value: prototype[Symbol.asyncDispose],
  });
}
