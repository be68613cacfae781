import { describe, expect, it } from 'vitest';
import { readCsv } from './csv-source';

const hashOf = async (content: string) => (await readCsv(content)).contentHash;

describe('the content hash', () => {
  const reference = 'id,name,score\n1,Ada,0.5\n2,Bob,\n';

  it('is a sha256 hex digest', async () => {
    expect(await hashOf(reference)).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ['CRLF line ends', 'id,name,score\r\n1,Ada,0.5\r\n2,Bob,\r\n'],
    ['no trailing newline', 'id,name,score\n1,Ada,0.5\n2,Bob,'],
    ['redundant quotes', '"id","name","score"\n"1","Ada","0.5"\n"2","Bob",""\n'],
    ['a BOM and padding', '\uFEFF id , name ,score\n 1 ,Ada , 0.5\n2, Bob ,  \n'],
    ['another spelling of the numbers', 'id,name,score\n1.0,Ada,.5\n+2,Bob,\n'],
    ['blank lines', '\nid,name,score\n\n1,Ada,0.5\n\n2,Bob,\n\n'],
  ])('is the same with %s', async (_, variant) => {
    expect(await hashOf(variant)).toBe(await hashOf(reference));
  });

  it.each([
    ['a changed value', 'id,name,score\n1,Ada,0.6\n2,Bob,\n'],
    ['a filled-in missing value', 'id,name,score\n1,Ada,0.5\n2,Bob,0\n'],
    ['a renamed column', 'id,name,points\n1,Ada,0.5\n2,Bob,\n'],
    ['swapped rows', 'id,name,score\n2,Bob,\n1,Ada,0.5\n'],
    ['a changed letter case', 'id,name,score\n1,ada,0.5\n2,Bob,\n'],
  ])('changes with %s', async (_, variant) => {
    expect(await hashOf(variant)).not.toBe(await hashOf(reference));
  });

  it('tells a value with a newline from two rows', async () => {
    expect(await hashOf('note\n"a\nb"\n')).not.toBe(await hashOf('note\na\nb\n'));
  });

  it('keeps the zeros of zero-padded codes', async () => {
    expect(await hashOf('zip\n02139\n10001\n')).not.toBe(await hashOf('zip\n2139\n10001\n'));
  });
});
