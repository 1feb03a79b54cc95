"""The events benchmark's Python peer: pyroute2's IPRoute bound to the link and address groups,
each message parsed by pyroute2 and counted. Run inside the namespace to watch (nsenter
--net=...); prints "ready" once subscribed, and one JSON line with its counts on SIGTERM.

    pyroute2_events.py RCVBUF_BYTES
"""
import json
import os
import signal
import sys
import time

from pyroute2 import IPRoute
from pyroute2.netlink.rtnl import RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR, RTMGRP_LINK

rcvbuf = int(sys.argv[1])
ipr = IPRoute(rcvbuf=rcvbuf, groups=RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR)
ipr.bind()
state = {"events": 0, "errors": 0, "first": 0.0, "last": 0.0}


def stop(*_):
    seconds = state["last"] - state["first"]
    print(json.dumps({"tool": "pyroute2", "events": state["events"], "errors": state["errors"], "seconds": seconds}), flush=True)
    # Straight out: pyroute2's event loop objects to an orderly exit from a signal handler.
    os._exit(0)


signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
while True:
    try:
        messages = ipr.get()
    except OSError:
        state["errors"] += 1
        continue
    now = time.monotonic()
    for m in messages:
        if state["events"] == 0:
            state["first"] = now
        state["events"] += 1
        state["last"] = now
