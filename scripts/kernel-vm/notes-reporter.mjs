// A vitest reporter for the guest run (scripts/kernel-vm/test). For every test that did not
// pass it writes what vitest's JSON report leaves out or garbles -- the reason a test gave
// for skipping (`ctx.skip(reason)`) and the first line of a failure's message (the JSON
// report says "STACK_TRACE_ERROR" for a timeout) -- to target/vitest-kernel-notes.json, so
// that scripts/kernel-vm/summarize.mjs can say why.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

export default class KernelNotesReporter {
  onInit(vitest) {
    this.root = vitest.config.root;
    this.file = resolve(this.root, 'target/vitest-kernel-notes.json');
  }

  onTestRunEnd(testModules) {
    const notes = [];
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') continue;
        const error = result.errors?.[0];
        notes.push({
          file: relative(this.root, mod.moduleId),
          fullName: test.fullName,
          state: result.state,
          note: result.note ?? null,
          error: error ? `${error.name ?? 'Error'}: ${String(error.message ?? '').split('\n')[0]}` : null,
        });
      }
    }
    mkdirSync(dirname(this.file), { recursive: true });
    writeFileSync(this.file, `${JSON.stringify(notes, null, 2)}\n`);
  }
}
