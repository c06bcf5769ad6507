"""redis-py (Debian's python3-redis) with its default settings against a course server.

Run by real-clients.test.ts: /usr/bin/python3 redis_py_check.py PORT [lists|no-lists]
(lists: the step has expiry and lists, check them too). Prints one JSON
object of what came back; the test asserts on it. Any exception ends the script with a
traceback and a non-zero exit status.
"""
import json
import sys
import threading
import time

import redis

port = int(sys.argv[1])
r = redis.Redis(host="127.0.0.1", port=port)  # defaults: RESP2, no HELLO
other = redis.Redis(host="127.0.0.1", port=port)
out = {"version": redis.__version__}

# Strings.
r.set("py:s", "hello world")
out["get"] = r.get("py:s").decode()
out["get_missing"] = r.get("py:missing")
out["set_nx"] = r.set("py:s", "x", nx=True)
out["mset_mget"] = [v.decode() if v else None for v in (r.mset({"py:a": "1", "py:b": "2"}) and r.mget("py:a", "py:b", "py:none"))]
out["delete"] = r.delete("py:a", "py:b", "py:none")

# Counters: incr(k, n) sends INCRBY.
out["incr"] = r.incr("py:n")
out["incr_by"] = r.incr("py:n", 41)
out["decr"] = r.decr("py:n", 2)
out["incrbyfloat"] = r.incrbyfloat("py:f", 2.5)

# A pipeline of 1,000 commands: redis-py wraps it in MULTI/EXEC by default.
with r.pipeline() as p:
    for i in range(1000):
        p.incr("py:pipe")
    results = p.execute()
out["pipeline_len"] = len(results)
out["pipeline_last"] = results[-1]
out["pipeline_get"] = int(r.get("py:pipe"))

# A transaction with WATCH: check-and-set, retried when another client wrote first.
r.set("py:w", "10")
attempts = 0
while True:
    attempts += 1
    with r.pipeline() as p:
        try:
            p.watch("py:w")
            value = int(p.get("py:w"))
            if attempts == 1:
                other.set("py:w", "100")  # someone else writes between our read and EXEC
            p.multi()
            p.set("py:w", value + 1)
            p.execute()
            break
        except redis.WatchError:
            if attempts > 5:
                raise
out["watch_attempts"] = attempts
out["watch_final"] = int(r.get("py:w"))

def eventually(condition, what):
    """Waits until condition() is true, asking again; fails after 5 s (no fixed sleep)."""
    deadline = time.monotonic() + 5
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting until " + what)


if len(sys.argv) > 2 and sys.argv[2] == "lists":
    # Expiry.
    r.set("py:e", "v", ex=100)
    out["ttl"] = r.ttl("py:e")
    r.pexpire("py:e", 30)
    eventually(lambda: r.get("py:e") is None, "py:e expired")
    out["expired"] = True
    out["ttl_gone"] = r.ttl("py:e")
    # A blocking pop on a connection of its own, served by a push from this one.
    waiter = redis.Redis(host="127.0.0.1", port=port)
    popped = {}
    thread = threading.Thread(target=lambda: popped.update(value=waiter.blpop("py:q", 0)))
    thread.start()
    eventually(lambda: r.info()["blocked_clients"] == 1, "the waiter is blocked")
    r.rpush("py:q", "job")
    thread.join(5)
    out["blpop"] = [part.decode() for part in popped["value"]]
    out["blpop_timeout"] = waiter.blpop("py:q", 0.05)

print(json.dumps(out))
