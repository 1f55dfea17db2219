"""A child for `awsrun --server` tests: abuses the endpoint as any local user could, then
asks it as an SDK would, and reports as one JSON object.

It holds idle connections open (more than awsrun serves at once), opens a burst of
connections at once, and drops a connection with a reset; meanwhile boto3's container
provider must still get credentials, and awsrun's thread count must stay bounded."""

from __future__ import annotations

import json
import os
import socket
import struct
import sys
import urllib.parse

import boto3

IDLE = int(sys.argv[1])
BURST = int(sys.argv[2])
url = urllib.parse.urlsplit(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
address = (url.hostname or "", url.port or 80)


def awsrun_threads() -> int:
    with open(f"/proc/{os.getppid()}/status") as status:
        line = next(line for line in status if line.startswith("Threads:"))
    return int(line.split()[1])


idle = []
for _ in range(IDLE):
    held = socket.create_connection(address, timeout=10)
    held.sendall(b"GET /credentials HTTP/1.1\r\n")  # and never the rest
    idle.append(held)
# While they are held: a new boto3 session must get credentials from the endpoint.
session = boto3.session.Session(region_name="us-east-1")
arn = session.client("sts").get_caller_identity()["Arn"]
threads_while_held = awsrun_threads()

burst = [socket.create_connection(address, timeout=30) for _ in range(BURST)]
for connection in burst:
    connection.sendall(b"GET /credentials HTTP/1.0\r\n\r\n")
statuses = []
for connection in burst:
    with connection, connection.makefile("rb") as answer:
        statuses.append(int(answer.readline().split()[1]))

# A client that gives up: its request sent, then a reset instead of reading the answer.
quitter = socket.create_connection(address, timeout=10)
token = os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
quitter.sendall(f"GET /credentials HTTP/1.0\r\nAuthorization: {token}\r\n\r\n".encode())
quitter.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
quitter.close()
# And one after all of that.
later_arn = boto3.session.Session(region_name="us-east-1").client("sts").get_caller_identity()
for held in idle:
    held.close()
print(
    json.dumps(
        {
            "arn": arn,
            "later_arn": later_arn["Arn"],
            "threads_while_held": threads_while_held,
            "burst_statuses": sorted(set(statuses)),
            "burst_answered": len(statuses),
        }
    )
)
