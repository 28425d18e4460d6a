import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCAL_DIR, LOCK_FILE, stackSettings } from '../../scripts/stack-settings.js';
import { stack } from './stack.js';

/**
 * Nothing of the local stack may be reachable from the network: every TCP
 * socket that a process of the stack listens on (Ceph mon, OSD, radosgw,
 * serverless offline and its workers, the event bridge, the S3 front door) is
 * bound to loopback.
 * The Ceph cluster runs with `auth * required = none`, so an OSD listening on
 * 0.0.0.0 would hand every object to anyone on the machine's network.
 */

/** Where scripts/ceph-rgw.sh keeps the daemons' pid files. */
const CEPH_RUN = resolve(LOCAL_DIR, 'ceph', 'run');
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

interface Listener {
  address: string;
  port: number;
  pid: number;
}

const readText = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

const commOf = (pid: number): string | undefined => readText(`/proc/${pid}/comm`)?.trim();

/** Direct children of a process: the union over its threads' `children` lists. */
function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((task) =>
    (readText(`/proc/${pid}/task/${task}/children`) ?? '').split(/\s+/).filter(Boolean).map(Number),
  );
}

/** `roots` and every process below them. */
function withDescendants(roots: number[]): Set<number> {
  const seen = new Set<number>();
  const queue = [...roots];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    if (seen.has(pid) || !existsSync(`/proc/${pid}`)) continue;
    seen.add(pid);
    queue.push(...childrenOf(pid));
  }
  return seen;
}

/** The Ceph daemons, by command name, from the pid files in the state dir. */
function cephDaemons(): Map<number, string> {
  const daemons = new Map<number, string>();
  for (const file of readdirSync(CEPH_RUN).filter((name) => name.endsWith('.pid'))) {
    const pid = Number(readText(resolve(CEPH_RUN, file))?.trim());
    const comm = Number.isInteger(pid) && pid > 0 ? commOf(pid) : undefined;
    if (comm) daemons.set(pid, comm);
  }
  return daemons;
}

/** Splits `127.0.0.1:80`, `[::1]:80`, `*:80`, `127.0.0.1%lo:53` into address and port. */
function splitEndpoint(endpoint: string): { address: string; port: number } {
  const colon = endpoint.lastIndexOf(':');
  const address = endpoint
    .slice(0, colon)
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/%.*$/, '');
  return { address, port: Number(endpoint.slice(colon + 1)) };
}

/** Listening TCP sockets (v4 and v6) of `pids`, as `ss -ltnpH` reports them. */
function listenersFromSs(pids: Set<number>): Listener[] {
  const out = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => {
      const columns = line.trim().split(/\s+/);
      const local = columns[3];
      if (!local) return [];
      const { address, port } = splitEndpoint(local);
      const owners = [...line.matchAll(/pid=(\d+)/g)].map((match) => Number(match[1]));
      return [...new Set(owners)].filter((pid) => pids.has(pid)).map((pid) => ({ address, port, pid }));
    });
}

/** An address as /proc/net/tcp{,6} writes it (32-bit words in host byte order, little-endian here). */
function procAddress(hex: string): string {
  const bytes = (hex.match(/.{8}/g) ?? []).flatMap((word) =>
    [6, 4, 2, 0].map((at) => Number.parseInt(word.slice(at, at + 2), 16)),
  );
  if (bytes.length === 4) return bytes.join('.');
  const groups = Array.from({ length: 8 }, (_, i) =>
    (((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0)).toString(16),
  );
  const text = groups.join(':');
  if (text === '0:0:0:0:0:0:0:0') return '::';
  if (text === '0:0:0:0:0:0:0:1') return '::1';
  if (text.startsWith('0:0:0:0:0:ffff:')) return `::ffff:${bytes.slice(12).join('.')}`;
  return text;
}

/** The same as {@link listenersFromSs}, read from /proc: socket inodes of each pid's fds. */
function listenersFromProc(pids: Set<number>): Listener[] {
  const owners = new Map<string, number[]>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode) owners.set(inode, [...(owners.get(inode) ?? []), pid]);
      } catch {}
    }
  }
  const LISTEN = '0A';
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) =>
    (readText(table) ?? '')
      .split('\n')
      .slice(1)
      .flatMap((line) => {
        const [, local, , state, , , , , , inode] = line.trim().split(/\s+/);
        const pids = new Set(inode ? owners.get(inode) : []);
        if (!local || state !== LISTEN) return [];
        const [address = '', port = ''] = local.split(':');
        return [...pids].map((pid) => ({
          address: procAddress(address),
          port: Number.parseInt(port, 16),
          pid,
        }));
      }),
  );
}

const hasSs = (() => {
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const listeners = (pids: Set<number>) => (hasSs ? listenersFromSs(pids) : listenersFromProc(pids));
const key = (l: Listener) => `${l.pid} ${l.address}:${l.port}`;
const portOf = (url: string) => Number(new URL(url).port);

describe('every daemon of the local stack listens on loopback only', () => {
  const daemons = cephDaemons();
  const supervisor = Number(readFileSync(LOCK_FILE, 'utf8').trim());
  const nodeProcesses = withDescendants([supervisor]);
  const stackPids = new Set([...withDescendants([...daemons.keys()]), ...nodeProcesses]);
  const found = listeners(stackPids);
  const describeAll = () =>
    found.map((l) => `${commOf(l.pid) ?? '?'}[${l.pid}] ${l.address}:${l.port}`).join('\n');

  it('finds the listening sockets of mon, osd, radosgw and serverless offline', () => {
    expect(commOf(supervisor), 'supervisor in .local/stack.pid').toBeDefined();
    for (const name of ['ceph-mon', 'ceph-osd', 'radosgw']) {
      const pids = [...daemons].filter(([, comm]) => comm === name).map(([pid]) => pid);
      expect(pids, `a live ${name} pid file in ${CEPH_RUN}`).not.toHaveLength(0);
      expect(
        found.filter((l) => pids.includes(l.pid)),
        `${name} listens somewhere; found:\n${describeAll()}`,
      ).not.toHaveLength(0);
    }
    const rgw = found.filter((l) => daemons.get(l.pid) === 'radosgw').map((l) => l.port);
    expect(rgw, 'radosgw on its own port').toContain(portOf(stack.rgwEndpoint));
    const node = found.filter((l) => nodeProcesses.has(l.pid)).map((l) => l.port);
    expect(node, 'the S3 front door on the S3 endpoint port').toContain(portOf(stack.s3Endpoint));
    expect(node, 'serverless offline on the API port').toContain(portOf(stack.apiUrl));
    expect(node, 'serverless offline on the Lambda invoke port').toContain(portOf(stack.lambdaUrl));
    expect(node, 'the event bridge').toContain(stackSettings().bridgePort);
  });

  it('binds every one of them to 127.0.0.1 or ::1', () => {
    const exposed = found.filter((l) => !LOOPBACK.has(l.address));
    expect(
      exposed.map((l) => `${commOf(l.pid) ?? '?'}[${l.pid}] ${l.address}:${l.port}`),
      `sockets not on loopback; all found:\n${describeAll()}`,
    ).toEqual([]);
  });

  it.runIf(hasSs)('/proc/net/tcp{,6} agrees with ss (the fallback without iproute2)', () => {
    expect(listenersFromProc(stackPids).map(key).sort()).toEqual(found.map(key).sort());
  });
});
