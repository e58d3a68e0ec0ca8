"""CPU per password step in the Lambda binary itself: the login function runs under a Runtime
API played here (as in coldstart.py) and answers N password steps, warm; the CPU its threads
used (cpu.py) is read around each step. Nothing of the dev server is in the figure, only the
function, its SDK calls and the hash. Two processes, a block of steps each by turns: one talks
to moto directly (which answers HTTP/1.0, so every request opens a connection), one through a
loopback proxy that keeps the function's connections open, as DynamoDB's endpoint does. With
PASSWORD_BENCH (the password_bench example's binary), one argon2id verification is measured
between the blocks, and each block's median step is compared with the verification next to it.
Each step is also compared with the verification it did itself, which the function logs at
debug level: the same hash, under the same conditions as the rest of the step.

    python3 tests/bench/warm.py BIN_DIR ENV_FILE EMAIL PASSWORD N [PASSWORD_BENCH]

Standard library only; ENV_FILE (the dev server's) points every AWS call at moto on loopback."""
from cpu import spent, threads
import http, http.server, json, os, queue, re, statistics, subprocess, sys, threading, time

bin_dir, env_file, email, password, n = sys.argv[1:6]
n = int(n)
reference_bin = sys.argv[6] if len(sys.argv) > 6 else None
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
            "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
            # The level template.yaml deploys (the access line of every request is CPU Lambda
            # bills), and the line with the time of the step's own verification.
            "RUST_LOG": "info,porter_shared::credentials::password=debug"})


class Function:
    """One login process under a Runtime API of its own: the /next a killed process left
    waiting must not take the next process's event (with one shared queue, it did, now and
    then)."""

    def __init__(self, endpoint):
        self.server = Server(("127.0.0.1", 0), Runtime)
        self.server.events, self.server.answers = queue.Queue(), queue.Queue()
        self.server.polls = queue.Queue()
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        api = f"127.0.0.1:{self.server.server_address[1]}"
        self.proc = subprocess.Popen([os.path.join(bin_dir, "login")],
                                     env=dict(env, AWS_ENDPOINT_URL=endpoint,
                                              AWS_LAMBDA_RUNTIME_API=api),
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.hashes = queue.Queue()
        threading.Thread(target=self.read_log, daemon=True).start()
        self.cpu = []  # the median step's CPU (ms), one figure per block
        self.own = []  # per block: the median verification inside a step (ms), step / it
        self.server.polls.get(timeout=30)  # started, and waiting for its first event
        self.step()  # cold: connections, the hash's working memory

    def read_log(self):
        """The function's JSON log lines; of them, the time of each password verification."""
        for line in self.proc.stdout:
            try:
                fields = json.loads(line).get("fields", {})
            except ValueError:
                continue
            if fields.get("message") == "password verification":
                self.hashes.put(float(fields["ms"]))

    def step(self):
        """One password step: the CPU it took (ms), read before the event and once the
        function asked for its next one (each time its thread sleeps, and schedstat has
        counted all it did), and the time of its own verification (ms)."""
        global steps
        steps += 1
        c0 = threads(self.proc.pid)
        self.server.events.put(password_event(steps))
        path, body = self.server.answers.get(timeout=30)
        status = json.loads(body).get("statusCode")
        assert path.endswith("/response") and status == 200, (path, body[:300])
        self.server.polls.get(timeout=30)
        cpu = spent(c0, threads(self.proc.pid)) * 1000
        try:
            return cpu, self.hashes.get(timeout=10)
        except queue.Empty:
            sys.exit("login logged no 'password verification' line (debug level, target "
                     "porter_shared::credentials::password): the step cannot be compared with its own verification")

    def block(self, k):
        """The median step of `k`: a step the host slowed down (it happens, at random) moves
        a mean but not a median, and the verification is a median too."""
        taken = [self.step() for _ in range(k)]
        self.cpu.append(statistics.median(c for c, _ in taken))
        self.own.append((statistics.median(h for _, h in taken),
                         statistics.median(c / h for c, h in taken)))

    def close(self):
        self.proc.kill()
        self.proc.wait()
        self.server.shutdown()


def reference(runs=10):
    """One argon2id verification, back to back and 40 ms apart (password_bench's medians)."""
    out = subprocess.run([reference_bin, str(runs)], capture_output=True, text=True,
                         check=True).stdout
    medians = re.findall(r"(back to back|40 ms apart), median ([0-9.]+) ms", out)
    return {kind: float(ms) for kind, ms in medians}


steps = 0
blocks = 5
direct = Function(env["AWS_ENDPOINT_URL"])
kept = Function(f"http://127.0.0.1:{proxy.server_address[1]}")
refs = []
try:
    # The host's speed drifts by several percent within a minute: the sign-ins and the
    # verification they are compared with are measured by turns, a block of each.
    for _ in range(blocks):
        direct.block(n // blocks)
        kept.block(n // blocks)
        if reference_bin:
            refs.append(reference())
finally:
    direct.close()
    kept.close()
per_step = {name: statistics.median(f.cpu) for name, f in (("direct", direct), ("kept", kept))}
print(f"login binary, warm, {n} right-password steps each: CPU of the median step {per_step['direct']:.1f} ms "
      f"(a connection per AWS request), {per_step['kept']:.1f} ms (connections kept open)")
result = f"RESULT lambda_cpu_per_password_ms={per_step['direct']:.1f} kept_alive={per_step['kept']:.1f}"
# Its own verification is the reference whose conditions are the step's: the same caches,
# cooled by the same waits on DynamoDB. One back to back finds its 19 MiB still in the
# shared cache; one 40 ms after the last finds it cooler than a step does.
own = statistics.median(h for h, _ in kept.own)
ratios = [r for _, r in kept.own]
print(f"the step's own verification (kept-alive): median {own:.1f} ms; step / its verification, "
      f"per block: {' '.join(f'{x:.2f}' for x in ratios)} (median {statistics.median(ratios):.2f})")
result += f" hash_own={own:.1f} ratio_own={statistics.median(ratios):.2f}"
if refs:
    for kind in ("back to back", "40 ms apart"):
        ref = statistics.median(r[kind] for r in refs)
        ratios = [c / r[kind] for c, r in zip(kept.cpu, refs)]
        print(f"one argon2id verification {kind}, between the blocks: median {ref:.1f} ms; "
              f"kept-alive step / verification, per block: {' '.join(f'{x:.2f}' for x in ratios)}"
              f" (median {statistics.median(ratios):.2f})")
        key = "b2b" if kind == "back to back" else "idle"
        result += f" hash_{key}={ref:.1f} ratio_{key}={statistics.median(ratios):.2f}"
print(result)
