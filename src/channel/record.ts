/**
 * Record layouts for ring channels: the field names and types of a fixed-size binary record,
 * declared once with {@linkcode defineRecord}, and the code that moves records between JS objects
 * and shared memory. That code is generated once per layout (straight-line loads and stores,
 * one per field) so the hot path has no per-field type dispatch and no string-keyed lookups in
 * a loop. A record written from an object is validated field by field before anything is
 * published: a bad field is a typed error, never a half-written record.
 *
 * @module
 */

import { ErrorCode, InvalidArgumentError, WaveletError } from "../core/errors.ts";
import { describe } from "../core/validate.ts";

/**
 * A record field type.
 *
 * @example Field types of a record
 * ```ts
 * import { defineRecord, type FieldType } from "@wavelet/wavelet/channel";
 *
 * const priceType: FieldType = "f64";
 * const Tick = defineRecord({ price: priceType, size: "u32", side: "i32" });
 * if (Tick.types.join() !== "f64,u32,i32") throw new Error("one type per field");
 * if (Tick.byteSize !== 16) throw new Error("8 + 4 + 4 bytes");
 * ```
 */
export type FieldType = "f64" | "i32" | "u32";

/**
 * A record layout: field names to types, declared once with {@linkcode defineRecord}.
 *
 * @example Reading a layout
 * ```ts
 * import { defineRecord, type RecordLayout } from "@wavelet/wavelet/channel";
 *
 * const layout: RecordLayout<{ qty: "u32"; px: "f64" }> = defineRecord({ qty: "u32", px: "f64" });
 * if (layout.names.join() !== "px,qty") throw new Error("8-byte fields are stored first");
 * if (layout.offsets.join() !== "0,8") throw new Error("px at 0, qty at 8");
 * if (layout.byteSize !== 16) throw new Error("12 bytes rounded up to a multiple of 8");
 * ```
 */
export interface RecordLayout<F extends Record<string, FieldType>> {
  /** The declaration. */
  readonly fields: F;
  /** Field names in storage order (8-byte fields first). */
  readonly names: readonly (keyof F & string)[];
  /** Byte offset of each field, parallel to `names`. */
  readonly offsets: readonly number[];
  /** Type of each field, parallel to `names`. */
  readonly types: readonly FieldType[];
  /** Bytes per record (a multiple of 8). */
  readonly byteSize: number;
}

/**
 * The JS shape of a record: one number per field.
 *
 * @example A reusable record to receive into
 * ```ts
 * import { defineRecord, type RecordOf } from "@wavelet/wavelet/channel";
 *
 * const Quote = defineRecord({ bid: "f64", ask: "f64" });
 * const out: RecordOf<typeof Quote.fields> = { bid: 0, ask: 0 };
 * out.bid = 99.5;
 * if (out.ask - out.bid !== -99.5) throw new Error("one number per field");
 * ```
 */
export type RecordOf<F extends Record<string, FieldType>> = { [K in keyof F]: number };

/**
 * A batch of records as columns: one typed array per field (`Float64Array` for `"f64"`,
 * `Int32Array` for `"i32"`, `Uint32Array` for `"u32"`), record `i` at index `i` of each. Made
 * once with {@linkcode recordColumns} and filled again and again by `RingReceiver.recvBatch`.
 *
 * @example Columns of a layout
 * ```ts
 * import { defineRecord, type RecordColumns, recordColumns } from "@wavelet/wavelet/channel";
 *
 * const Tick = defineRecord({ px: "f64", qty: "u32" });
 * const cols: RecordColumns<typeof Tick.fields> = recordColumns(Tick, 256);
 * cols.px[0] = 99.5;
 * if (!(cols.qty instanceof Uint32Array) || cols.px.length !== 256) throw new Error("columns");
 * ```
 */
export type RecordColumns<F extends Record<string, FieldType>> = {
  readonly [K in keyof F]: F[K] extends "f64" ? Float64Array
    : F[K] extends "i32" ? Int32Array
    : Uint32Array;
};

/** The typed array constructor of each field type. */
const COLUMN = { f64: Float64Array, i32: Int32Array, u32: Uint32Array } as const;

/** Most records in one set of columns. */
const MAX_COLUMN_LENGTH = 1 << 24;

/**
 * Allocates columns for `length` records of `layout` (see {@linkcode RecordColumns}).
 *
 * @example Receiving a batch into columns
 * ```ts
 * import { NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { defineRecord, recordColumns, ringChannel } from "@wavelet/wavelet/channel";
 *
 * const Tick = defineRecord({ px: "f64", qty: "u32" });
 * const cols = recordColumns(Tick, 1024);
 * const rt = new TestRuntime();
 * const [notional, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   ringChannel(Tick, { capacity: 1024 }),
 *   (self, _ctx, rx) => {
 *     for (let n = rx.recvBatch(cols); n > 0; n = rx.recvBatch(cols)) {
 *       for (let i = 0; i < n; i++) self.value += cols.px[i] * cols.qty[i];
 *     }
 *     return true;
 *   },
 * );
 * tx.trySendMany([{ px: 10, qty: 2 }, { px: 11, qty: 1 }]);
 * rt.runOneCycle();
 * if (notional.value !== 31) throw new Error("10 * 2 + 11 * 1");
 * ```
 *
 * @throws {InvalidArgumentError} If `layout` is not a layout from {@linkcode defineRecord} or
 *   `length` is not an integer in [1, 2^24].
 */
export function recordColumns<F extends Record<string, FieldType>>(
  layout: RecordLayout<F>,
  length: number,
): RecordColumns<F> {
  const codec = layoutCodec(layout);
  if (
    typeof length !== "number" || !Number.isInteger(length) || length < 1 ||
    length > MAX_COLUMN_LENGTH
  ) {
    throw new InvalidArgumentError(
      `Column length must be an integer in [1, ${MAX_COLUMN_LENGTH}], got ${describe(length)}`,
    );
  }
  const cols: Record<string, Float64Array | Int32Array | Uint32Array> = {};
  for (let k = 0; k < codec.names.length; k++) {
    cols[codec.names[k]] = new COLUMN[codec.types[k]](length);
  }
  const frozen = Object.freeze(cols);
  ownColumns.add(frozen);
  return frozen as RecordColumns<F>;
}

/** Columns recordColumns made: frozen, so their arrays stay the ones checked once. */
const ownColumns = new WeakSet<object>();

/** The codec of something passed as a layout, checked (a hand-made object is refused). */
function layoutCodec(layout: unknown): RecordCodec {
  if (layout === null || typeof layout !== "object" || !defined.has(layout)) {
    throw new InvalidArgumentError(
      `Expected a record layout from defineRecord(), got ${describe(layout)}`,
    );
  }
  return codecOf(layout as RecordLayout<Record<string, FieldType>>);
}

/** Every layout defineRecord made (hand-made look-alikes are not in it). */
const defined = new WeakSet<object>();

/** Most fields in one record. */
const MAX_FIELDS = 256;

/**
 * Declares a record layout for ring channels. Fields are stored 8-byte fields first, each at its
 * natural alignment; the record size is rounded up to a multiple of 8 bytes.
 *
 * @example
 * ```ts
 * import { defineRecord } from "@wavelet/wavelet/channel";
 * const Quote = defineRecord({ bid: "f64", ask: "f64", size: "u32", venue: "i32" });
 * // Quote.byteSize === 24
 * ```
 *
 * @throws {InvalidArgumentError} If `fields` is not a plain object, is empty, has more than 256
 *   fields, or a field's type is not `"f64"`, `"i32"` or `"u32"`.
 */
export function defineRecord<F extends Record<string, FieldType>>(fields: F): RecordLayout<F> {
  if (fields === null || typeof fields !== "object" || Array.isArray(fields)) {
    throw new InvalidArgumentError(
      `A record declaration must be an object of field types, got ${describe(fields)}`,
    );
  }
  let entries: [string, unknown][];
  try {
    entries = Object.entries(fields);
  } catch (cause) {
    throw new InvalidArgumentError(
      "A record declaration could not be read",
      { cause },
    );
  }
  if (entries.length === 0 || entries.length > MAX_FIELDS) {
    throw new InvalidArgumentError(
      `A record needs 1 to ${MAX_FIELDS} fields, got ${entries.length}`,
    );
  }
  for (const [name, t] of entries) {
    if (t !== "f64" && t !== "i32" && t !== "u32") {
      throw new InvalidArgumentError(
        `Field ${JSON.stringify(name)} has type ${
          typeof t === "string" ? JSON.stringify(t) : typeof t
        }; use "f64", "i32" or "u32"`,
      );
    }
  }
  const ordered = [
    ...entries.filter(([, t]) => t === "f64"),
    ...entries.filter(([, t]) => t !== "f64"),
  ];
  const names: string[] = [], offsets: number[] = [], types: FieldType[] = [];
  let off = 0;
  for (const [name, t] of ordered) {
    names.push(name);
    offsets.push(off);
    types.push(t as FieldType);
    off += t === "f64" ? 8 : 4;
  }
  const layout: RecordLayout<F> = Object.freeze({
    fields,
    names: Object.freeze(names) as (keyof F & string)[],
    offsets: Object.freeze(offsets),
    types: Object.freeze(types),
    byteSize: (off + 7) & ~7,
  });
  defined.add(layout);
  return layout;
}

/**
 * A field value that cannot be stored, or a record that cannot be read. Thrown by `trySend`
 * before anything is published.
 *
 * @example A string where a number belongs
 * ```ts
 * import { ErrorCode, NodeBuilder, TestRuntime } from "@wavelet/wavelet";
 * import { channel, defineRecord, RecordError } from "@wavelet/wavelet/channel";
 *
 * const rt = new TestRuntime();
 * const [, tx] = new NodeBuilder(0).buildWith(
 *   rt.executor,
 *   channel({ kind: "ring", record: defineRecord({ px: "f64" }), capacity: 4 }),
 *   () => false,
 * );
 * let code = "";
 * try {
 *   tx.trySend({ px: "1.5" as unknown as number });
 * } catch (e) {
 *   if (e instanceof RecordError) code = e.code;
 * }
 * if (code !== ErrorCode.InvalidRecord) throw new Error("a typed error");
 * ```
 */
export class RecordError extends WaveletError {
  /** `INVALID_RECORD` unless given. */
  static override readonly defaultCode: ErrorCode = ErrorCode.InvalidRecord;
}

/** Builds the error for a bad field (called from generated code). */
function badField(name: string, type: FieldType, v: unknown): RecordError {
  const got = typeof v === "number"
    ? String(v)
    : v === null
    ? "null"
    : typeof v === "string"
    ? JSON.stringify(v.length > 40 ? v.slice(0, 40) + "..." : v)
    : typeof v;
  const want = type === "f64"
    ? "a number"
    : type === "i32"
    ? "an integer in [-2^31, 2^31)"
    : "an integer in [0, 2^32)";
  return new RecordError(
    `Field ${JSON.stringify(name)} must be ${want}, got ${got}`,
  );
}

/** A record that is not an object. */
function notRecord(v: unknown): RecordError {
  return new RecordError(
    `A record must be an object of numbers, got ${v === null ? "null" : typeof v}`,
  );
}

/** Wraps what reading a record threw (a throwing getter). */
function badRecord(cause: unknown): RecordError {
  return new RecordError(
    `Cannot read the record's fields: ${cause instanceof Error ? cause.message : describe(cause)}`,
    { cause },
  );
}

/** Writes a record object into views at a byte offset; throws RecordError before writing. */
export type RecordWriter = (
  f64: Float64Array,
  i32: Int32Array,
  u32: Uint32Array,
  at: number,
  item: unknown,
) => void;

/** Reads the record at a byte offset into an object. */
export type RecordReader = (
  f64: Float64Array,
  i32: Int32Array,
  u32: Uint32Array,
  at: number,
  out: unknown,
) => void;

/**
 * A cursor over records: the generated subclass has one getter per field that reads the record
 * at the cursor's position straight from the views.
 */
export class RecordCursorBase {
  /** @internal */
  _f64: Float64Array;
  /** @internal */
  _i32: Int32Array;
  /** @internal */
  _u32: Uint32Array;
  /** @internal Byte offset of the current record, divided by 8 (for f64 fields). */
  _w8 = 0;
  /** @internal The same offset divided by 4 (for i32 and u32 fields). */
  _w4 = 0;

  /** @internal */
  constructor(f64: Float64Array, i32: Int32Array, u32: Uint32Array) {
    this._f64 = f64;
    this._i32 = i32;
    this._u32 = u32;
  }
}

/**
 * Copies `n` records, `cell` bytes apart from byte `at`, into columns (one typed array per
 * field, in storage order) from index `d` on.
 */
export type ColumnCopier = (
  f64: Float64Array,
  i32: Int32Array,
  u32: Uint32Array,
  at: number,
  n: number,
  cell: number,
  cols: ArrayLike<Float64Array | Int32Array | Uint32Array>,
  d: number,
) => void;

/** The generated code of one layout. */
export interface RecordCodec {
  /** Field names in storage order. */
  readonly names: readonly string[];
  /** Field types in storage order. */
  readonly types: readonly FieldType[];
  /** Validates and writes. */
  readonly write: RecordWriter;
  /** Reads into an object. */
  readonly read: RecordReader;
  /** Reads a run of records into columns. */
  readonly copy: ColumnCopier;
  /** Writes records from columns (from index `d` on) into a run of cells. */
  readonly uncopy: ColumnCopier;
  /** A class with one getter per field over `_f64/_i32/_u32` at `_w8/_w4`. */
  readonly Cursor: new (f64: Float64Array, i32: Int32Array, u32: Uint32Array) => RecordCursorBase;
}

const codecs = new WeakMap<object, RecordCodec>();

/**
 * The generated reader, writer and cursor class of a layout (made once per layout object).
 * Field names enter the generated source only as JSON string literals.
 */
// deno-lint-ignore no-explicit-any
export function codecOf(layout: RecordLayout<any>): RecordCodec {
  let c = codecs.get(layout);
  if (c !== undefined) return c;
  const { names, offsets, types } = layout;
  const index = (k: number) =>
    types[k] === "f64"
      ? `f64[(at >>> 3) + ${offsets[k] >>> 3}]`
      : `${types[k]}[(at >>> 2) + ${offsets[k] >>> 2}]`;
  const key = (k: number) => JSON.stringify(names[k]);
  // Writer: read every field first (a throwing getter or a null record fails here), then check
  // each value, then store; nothing is stored unless every field is good.
  let w = 'if (item === null || typeof item !== "object") throw notRecord(item);\n';
  w += "let " + names.map((_, k) => `v${k}`).join(", ") + ";\n";
  w += "try {\n" + names.map((_, k) => `  v${k} = item[${key(k)}];\n`).join("") +
    "} catch (e) {\n  throw badRecord(e);\n}\n";
  for (let k = 0; k < names.length; k++) {
    // The typeof test comes first: `|` and `>>>` would call an object's valueOf (which may
    // throw) and throw a TypeError on a bigint.
    const check = types[k] === "f64"
      ? `typeof v${k} !== "number"`
      : types[k] === "i32"
      ? `typeof v${k} !== "number" || (v${k} | 0) !== v${k}`
      : `typeof v${k} !== "number" || (v${k} >>> 0) !== v${k}`;
    w += `if (v${k} === undefined) v${k} = 0;\nelse if (${check}) throw badField(${key(k)}, "${
      types[k]
    }", v${k});\n`;
  }
  for (let k = 0; k < names.length; k++) w += `${index(k)} = v${k};\n`;
  let r = "";
  for (let k = 0; k < names.length; k++) r += `out[${key(k)}] = ${index(k)};\n`;
  const makeWriter = new Function(
    "badField",
    "badRecord",
    "notRecord",
    `return function write(f64, i32, u32, at, item) {\n${w}};`,
  );
  const makeReader = new Function(`return function read(f64, i32, u32, at, out) {\n${r}};`);
  const write = makeWriter(badField, badRecord, notRecord) as RecordWriter;
  const read = makeReader() as RecordReader;
  // Column copy: one straight-line load and store per field and record, word offsets stepped.
  let cp = names.map((_, k) => `const c${k} = cols[${k}];\n`).join("");
  cp += "let w8 = at >>> 3, w4 = at >>> 2;\nconst s8 = cell >>> 3, s4 = cell >>> 2;\n";
  cp += "for (let i = d, e = d + n; i < e; i++, w8 += s8, w4 += s4) {\n";
  for (let k = 0; k < names.length; k++) {
    cp += types[k] === "f64"
      ? `  c${k}[i] = f64[w8 + ${offsets[k] >>> 3}];\n`
      : `  c${k}[i] = ${types[k]}[w4 + ${offsets[k] >>> 2}];\n`;
  }
  cp += "}\n";
  const copy = new Function(
    `return function copy(f64, i32, u32, at, n, cell, cols, d) {\n${cp}};`,
  )() as ColumnCopier;
  // The reverse: typed columns hold only storable values, so nothing needs checking.
  let up = names.map((_, k) => `const c${k} = cols[${k}];\n`).join("");
  up += "let w8 = at >>> 3, w4 = at >>> 2;\nconst s8 = cell >>> 3, s4 = cell >>> 2;\n";
  up += "for (let i = d, e = d + n; i < e; i++, w8 += s8, w4 += s4) {\n";
  for (let k = 0; k < names.length; k++) {
    up += types[k] === "f64"
      ? `  f64[w8 + ${offsets[k] >>> 3}] = c${k}[i];\n`
      : `  ${types[k]}[w4 + ${offsets[k] >>> 2}] = c${k}[i];\n`;
  }
  up += "}\n";
  const uncopy = new Function(
    `return function uncopy(f64, i32, u32, at, n, cell, cols, d) {\n${up}};`,
  )() as ColumnCopier;
  class Cursor extends RecordCursorBase {}
  for (let k = 0; k < names.length; k++) {
    const body = types[k] === "f64"
      ? `return this._f64[this._w8 + ${offsets[k] >>> 3}];`
      : `return this._${types[k]}[this._w4 + ${offsets[k] >>> 2}];`;
    Object.defineProperty(Cursor.prototype, names[k], {
      get: new Function(body) as () => number,
      enumerable: true,
      configurable: false,
    });
  }
  c = { names, types, write, read, copy, uncopy, Cursor };
  codecs.set(layout, c);
  return c;
}

/**
 * The columns a sender or receiver was last given, checked: the same frozen columns from
 * `recordColumns` again need no new check (their arrays cannot change), only their lengths (a
 * transferred buffer reads as length 0).
 */
export class ColumnsCheck {
  /** The arrays, in storage order. */
  readonly arrays: (Float64Array | Int32Array | Uint32Array)[] = [];
  readonly #codec: RecordCodec;
  #last: object | null = null;

  /** Checks columns of `codec`'s layout. */
  constructor(codec: RecordCodec) {
    this.#codec = codec;
  }

  /** Checks `cols` (throws before anything changes); returns the shortest column's length. */
  of(cols: unknown): number {
    const a = this.arrays;
    if (cols !== this.#last || cols === null) {
      this.#last = null;
      const n = checkColumns(this.#codec, cols, a);
      if (ownColumns.has(cols as object)) this.#last = cols as object;
      return n;
    }
    let min = a[0].length;
    for (let k = 1; k < a.length; k++) if (a[k].length < min) min = a[k].length;
    return min;
  }
}

/**
 * Reads and checks columns for `codec`'s layout into `into` (storage order), before anything
 * changes; returns the shortest column's length.
 */
export function checkColumns(
  codec: RecordCodec,
  cols: unknown,
  into: (Float64Array | Int32Array | Uint32Array)[],
): number {
  if (cols === null || typeof cols !== "object") {
    throw new InvalidArgumentError(
      `Columns from recordColumns() are needed, got ${describe(cols)}`,
    );
  }
  let min = Infinity;
  for (let k = 0; k < codec.names.length; k++) {
    let c: unknown;
    try {
      c = (cols as Record<string, unknown>)[codec.names[k]];
    } catch (cause) {
      throw new InvalidArgumentError(
        `Column ${JSON.stringify(codec.names[k])} could not be read`,
        { cause },
      );
    }
    if (!(c instanceof COLUMN[codec.types[k]])) {
      throw new InvalidArgumentError(
        `Column ${JSON.stringify(codec.names[k])} must be a ${COLUMN[codec.types[k]].name}, got ${
          describe(c)
        }`,
      );
    }
    into[k] = c as Float64Array | Int32Array | Uint32Array;
    if (into[k].length < min) min = into[k].length;
  }
  return min;
}
