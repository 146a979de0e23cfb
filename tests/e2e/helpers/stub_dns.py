# stub_dns.py ADDR NAME IP — a stand-in upstream resolver for the multi-node e2e tests:
# answers UDP A queries for NAME (and nothing else: NXDOMAIN) on ADDR:53, so that the
# cluster DNS's forwarding of outside names can be seen without the internet. Runs until
# killed; prints "ready" once it listens. Every answered query is logged to stdout.
import socket
import struct
import sys

addr, name, ip = sys.argv[1], sys.argv[2].rstrip(".").lower(), sys.argv[3]


def parse_question(msg):
    """The first question's name (lower case, no trailing dot), type and end offset."""
    labels, pos = [], 12
    while msg[pos] != 0:
        n = msg[pos]
        labels.append(msg[pos + 1 : pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    pos += 1
    qtype = struct.unpack("!H", msg[pos : pos + 2])[0]
    return ".".join(labels).lower(), qtype, pos + 4


sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((addr, 53))
print("ready", flush=True)
while True:
    msg, peer = sock.recvfrom(4096)
    try:
        qname, qtype, end = parse_question(msg)
    except (IndexError, struct.error):
        continue  # malformed: dropped
    qid = msg[:2]
    question = msg[12:end]
    known = qname == name
    answers = b""
    if known and qtype == 1:
        # a pointer to the question's name, type A, class IN, TTL 30, 4 bytes
        answers = struct.pack("!HHHIH", 0xC00C, 1, 1, 30, 4) + socket.inet_aton(ip)
    flags = 0x8180 if known else 0x8183  # response, RD+RA; rcode 0 or NXDOMAIN
    header = qid + struct.pack("!HHHHH", flags, 1, 1 if answers else 0, 0, 0)
    sock.sendto(header + question + answers, peer)
    print(f"{peer[0]} {qname} {qtype} {'answered' if known else 'nxdomain'}", flush=True)
