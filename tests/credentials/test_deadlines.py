"""Every call to AWS ends by a deadline, however its endpoint behaves: an STS that drips
its answer a byte at a time, a federation endpoint that answers without end or not in
HTTP. Raw sockets on 127.0.0.1 play the endpoints."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from conftest import Home, run_awsrun
from localsts import LocalSts

from awsrun.credentials.sts import CALL_DEADLINE_SECONDS


@contextmanager
def raw_endpoint(answer: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """A loopback endpoint whose every connection gets `answer` once its request is in."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return

            def handle(connection: socket.socket = connection) -> None:
                with connection:
                    connection.settimeout(5)
                    try:
                        connection.recv(65536)
                        answer(connection, stop)
                    except OSError:
                        pass

            threading.Thread(target=handle, daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()


def drip(connection: socket.socket, stop: threading.Event) -> None:
    """A byte every 4 s, well within any per-read timeout, for longer than the deadline."""
    started = time.monotonic()
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
    while not stop.is_set() and time.monotonic() - started < CALL_DEADLINE_SECONDS + 40:
        connection.sendall(b"<")
        stop.wait(4)


def test_an_sts_that_drips_its_answer_ends_at_the_deadline(home: Home, sts: LocalSts) -> None:
    with raw_endpoint(drip) as endpoint:
        result = run_awsrun(
            ["prod", "--", "true"], {**home.env, "AWS_ENDPOINT_URL_STS": endpoint}, timeout=150
        )

    assert result.returncode == 125
    assert "did not answer AssumeRole on" in result.stderr
    assert f"within {CALL_DEADLINE_SECONDS}s" in result.stderr
    assert result.stderr.count("\n") <= 2  # the wait notice, then the one line


def endless(connection: socket.socket, stop: threading.Event) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n")
    chunk = b" " * 65536
    for _ in range(64):  # 4 MiB at most: enough to pass any cap, bounded as the tests are
        if stop.is_set():
            return
        connection.sendall(chunk)


def not_http(connection: socket.socket, stop: threading.Event) -> None:
    connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")


@pytest.mark.parametrize(
    ("answer", "said"),
    [(endless, "answered more than 64 KiB"), (not_http, "did not answer in HTTP (BadStatusLine)")],
)
def test_a_federation_endpoint_that_is_not_one_is_one_line(
    home: Home,
    sts: LocalSts,
    answer: Callable[[socket.socket, threading.Event], None],
    said: str,
) -> None:
    with raw_endpoint(answer) as endpoint:
        env = {**home.env, "AWSRUN_FEDERATION_ENDPOINT": f"{endpoint}/federation"}
        result = run_awsrun(["console", "--print", "prod"], env, timeout=60)

    assert result.returncode == 125
    assert said in result.stderr
    assert "unexpected" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("awsrun: the AWS federation endpoint")
