// What the builders of routes, rules and nexthop objects share: an item `[code, options]`
// whose options their methods fill in, checked as they go, and — for the awaitable builders a
// namespace hands out — running that item on its own.
import * as args from './args';
import { TenusError } from './errors';
import type { LinkCheck } from './kinds';
import type { Netns } from './netns';
import type { Item } from './ops';
import { Run, runItem } from './run';

/** A number, or one of the names Rust knows for it (checked there). */
export function numberOrName(arg: string, value: unknown): number | string {
  if (typeof value === 'number') return args.uint(arg, value);
  if (typeof value === 'string') return args.text(arg, value);
  throw TenusError.invalidType(arg, `must be a number or a name, not ${value === null ? 'null' : typeof value}`);
}

/**
 * A builder of one item. On a namespace (`owner` a Netns) a bad argument is kept until the
 * builder is awaited, which then rejects with it; in a batch (`owner` its Run) it throws at once,
 * as does any change once the batch's fill has finished.
 */
export abstract class ItemBuilder {
  private failure?: unknown;
  private running?: Promise<void>;
  /** A batch builder's item's position in its batch. */
  private placed?: number;
  /** The verb method called on it, if any (`verb`). */
  private verbName?: string;

  /** @internal */
  protected constructor(
    /** @internal The namespace an awaitable builder runs in, or the run of its batch. */
    private readonly owner: Netns | Run,
    /** @internal `[code, ..., options]`, already in the batch for a batch builder. */
    protected readonly item: Item,
    /** @internal Where the options are in the item. */
    private readonly at = 1,
    /** @internal The options object is shared with other items (copied before a change). */
    private shared = false,
    /**
     * @internal How options naming links are checked: as links of the namespace (a batch's
     * check knows its own links too).
     */
    protected readonly link: LinkCheck = args.linkIn(owner instanceof Run ? owner.ns : owner),
  ) {}

  /** @internal The item's options, the builder's own (copied first when shared). */
  protected get o(): Record<string, unknown> {
    if (this.shared) {
      this.item[this.at] = { ...(this.item[this.at] as Record<string, unknown>) };
      this.shared = false;
    }
    return this.item[this.at] as Record<string, unknown>;
  }

  /** @internal Replaces the item's options. */
  protected setOptions(options: Record<string, unknown>): void {
    this.item[this.at] = options;
    this.shared = false;
  }

  /** @internal Runs a check-and-set; its error is kept (awaitable) or thrown (batch). */
  protected put(fn: () => void): this {
    if (this.running) throw TenusError.invalidState('this builder has already run; make a new one');
    if (this.owner instanceof Run) {
      this.owner.assertOpen(this.placed);
      fn();
      return this;
    }
    if (this.failure !== undefined) return this;
    try {
      fn();
    } catch (e) {
      this.failure = TenusError.from(e);
    }
    return this;
  }

  /** @internal Sets one option from a check. */
  protected field(key: string, value: () => unknown): this {
    return this.put(() => {
      this.o[key] = value();
    });
  }

  /** @internal Adds a batch builder's item to its batch, open to the builder's changes. */
  protected place(run: Run): void {
    this.placed = run.push(this.item, 'open');
  }

  /** @internal Switches the item to another verb. */
  protected verb(code: number, name: string): this {
    return this.put(() => {
      // The last verb would win without a word: `.replace().delete()` sent only the deletion.
      if (this.verbName !== undefined && this.verbName !== name) {
        throw TenusError.invalidState(`${name}() after ${this.verbName}(): an item has one verb`);
      }
      this.verbName = name;
      this.item[0] = code;
    });
  }

  /** @internal Runs the item on its own, once (`runItem`). */
  protected done(): Promise<void> {
    this.running ??= this.failure !== undefined ? Promise.reject(this.failure) : runItem(this.owner as Netns, this.item);
    return this.running;
  }
}
