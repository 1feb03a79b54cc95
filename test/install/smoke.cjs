// Smoke test of an installed tenus, run with the consumer's own `node` from the folder tenus
// was installed into (test/install.test.ts, test/node-versions.test.ts, and the release
// workflow on each platform):
//
//   unshare --net --mount node smoke.cjs
//
// Two throwaway namespaces: a bridge with an address in one, a veth pair from the bridge
// whose peer is born in the other with an address, a ping each way (ping through
// nsenter, found on PATH). Prints one JSON line with what it saw; exits non-zero on any
// failure. It touches only the namespaces it creates, and refuses to start outside a fresh
// network namespace (one where /proc/self/net/dev lists only lo).
'use strict';
const { execFileSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { dirname } = require('node:path');

async function main() {
  const devices = readFileSync('/proc/self/net/dev', 'utf8')
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0].trim())
    .filter(Boolean);
  if (devices.join() !== 'lo') {
    throw new Error(`smoke.cjs runs only in a fresh network namespace (unshare --net --mount); this one has ${devices.join(', ')}`);
  }
  const tenus = require('tenus');
  const addon = Object.keys(require.cache).filter((f) => f.endsWith('.node'));

  const host = await tenus.netns.create();
  const ctr = await tenus.netns.create();
  try {
    const br = await host.bridge('br0').address('10.0.41.1/24').up();
    const veth = await host.veth('veth0').peer('eth0', { in: ctr }).master(br).up();
    await veth.peer.address('10.0.41.2/24').up();

    const ping = (ns, to) =>
      execFileSync('nsenter', [`--net=${ns.info.procPath}`, '--', 'ping', '-c', '1', '-W', '5', to], { encoding: 'utf8' });
    ping(ctr, '10.0.41.1');
    ping(host, '10.0.41.2');

    const links = (await host.links()).map((l) => l.name).sort();
    const peer = await ctr.link('eth0');
    const result = {
      node: process.version,
      addon,
      tenus: require('tenus/package.json').version,
      addonPackage: addon.length === 1 ? pick(require(`${dirname(addon[0])}/package.json`)) : null,
      hostLinks: links,
      peerAddresses: (await peer.addresses()).map((a) => a.cidr),
      pinged: ['10.0.41.1', '10.0.41.2'],
    };
    console.log(JSON.stringify(result));
  } finally {
    host.close();
    ctr.close();
  }
}

function pick({ name, version }) {
  return { name, version };
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
