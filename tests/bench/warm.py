"""CPU per password step in the Lambda binary itself: the login function runs under a Runtime
API played here (as in coldstart.py) and answers N password steps one after another, warm;
the CPU its threads used (cpu.py) is read around them. Nothing of the dev server is in
the figure, only the function, its SDK calls and the hash. Twice: talking to moto directly
(which answers HTTP/1.0, so every request opens a connection) and through a loopback proxy
that keeps the function's connections open, as DynamoDB's endpoint does.

    python3 tests/bench/warm.py BIN_DIR ENV_FILE EMAIL PASSWORD N

Standard library only; ENV_FILE (the dev server's) points every AWS call at moto on loopback."""
from cpu import spent, threads
import http, http.server, json, os, queue, subprocess, sys, threading, time

bin_dir, env_file, email, password, n = sys.argv[1:6]
n = int(n)
events_dir = os.path.join(os.path.dirname(__file__), "..", "events")


def password_event(i):
    e = json.load(open(os.path.join(events_dir, "identify.json")))
    e["rawPath"] = e["requestContext"]["http"]["path"] = "/api/login/password"
    e["routeKey"] = e["requestContext"]["routeKey"] = "POST /api/login/password"
    # A source address per step: the per-address guess limit must not be what is measured.
    e["requestContext"]["http"]["sourceIp"] = f"198.18.{i // 250}.{i % 250 + 1}"
    e["body"] = json.dumps({"email": email, "password": password})
    return json.dumps(e).encode()


def reply(handler, status, headers, body=b""):
    """The whole answer in one write, as a server that builds its response first sends it:
    headers and body written apart reach the function as two segments, and it wakes up twice
    (CPU billed to the function that a real Runtime API or DynamoDB does not cause)."""
    head = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}"]
    head += [f"{k}: {v}" for k, v in headers] + [f"content-length: {len(body)}", "", ""]
    handler.wfile.write("\r\n".join(head).encode() + body)


class Runtime(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
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


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


class KeepAlive(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 towards the function, one fresh HTTP/1.0 request to moto per request."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        import http.client, urllib.parse
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        target = urllib.parse.urlparse(self.server.moto)
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
        conn.request("POST", self.path, body, headers)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        skip = ("content-length", "connection", "transfer-encoding")
        reply(self, r.status, [(k, v) for k, v in r.getheaders() if k.lower() not in skip], data)


env = dict(os.environ)
env.update(l.split("=", 1) for l in open(env_file).read().splitlines() if "=" in l)
proxy = Server(("127.0.0.1", 0), KeepAlive)
proxy.moto = env["AWS_ENDPOINT_URL"]
threading.Thread(target=proxy.serve_forever, daemon=True).start()
env.update({"AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024", "AWS_LAMBDA_LOG_GROUP_NAME": "bench",
            "AWS_LAMBDA_LOG_STREAM_NAME": "bench", "RUST_LOG": "warn"})


def measure(endpoint):
    """One process under a Runtime API of its own: the /next a killed process left waiting
    must not take the next process's event (with one shared queue, it did, now and then)."""
    global proc, server
    server = Server(("127.0.0.1", 0), Runtime)
    server.events, server.answers = queue.Queue(), queue.Queue()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    proc = subprocess.Popen([os.path.join(bin_dir, "login")],
                            env=dict(env, AWS_ENDPOINT_URL=endpoint,
                                     AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        step(0)  # cold: connections, the hash's working memory
        c0, t0 = cpu(), time.perf_counter()
        for i in range(1, n + 1):
            step(i)
        c1, t1 = cpu(), time.perf_counter()
    finally:
        proc.kill()
        proc.wait()
        server.shutdown()
    return spent(c0, c1) / n * 1000, (t1 - t0) / n * 1000


def cpu():
    return threads(proc.pid)


def step(i):
    server.events.put(password_event(i))
    path, body = server.answers.get(timeout=30)
    status = json.loads(body).get("statusCode")
    assert path.endswith("/response") and status == 200, (path, body[:300])


direct, _ = measure(env["AWS_ENDPOINT_URL"])
kept, _ = measure(f"http://127.0.0.1:{proxy.server_address[1]}")
print(f"login binary, warm, {n} right-password steps each: CPU per step {direct:.1f} ms "
      f"(a connection per AWS request), {kept:.1f} ms (connections kept open)")
print(f"RESULT lambda_cpu_per_password_ms={direct:.1f} kept_alive={kept:.1f}")
