"""A Lambda Runtime API played on loopback, for a function binary kept warm: one process under
a Runtime API of its own (a /next a killed process left waiting must not take another
process's event), events handed over one at a time, and the CPU its threads used around
each (cpu.py). Also a loopback proxy in front of the AWS endpoint that keeps the function's
connections open, as AWS's endpoints do, and counts what the function asks of AWS (by
X-Amz-Target: `DynamoDB_20120810.BatchGetItem`, `TrentService.Sign`, ...).

Standard library only."""
from cpu import spent, threads
import http, http.client, http.server, json, os, queue, subprocess, threading, time, urllib.parse


def reply(handler, status, headers, body=b""):
    """The whole answer in one write, as a server that builds its response first sends it:
    headers and body written apart reach the function as two segments, and it wakes up twice
    (CPU billed to the function that a real Runtime API or DynamoDB does not cause)."""
    head = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}"]
    head += [f"{k}: {v}" for k, v in headers] + [f"content-length: {len(body)}", "", ""]
    handler.wfile.write("\r\n".join(head).encode() + body)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a killed process leaves its last request half-done; that is expected


class Runtime(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.polls.put(None)  # the function asks for its next event: it is idle now
        body = self.server.events.get()
        reply(self, 200, [("content-type", "application/json"),
                          ("lambda-runtime-aws-request-id", f"warm-{time.time_ns()}"),
                          ("lambda-runtime-deadline-ms", str(int(time.time() * 1000) + 30000)),
                          ("lambda-runtime-invoked-function-arn",
                           "arn:aws:lambda:us-east-1:000000000000:function:bench")], body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        reply(self, 202, [])
        self.server.answers.put((self.path, body))


class KeepAlive(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 towards the function, one fresh HTTP/1.0 request to moto per request; each
    request's X-Amz-Target is counted."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        self.server.seen.append(self.headers.get("x-amz-target", self.path))
        target = urllib.parse.urlparse(self.server.moto)
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
        conn.request("POST", self.path, body, headers)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        skip = ("content-length", "connection", "transfer-encoding")
        reply(self, r.status, [(k, v) for k, v in r.getheaders() if k.lower() not in skip], data)


def keep_alive_proxy(moto):
    """A running KeepAlive proxy to `moto`: its URL, and the list of what it was asked."""
    proxy = Server(("127.0.0.1", 0), KeepAlive)
    proxy.moto, proxy.seen = moto, []
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{proxy.server_address[1]}", proxy.seen


def lambda_env(env_file, **extra):
    """The dev server's environment (every AWS call to moto on loopback) and a function's."""
    env = dict(os.environ)
    env.update(l.split("=", 1) for l in open(env_file).read().splitlines() if "=" in l)
    env.update({"AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024", "AWS_LAMBDA_LOG_GROUP_NAME": "bench",
                "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
                # The level template.yaml deploys: the access line of every request is CPU
                # Lambda bills.
                "RUST_LOG": "info"})
    env.update(extra)
    return env


class Process:
    """A function binary under a Runtime API of its own, its stdout handed to `on_line`."""

    def __init__(self, binary, env, on_line=None):
        self.server = Server(("127.0.0.1", 0), Runtime)
        self.server.events, self.server.answers = queue.Queue(), queue.Queue()
        self.server.polls = queue.Queue()
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        api = f"127.0.0.1:{self.server.server_address[1]}"
        self.proc = subprocess.Popen([binary], env=dict(env, AWS_LAMBDA_RUNTIME_API=api),
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.on_line = on_line or (lambda line: None)
        threading.Thread(target=self.read_log, daemon=True).start()
        self.server.polls.get(timeout=30)  # started, and waiting for its first event

    def read_log(self):
        for line in self.proc.stdout:
            self.on_line(line)

    def invoke(self, event):
        """One event: the answer (parsed), the CPU it took (ms; read before the event and once
        the function asked for its next one, when its thread sleeps and schedstat has counted
        all it did) and the time until it answered (ms)."""
        c0 = threads(self.proc.pid)
        t0 = time.perf_counter()
        self.server.events.put(event if isinstance(event, bytes) else json.dumps(event).encode())
        path, body = self.server.answers.get(timeout=30)
        wall = (time.perf_counter() - t0) * 1000
        assert path.endswith("/response"), (path, body[:300])
        self.server.polls.get(timeout=30)
        return json.loads(body), spent(c0, threads(self.proc.pid)) * 1000, wall

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.server.shutdown()
