"""The benchmark's Python peer: pyroute2 (pinned in requirements.txt).

Run inside the namespace to measure (the harness uses nsenter --net=...); prints one JSON line.

    pyroute2_bench.py VARIANT WORKLOAD N [ARG]

VARIANT: iproute (IPRoute, one call per operation, each awaiting its ACK) or ipbatch (IPBatch
compiles the requests; they are sent 128 per sendmsg on a plain netlink socket and the ACKs
read after each send, as IPBatch's documentation suggests).
WORKLOAD: veth (v{i}a/v{i}b), macvlan (mv{i} on par0), addr (10.1.x.y/32 on adr0), neigh
(permanent 10.2.x.y on ngh0), fdb (VXLAN entries 02:00:00:xx:xx:xx dst 10.3.x.y on fdb0), dump,
get (get0 read by name into a dict, one call at a time), delete-each (pairs v{i}a listed in ARG,
comma-separated), routes (route(i) via 10.0.0.2 dev rt0 table 100), route-replace (the same, via
10.0.0.3, replacing), route-dump (table 100 into dicts). route(i) is the i-th /24 from 11.0.0.0
up.
"""

import json
import socket
import struct
import sys
import time

from pyroute2 import IPBatch, IPRoute

NLMSG_ERROR = 2
PER_SEND = 128


def address(i):
    v = 0x0A010000 + i + 1
    return socket.inet_ntoa(struct.pack('!I', v))


def send_batched(sock, messages):
    """Sends compiled messages PER_SEND per sendmsg, reading the ACKs after each send."""
    for start in range(0, len(messages), PER_SEND):
        chunk = messages[start:start + PER_SEND]
        sock.send(b''.join(chunk))
        want = len(chunk)
        while want:
            data = sock.recv(65536)
            off = 0
            while off + 16 <= len(data):
                length, kind = struct.unpack_from('=IH', data, off)
                if kind == NLMSG_ERROR:
                    (code,) = struct.unpack_from('=i', data, off + 16)
                    if code != 0:
                        raise OSError(-code, 'request failed')
                    want -= 1
                off += (length + 3) & ~3


def route_dst(i):
    return socket.inet_ntoa(struct.pack('!I', 0x0B000000 + (i << 8)))


def route_record(m):
    return {
        'dst': m.get_attr('RTA_DST'),
        'dst_len': m['dst_len'],
        'table': m.get_attr('RTA_TABLE'),
        'protocol': m['proto'],
        'scope': m['scope'],
        'type': m['type'],
        'gateway': m.get_attr('RTA_GATEWAY'),
        'oif': m.get_attr('RTA_OIF'),
        'priority': m.get_attr('RTA_PRIORITY'),
    }


def neighbour_address(i):
    return socket.inet_ntoa(struct.pack('!I', 0x0A020000 + i + 1))


def vtep(i):
    return socket.inet_ntoa(struct.pack('!I', 0x0A030000 + i + 1))


def mac(i):
    return '02:00:00:%02x:%02x:%02x' % ((i >> 16) & 255, (i >> 8) & 255, i & 255)


NUD_PERMANENT = 0x80
NUD_NOARP = 0x40
NTF_SELF = 0x02


def split(buf):
    """IPBatch keeps one buffer; cut it into messages."""
    out = []
    off = 0
    while off < len(buf):
        (length,) = struct.unpack_from('=I', buf, off)
        out.append(bytes(buf[off:off + length]))
        off += (length + 3) & ~3
    return out


def record(m):
    info = m.get_attr('IFLA_LINKINFO')
    return {
        'index': m['index'],
        'name': m.get_attr('IFLA_IFNAME'),
        'kind': info.get_attr('IFLA_INFO_KIND') if info is not None else None,
        'flags': m['flags'],
        'mtu': m.get_attr('IFLA_MTU'),
        'mac': m.get_attr('IFLA_ADDRESS'),
        'master': m.get_attr('IFLA_MASTER'),
        'parent': m.get_attr('IFLA_LINK'),
        'group': m.get_attr('IFLA_GROUP'),
        'operstate': m.get_attr('IFLA_OPERSTATE'),
        'txqlen': m.get_attr('IFLA_TXQLEN'),
    }


def main():
    variant, workload, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    arg = sys.argv[4] if len(sys.argv) > 4 else ''
    ipr = IPRoute()
    out = {'tool': 'pyroute2', 'variant': variant, 'workload': workload, 'n': n}
    batch = variant == 'ipbatch'
    if batch:
        ipb = IPBatch()
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        sock.bind((0, 0))

    def run(add_one):
        t = time.perf_counter()
        if batch:
            ipb.reset()
            for i in range(n):
                add_one(ipb, i)
            send_batched(sock, split(ipb.batch))
        else:
            for i in range(n):
                add_one(ipr, i)
        return time.perf_counter() - t

    if workload == 'veth':
        out['seconds'] = run(lambda ip, i: ip.link('add', ifname=f'v{i}a', kind='veth', peer=f'v{i}b'))
    elif workload == 'macvlan':
        parent = ipr.link_lookup(ifname='par0')[0]
        out['seconds'] = run(
            lambda ip, i: ip.link('add', ifname=f'mv{i}', kind='macvlan', link=parent, macvlan_mode='bridge')
        )
    elif workload == 'addr':
        index = ipr.link_lookup(ifname='adr0')[0]
        out['seconds'] = run(lambda ip, i: ip.addr('add', index=index, address=address(i), prefixlen=32))
    elif workload == 'neigh':
        index = ipr.link_lookup(ifname='ngh0')[0]
        out['seconds'] = run(
            lambda ip, i: ip.neigh('add', dst=neighbour_address(i), lladdr=mac(i), ifindex=index, state=NUD_PERMANENT)
        )
    elif workload == 'fdb':
        index = ipr.link_lookup(ifname='fdb0')[0]
        out['seconds'] = run(
            lambda ip, i: ip.fdb(
                'add', ifindex=index, lladdr=mac(i), dst=vtep(i), state=NUD_PERMANENT | NUD_NOARP, flags=NTF_SELF
            )
        )
    elif workload == 'get':
        t = time.perf_counter()
        for _ in range(n):
            record(ipr.link('get', ifname='get0')[0])
        out['seconds'] = time.perf_counter() - t
    elif workload == 'dump':
        t = time.perf_counter()
        links = [record(m) for m in ipr.get_links()]
        out['seconds'] = time.perf_counter() - t
        out['count'] = len(links)
    elif workload in ('routes', 'route-replace'):
        oif = ipr.link_lookup(ifname='rt0')[0]
        verb, gw = ('add', '10.0.0.2') if workload == 'routes' else ('replace', '10.0.0.3')
        out['seconds'] = run(
            lambda ip, i: ip.route(verb, dst=route_dst(i), dst_len=24, gateway=gw, oif=oif, table=100, proto=4)
        )
    elif workload == 'route-dump':
        t = time.perf_counter()
        routes = [route_record(m) for m in ipr.get_routes(family=socket.AF_INET, table=100)]
        out['seconds'] = time.perf_counter() - t
        out['count'] = len(routes)
    elif workload == 'delete-each':
        names = [f'v{s}a' for s in arg.split(',') if s]
        t = time.perf_counter()
        for name in names:
            ipr.link('del', ifname=name)
        out['seconds'] = time.perf_counter() - t
    else:
        raise SystemExit(f'unknown workload {workload}')
    ipr.close()
    print(json.dumps(out))


if __name__ == '__main__':
    main()
