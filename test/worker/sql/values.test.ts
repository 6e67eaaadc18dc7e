import { describe, expect, it } from 'vitest';
import { parsePgArray, pgTextToJson } from '../../../src/app/sql/values';

describe("result values as Neon's JSON", () => {
  it('turns booleans, exact numbers and json into JSON, and keeps other types as text', () => {
    expect(pgTextToJson('t', 16)).toBe(true);
    expect(pgTextToJson('f', 16)).toBe(false);
    expect(pgTextToJson('42', 23)).toBe(42);
    expect(pgTextToJson('1.5', 701)).toBe(1.5);
    expect(pgTextToJson('9007199254740993', 20)).toBe('9007199254740993');
    expect(pgTextToJson('NaN', 701)).toBe('NaN');
    expect(pgTextToJson('{"a":[1]}', 3802)).toEqual({ a: [1] });
    expect(pgTextToJson('1.50', 1700)).toBe('1.50');
    expect(pgTextToJson('2026-01-02 03:04:05+00', 1184)).toBe('2026-01-02 03:04:05+00');
    expect(pgTextToJson(null, 23)).toBeNull();
  });

  it('parses array output: quoting, escapes, NULL, nesting and bounds', () => {
    expect(pgTextToJson('{1,NULL,3}', 1007)).toEqual([1, null, 3]);
    expect(pgTextToJson('{a,"b c","d\\"e","NULL"}', 1009)).toEqual(['a', 'b c', 'd"e', 'NULL']);
    expect(pgTextToJson('{{1,2},{3,4}}', 1007)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(pgTextToJson('{}', 1009)).toEqual([]);
    expect(pgTextToJson('{t,f}', 1000)).toEqual([true, false]);
    expect(parsePgArray('[0:1]={x,y}', (s) => s)).toEqual(['x', 'y']);
  });
});
