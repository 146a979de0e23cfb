#!/usr/bin/env python3
"""dns_query.py SERVER NAME — one A query over UDP; prints the answers' IPv4 addresses
(one per line) or the rcode as "RCODE n". For e2e tests on hosts without dig."""
import random
import socket
import struct
import sys


def main():
    server, name = sys.argv[1], sys.argv[2]
    qid = random.randint(0, 65535)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\x00" + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(q, (server, 53))
    r, _ = s.recvfrom(4096)
    rid, flags, qd, an = struct.unpack(">HHHH", r[:8])
    if rid != qid:
        print("BAD ID")
        return
    if flags & 15:
        print("RCODE %d" % (flags & 15))
        return
    i = 12
    for _ in range(qd):
        while r[i] != 0:
            i += 1 + r[i]
        i += 5
    for _ in range(an):
        if r[i] & 0xC0 == 0xC0:
            i += 2
        else:
            while r[i] != 0:
                i += 1 + r[i]
            i += 1
        rtype, _, _, rdlen = struct.unpack(">HHIH", r[i:i + 10])
        i += 10
        if rtype == 1 and rdlen == 4:
            print(socket.inet_ntoa(r[i:i + 4]))
        i += rdlen


main()
