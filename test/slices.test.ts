// A streamed listing's parts are worked on in slices of the event loop (src/slices.ts): with a
// clock and turns of the event loop played by the test, the parts are worked on in order, at
// once while the slice lasts, after a turn once it is over, and `done()` waits for the last.
import { describe, expect, it } from 'vitest';
import { Slices } from '../src/slices';

/** A Slices whose work takes `cost` ms of the test's clock, with the turns it asks for held. */
function played(cost: number): { slices: Slices<number>; worked: number[]; turns: (() => void)[]; clock: { ms: number } } {
  const clock = { ms: 100 };
  const worked: number[] = [];
  const turns: (() => void)[] = [];
  const slices = new Slices<number>(
    (part) => {
      if (part < 0) throw new Error(`bad part ${part}`);
      worked.push(part);
      clock.ms += cost;
    },
    () => clock.ms,
    (fn) => turns.push(fn),
  );
  return { slices, worked, turns, clock };
}

/** Runs the turns asked for so far (the event loop turning once). */
function turn(turns: (() => void)[]): void {
  for (const fn of turns.splice(0)) fn();
}

describe('slices of the event loop', () => {
  it('works on parts at once while the slice lasts, then after each turn, in order', async () => {
    const { slices, worked, turns } = played(0.8);
    for (let i = 0; i < 6; i++) slices.add(i);
    // 0.8 ms a part: three fit the 2 ms slice (started at 0, 0.8, 1.6), the rest wait.
    expect(worked).toEqual([0, 1, 2]);
    expect(turns).toHaveLength(1);
    const done = slices.done();
    expect(done).toBeInstanceOf(Promise);
    turn(turns);
    expect(worked).toEqual([0, 1, 2, 3, 4, 5]);
    await done;
    // Nothing waits: the next slice's turn comes and goes with nothing to do.
    turn(turns);
    expect(slices.done()).toBeUndefined();
  });

  it('a part that comes once the slice is over waits for the next turn', () => {
    const { slices, worked, turns, clock } = played(3);
    slices.add(0);
    slices.add(1);
    expect(worked).toEqual([0]);
    turn(turns);
    expect(worked).toEqual([0, 1]);
    slices.add(2);
    expect(worked).toEqual([0, 1]);
    clock.ms += 10;
    turn(turns);
    expect(worked).toEqual([0, 1, 2]);
  });

  it('parts waiting are dropped when the dump is read again, and a failing part rejects done()', async () => {
    const { slices, worked, turns } = played(5);
    slices.add(0);
    slices.add(1);
    slices.clear();
    slices.add(10);
    turn(turns);
    expect(worked).toEqual([0, 10]);
    slices.add(11);
    slices.add(-1);
    slices.add(12);
    const done = slices.done();
    turn(turns);
    turn(turns);
    await expect(done).rejects.toThrow('bad part -1');
    expect(worked).toEqual([0, 10, 11]);
  });

  it('a part failing on a turn before done() is asked for still rejects done()', async () => {
    // Its error was dropped: the listing resolved with the records of the parts before it.
    const { slices, worked, turns } = played(5);
    slices.add(0);
    slices.add(-1);
    turn(turns);
    expect(worked).toEqual([0]);
    await expect(slices.done()).rejects.toThrow('bad part -1');
  });
});
