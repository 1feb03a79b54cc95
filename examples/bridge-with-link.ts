// tenus' tenus_bridgedummy_linux.go: a bridge, a link attached to it (AddSlaveIfc), both up.
// Everything happens in a throwaway namespace made here; the machine's own network is untouched.
// The Go example attaches a dummy link; on a kernel without the dummy module a veth end stands
// in (any ethernet-like link can be a bridge port).
//
//   npx tsx examples/bridge-with-link.ts      (as root)
import { netns, Netns, type Link } from '../src';
import { runExample, verify } from './helpers';

runExample(async () => {
  const host = await netns.create();
  try {
    // tenus.NewBridgeWithName("mybridge"); br.SetLinkUp()
    const br = await host.bridge('mybridge').up();
    console.log(`created bridge ${br.name} (index ${br.index}), up`);

    // tenus.NewLink("mydummylink")
    let link: Link;
    if (await Netns.kernelSupports('dummy')) {
      link = await host.dummy('mydummylink');
      console.log(`created dummy link ${link.name}`);
    } else {
      const veth = await host.veth('mydummylink').peer('mydummypeer').up();
      link = veth;
      console.log(`dummy links are unsupported by this kernel: created veth ${link.name} (peer ${veth.peer.name}) instead`);
    }

    // br.AddSlaveIfc(dl.NetInterface()); dl.SetLinkUp()
    const port = await link.master(br).up();
    console.log(`attached ${port.name} to ${br.name} and brought it up`);

    // Read back what the kernel holds.
    const now = await host.link('mydummylink');
    verify(now.info.master === br.index, `${now.name} is a port of ${br.name}`);
    verify(now.info.up, `${now.name} is up`);
    verify(now.info.portKind === 'bridge', `${now.name} is a bridge port`);
    verify((await host.link('mybridge')).info.up, 'mybridge is up');
    const ports = (await host.links()).filter((l) => l.master === br.index).map((l) => l.name);
    console.log(`ports of ${br.name}: ${ports.join(', ')}`);
    console.log('bridge-with-link: OK');
  } finally {
    host.close(); // the namespace, and the links in it, go with its last handle
  }
});
