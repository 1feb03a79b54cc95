// The benchmark's Go peer: github.com/vishvananda/netlink, one Handle (one socket per
// protocol, kept open), each call awaited as a Go program makes them. Run inside the namespace
// to measure (the harness uses nsenter --net=...); prints one JSON line.
//
//	go-bench veth 1000                create v{i}a/v{i}b
//	go-bench macvlan 1000             create mv{i} on par0, mode bridge
//	go-bench addr 1000                add 10.1.x.y/32 to adr0
//	go-bench neigh 10000              add permanent neighbours 10.2.x.y on ngh0
//	go-bench fdb 10000                add VXLAN FDB entries 02:00:00:xx:xx:xx dst 10.3.x.y on fdb0 (self)
//	go-bench dump 0                   LinkList into []netlink.Link
//	go-bench get 1000                 LinkByName("get0"), one call at a time
//	go-bench steps 10000 1000         create v{i}a/v{i}b in steps, each step timed
//	go-bench delete-each 100 LIST     delete the listed pairs (v{i}a) one by one
//	go-bench routes 100000            RouteAdd route(i) via 10.0.0.2 dev rt0 table 100
//	go-bench route-replace 10000      RouteReplace route(i) via 10.0.0.3
//	go-bench route-dump 0             RouteListFiltered(table 100) into []netlink.Route
//
// route(i) is the i-th /24 from 11.0.0.0 up.
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
)

// AF_BRIDGE: FDB entries are neighbours of this family.
const afBridge = 7

type result struct {
	Tool     string    `json:"tool"`
	Variant  string    `json:"variant"`
	Workload string    `json:"workload"`
	N        int       `json:"n"`
	Seconds  float64   `json:"seconds"`
	Count    *int      `json:"count,omitempty"`
	Steps    []float64 `json:"steps,omitempty"`
	Step     int       `json:"step,omitempty"`
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "go-bench: "+format+"\n", args...)
	os.Exit(1)
}

func address(i int) *netlink.Addr {
	v := uint32(0x0a010000) + uint32(i) + 1
	ip := net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	return &netlink.Addr{IPNet: &net.IPNet{IP: ip, Mask: net.CIDRMask(32, 32)}}
}

func ipv4(base uint32, i int) net.IP {
	v := base + uint32(i) + 1
	return net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v)).To4()
}

func mac(i int) net.HardwareAddr {
	return net.HardwareAddr{2, 0, 0, byte(i >> 16), byte(i >> 8), byte(i)}
}

func veth(h *netlink.Handle, i int) {
	link := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: fmt.Sprintf("v%da", i)}, PeerName: fmt.Sprintf("v%db", i)}
	if err := h.LinkAdd(link); err != nil {
		fail("veth %d: %v", i, err)
	}
}

func route(i int, gw net.IP, link int) *netlink.Route {
	v := uint32(0x0b000000) + uint32(i)<<8
	dst := &net.IPNet{IP: net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), 0).To4(), Mask: net.CIDRMask(24, 32)}
	return &netlink.Route{Dst: dst, Gw: gw, LinkIndex: link, Table: 100, Protocol: 4}
}

func byName(h *netlink.Handle, name string) netlink.Link {
	l, err := h.LinkByName(name)
	if err != nil {
		fail("%s: %v", name, err)
	}
	return l
}

func main() {
	// netlink sockets and namespaces are per thread: keep this goroutine on one.
	runtime.LockOSThread()
	if len(os.Args) < 3 {
		fail("usage: go-bench WORKLOAD N [ARG]")
	}
	workload := os.Args[1]
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fail("N: %v", err)
	}
	h, err := netlink.NewHandle()
	if err != nil {
		fail("handle: %v", err)
	}
	defer h.Close()
	r := result{Tool: "go", Variant: "handle", Workload: workload, N: n}
	switch workload {
	case "veth":
		t := time.Now()
		for i := 0; i < n; i++ {
			veth(h, i)
		}
		r.Seconds = time.Since(t).Seconds()
	case "macvlan":
		parent := byName(h, "par0").Attrs().Index
		t := time.Now()
		for i := 0; i < n; i++ {
			mv := &netlink.Macvlan{
				LinkAttrs: netlink.LinkAttrs{Name: fmt.Sprintf("mv%d", i), ParentIndex: parent},
				Mode:      netlink.MACVLAN_MODE_BRIDGE,
			}
			if err := h.LinkAdd(mv); err != nil {
				fail("macvlan %d: %v", i, err)
			}
		}
		r.Seconds = time.Since(t).Seconds()
	case "addr":
		link := byName(h, "adr0")
		t := time.Now()
		for i := 0; i < n; i++ {
			if err := h.AddrAdd(link, address(i)); err != nil {
				fail("addr %d: %v", i, err)
			}
		}
		r.Seconds = time.Since(t).Seconds()
	case "neigh":
		index := byName(h, "ngh0").Attrs().Index
		t := time.Now()
		for i := 0; i < n; i++ {
			neigh := &netlink.Neigh{
				LinkIndex:    index,
				Family:       netlink.FAMILY_V4,
				State:        netlink.NUD_PERMANENT,
				IP:           ipv4(0x0a020000, i),
				HardwareAddr: mac(i),
			}
			if err := h.NeighAdd(neigh); err != nil {
				fail("neigh %d: %v", i, err)
			}
		}
		r.Seconds = time.Since(t).Seconds()
	case "fdb":
		index := byName(h, "fdb0").Attrs().Index
		t := time.Now()
		for i := 0; i < n; i++ {
			entry := &netlink.Neigh{
				LinkIndex:    index,
				Family:       afBridge,
				State:        netlink.NUD_PERMANENT | netlink.NUD_NOARP,
				Flags:        netlink.NTF_SELF,
				IP:           ipv4(0x0a030000, i),
				HardwareAddr: mac(i),
			}
			if err := h.NeighAdd(entry); err != nil {
				fail("fdb %d: %v", i, err)
			}
		}
		r.Seconds = time.Since(t).Seconds()
	case "get":
		t := time.Now()
		for i := 0; i < n; i++ {
			if _, err := h.LinkByName("get0"); err != nil {
				fail("get %d: %v", i, err)
			}
		}
		r.Seconds = time.Since(t).Seconds()
	case "dump":
		t := time.Now()
		links, err := h.LinkList()
		r.Seconds = time.Since(t).Seconds()
		if err != nil {
			fail("dump: %v", err)
		}
		count := len(links)
		r.Count = &count
	case "steps":
		step := 1000
		if len(os.Args) > 3 {
			step, _ = strconv.Atoi(os.Args[3])
		}
		t0 := time.Now()
		for start := 0; start < n; start += step {
			t := time.Now()
			for i := start; i < start+step && i < n; i++ {
				veth(h, i)
			}
			r.Steps = append(r.Steps, time.Since(t).Seconds())
		}
		r.Step = step
		r.Seconds = time.Since(t0).Seconds()
	case "delete-each":
		if len(os.Args) < 4 {
			fail("delete-each needs the list of pairs")
		}
		var names []string
		for _, s := range strings.Split(os.Args[3], ",") {
			if s != "" {
				names = append(names, "v"+s+"a")
			}
		}
		t := time.Now()
		for _, name := range names {
			// By name, as a caller holding names does: LinkDel looks the index up first.
			if err := h.LinkDel(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name}}); err != nil {
				fail("delete %s: %v", name, err)
			}
		}
		r.Seconds = time.Since(t).Seconds()
	case "routes", "route-replace":
		link := byName(h, "rt0").Attrs().Index
		gw, op := net.IPv4(10, 0, 0, 2), h.RouteAdd
		if workload == "route-replace" {
			gw, op = net.IPv4(10, 0, 0, 3), h.RouteReplace
		}
		t := time.Now()
		for i := 0; i < n; i++ {
			if err := op(route(i, gw, link)); err != nil {
				fail("route %d: %v", i, err)
			}
		}
		r.Seconds = time.Since(t).Seconds()
	case "route-dump":
		t := time.Now()
		routes, err := h.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: 100}, netlink.RT_FILTER_TABLE)
		r.Seconds = time.Since(t).Seconds()
		if err != nil {
			fail("route dump: %v", err)
		}
		count := len(routes)
		r.Count = &count
	default:
		fail("unknown workload %s", workload)
	}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}
