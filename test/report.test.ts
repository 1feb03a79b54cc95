// The engine's report as JavaScript reads it (src/run.ts `readReport`): the short form when
// every item is done (status letters, then a position line and a JSON line per record read),
// the JSON document otherwise.
import { describe, expect, it } from 'vitest';
import { madeRecords } from '../src/chain';
import { readReport } from '../src/run';

describe('the report of a run', () => {
  it('every item done, nothing read: the letters alone', () => {
    const r = readReport('ddd');
    expect(r).toMatchObject({ ok: true, done: 3, failed: 0, undoErrors: [] });
    expect(r.items.map((i) => i.status)).toEqual(['done', 'done', 'done']);
    expect(r.records.size).toBe(0);
  });

  it('every item done, records read: their JSON kept by position, undecoded', () => {
    const a = '{"index":4,"name":"a b\\nc","kind":"veth"}';
    const b = '{"index":5,"name":"peer","kind":"veth"}';
    const r = readReport(`ddd\n1\n${a}\n2\n${b}`);
    expect(r).toMatchObject({ ok: true, done: 3 });
    expect([...r.records.keys()]).toEqual([1, 2]);
    expect(r.records.get(1)).toBe(a);
    expect(JSON.parse(r.records.get(1) as string)).toMatchObject({ name: 'a b\nc' });
    expect(r.records.get(2)).toBe(b);
    // Positions of several digits, read in full.
    expect([...readReport(`dd\n12\n${a}\n305\n${b}`).records.keys()]).toEqual([12, 305]);
  });

  it('a failure: the JSON document, records decoded', () => {
    const r = readReport(
      JSON.stringify({
        status: 'fn',
        errors: { 0: { message: 'File exists', kind: 'kernel', code: 'EEXIST', errno: 17, op: 'link.add' } },
        records: {},
        undoErrors: [],
      }),
    );
    expect(r).toMatchObject({ ok: false, done: 0, failed: 1 });
    expect(r.items.map((i) => i.status)).toEqual(['failed', 'not-run']);
    expect(r.errors.get(0)).toMatchObject({ code: 'EEXIST', op: 'link.add' });
  });

  it('anything else is a protocol error', () => {
    expect(() => readReport('dxd')).toThrow(expect.objectContaining({ code: 'EPROTO' }));
    expect(() => readReport('dx\n1\n{}')).toThrow(expect.objectContaining({ code: 'EPROTO' }));
    // A record's position without its JSON line, or no position: refused, not looped over.
    expect(() => readReport('dd\n1')).toThrow(expect.objectContaining({ code: 'EPROTO' }));
    expect(() => readReport('dd\n\n{}')).toThrow(expect.objectContaining({ code: 'EPROTO' }));
    expect(() => readReport('dd\nx\n{}')).toThrow(expect.objectContaining({ code: 'EPROTO' }));
    expect(() => readReport('dd\n1x\n{}')).toThrow(expect.objectContaining({ code: 'EPROTO' }));
    expect(() => readReport('dd\n1234567890\n{}')).toThrow(expect.objectContaining({ code: 'EPROTO' }));
  });

  // What an awaited creation reads its records from when every item is done (chain.ts
  // `madeRecords`); anything else goes to `readReport` through undefined.
  it('a creation alone: its record, and a pair\'s two, read straight from the short form', () => {
    const a = '{"index":4,"name":"a b\\nc","kind":"veth"}';
    const b = '{"index":5,"name":"peer","kind":"veth"}';
    expect(madeRecords(`dd\n1\n${a}`, 2)).toEqual([a, '']);
    expect(madeRecords(`ddd\n1\n${a}\n2\n${b}`, 3)).toEqual([a, b]);
    // Not the form of all done with these records: left to the report.
    expect(madeRecords(`dd\n1\n${a}\n2\n${b}`, 2)).toBeUndefined();
    expect(madeRecords(`ddd\n1\n${a}`, 3)).toBeUndefined();
    expect(madeRecords(`ddd\n1\n${a}\n3\n${b}`, 3)).toBeUndefined();
    expect(madeRecords(`ddd\n1\n${a}\n2\n${b}\n3\n${b}`, 3)).toBeUndefined();
    expect(madeRecords(`df\n1\n${a}`, 2)).toBeUndefined();
    expect(madeRecords(JSON.stringify({ status: 'df', errors: {}, records: {}, undoErrors: [] }), 2)).toBeUndefined();
  });
});
