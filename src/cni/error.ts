/**
 * A CNI plugin's failure, as its error result said it (SPEC.md "Error"), or a failure to run it.
 *
 * - `code`: the spec's code (1 incompatible version, 2 unsupported field, 3 unknown container,
 *   4 bad environment, 5 I/O, 6 decoding, 7 invalid config, 11 try again later, 50/51 STATUS:
 *   not available, 100+ the plugin's own, 999 internal);
 * - `plugin`: the plugin's type; `command`: ADD, DEL, CHECK, GC, STATUS or VERSION;
 * - `details`: the longer explanation, when the plugin gave one.
 */
export class CniError extends Error {
  readonly code: number;
  readonly msg: string;
  readonly details?: string;
  readonly plugin: string;
  readonly command: string;

  constructor(fields: { code: number; msg: string; details?: string; plugin: string; command: string }) {
    const details = fields.details ? `; ${fields.details}` : '';
    super(`plugin type="${fields.plugin}" failed (${fields.command.toLowerCase()}): ${fields.msg}${details}`);
    this.name = 'CniError';
    this.code = fields.code;
    this.msg = fields.msg;
    if (fields.details) this.details = fields.details;
    this.plugin = fields.plugin;
    this.command = fields.command;
  }
}
