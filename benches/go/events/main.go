// The events benchmark's Go peer: github.com/vishvananda/netlink's link and address
// subscriptions (LinkSubscribeWithOptions, AddrSubscribeWithOptions), each update decoded into
// its Go type and counted. Run inside the namespace to watch (nsenter --net=...); prints
// "ready" once subscribed, and one JSON line with its counts when sent SIGTERM.
//
//	go-events RCVBUF_BYTES
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
)

func main() {
	rcvbuf, _ := strconv.Atoi(os.Args[1])
	done := make(chan struct{})
	links := make(chan netlink.LinkUpdate, 4096)
	addrs := make(chan netlink.AddrUpdate, 4096)
	errors := 0
	onError := func(error) { errors++ }
	if err := netlink.LinkSubscribeWithOptions(links, done, netlink.LinkSubscribeOptions{
		ErrorCallback: onError, ReceiveBufferSize: rcvbuf, ReceiveBufferForceSize: true,
	}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := netlink.AddrSubscribeWithOptions(addrs, done, netlink.AddrSubscribeOptions{
		ErrorCallback: onError, ReceiveBufferSize: rcvbuf, ReceiveBufferForceSize: true,
	}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	fmt.Println("ready")
	events := 0
	var first, last time.Time
	for {
		select {
		case <-links:
		case <-addrs:
		case <-stop:
			out, _ := json.Marshal(map[string]any{
				"tool": "go", "events": events, "errors": errors, "seconds": last.Sub(first).Seconds(),
			})
			fmt.Println(string(out))
			return
		}
		if events == 0 {
			first = time.Now()
		}
		events++
		last = time.Now()
	}
}
