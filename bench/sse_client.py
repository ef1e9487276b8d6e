"""A plain SSE client for the service benchmarks (no dependencies beyond Python 3).

latency URL      follows one stream; each `line` event whose text is `t <ns>` (the job's
                 clock when it printed it) gives one latency sample; prints them in ms.
fanout URL N     N clients on the same stream at once; prints lines seen by each.
"""
import json
import socket
import sys
import threading
import time
import urllib.parse


def stream(url, on_data):
    """Reads `url`'s event stream, calling on_data(event, data) per message, until it ends."""
    parts = urllib.parse.urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port or 80))
    path = parts.path + ("?" + parts.query if parts.query else "")
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept: text/event-stream\r\n"
        "Connection: close\r\n\r\n".encode()
    )
    reader = sock.makefile("rb")
    # Headers; the body is chunked: sizes on their own lines are skipped by the parser below
    # because they never start with a field name.
    while reader.readline() not in (b"\r\n", b""):
        pass
    event, data = None, []
    for raw in reader:
        line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
        if line == "":
            if data:
                on_data(event, "\n".join(data))
            event, data = None, []
        elif line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
    sock.close()


def lines_of(data):
    value = json.loads(data)
    return value if isinstance(value, list) else [value]


def latency(url):
    def on_data(event, data):
        if event != "line":
            return
        now = time.time_ns()
        for line in lines_of(data):
            text = line.get("text", "")
            if text.startswith("t "):
                print(f"{(now - int(text[2:])) / 1e6:.3f}", flush=True)

    stream(url, on_data)


def fanout(url, clients):
    counts = [0] * clients

    def follow(index):
        def on_data(event, data):
            if event == "line":
                counts[index] += len(lines_of(data))

        stream(url, on_data)

    threads = [threading.Thread(target=follow, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(" ".join(str(count) for count in counts))


if __name__ == "__main__":
    if sys.argv[1] == "latency":
        latency(sys.argv[2])
    else:
        fanout(sys.argv[2], int(sys.argv[3]))
