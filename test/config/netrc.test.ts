import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { netrcLookup, parseNetrc } from '../../src/config/netrc.js';

describe('netrc', () => {
  it('reads the entry wandb login writes', () => {
    const n = parseNetrc('machine api.wandb.ai\n  login user\n  password abc123\n');
    assert.deepEqual(netrcLookup(n, 'api.wandb.ai'), { login: 'user', password: 'abc123', account: null });
    assert.equal(netrcLookup(n, 'other.host'), null);
  });

  it('handles several machines on one line, host:port names, and the first entry winning', () => {
    const n = parseNetrc(
      'machine a login u1 password p1 machine 127.0.0.1:8080 login u2 password p2\nmachine a password later\n',
    );
    assert.equal(netrcLookup(n, 'a')?.password, 'p1');
    assert.equal(netrcLookup(n, '127.0.0.1:8080')?.password, 'p2');
  });

  it('falls back to the default entry', () => {
    const n = parseNetrc('machine a password p1\ndefault login anon password dflt\n');
    assert.equal(netrcLookup(n, 'zzz')?.password, 'dflt');
    assert.equal(netrcLookup(n, 'a')?.password, 'p1');
  });

  it('ignores comments and macdef bodies, keeps # inside a password', () => {
    const text = [
      '# my credentials',
      'machine a # trailing comment',
      '  login me',
      '  password pa#ss',
      '',
      'macdef init',
      'machine evil password fromMacro',
      '',
      'machine b password "quoted pass"',
    ].join('\n');
    const n = parseNetrc(text);
    assert.equal(netrcLookup(n, 'a')?.password, 'pa#ss');
    assert.equal(n.machines.has('evil'), false);
    assert.equal(netrcLookup(n, 'b')?.password, 'quoted pass');
  });

  it('survives garbage and truncated files', () => {
    assert.equal(parseNetrc('').machines.size, 0);
    const n = parseNetrc('machine\n');
    assert.equal(n.machines.size, 0);
    assert.equal(netrcLookup(parseNetrc('machine x login'), 'x')?.login, null);
    assert.equal(netrcLookup(parseNetrc('password lonely machine y password p'), 'y')?.password, 'p');
  });
});
