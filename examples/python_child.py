"""A child in Python, with only the standard library.

The parent starts it with spawnWithIpc("python3", { args: ["python_child.py"] }).
The channel is the socket on the descriptor named by IPC_CHANNEL_FD; each
message is one line of JSON. This child answers {"op": "add", "a": 1, "b": 2}
with {"sum": 3} and echoes anything else as {"echo": message}. It exits when
the parent closes the channel.
"""

import json
import os
import socket

channel = socket.socket(fileno=int(os.environ["IPC_CHANNEL_FD"]))
reader = channel.makefile("r", encoding="utf-8", newline="\n")


def send(message):
    channel.sendall((json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8"))


for line in reader:
    if not line.strip():
        continue
    message = json.loads(line)
    if isinstance(message, dict) and message.get("op") == "add":
        send({"sum": message["a"] + message["b"]})
    else:
        send({"echo": message})
