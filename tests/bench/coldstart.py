"""Cold starts as Lambda sees them, on loopback. This script plays the Lambda Runtime API: it
starts a function binary with AWS_LAMBDA_RUNTIME_API pointing here and times exec -> its first
GET /next (init), then event handed over -> response posted (first invoke). Every binary is
started `runs` times per round, rounds interleave the binaries (so a slow moment of the machine
hits all of them), and the table gives medians with ratios to the two floor binaries.

    python3 tests/bench/coldstart.py BIN_DIR ENV_FILE RUNS ROUNDS [OUT.md]

Standard library only. The environment (ENV_FILE, written by the dev server) points every AWS
call at moto on loopback; nothing leaves the machine."""
import http.server, json, os, random, statistics, subprocess, sys, threading, time

bin_dir, env_file = sys.argv[1], sys.argv[2]
runs, rounds = int(sys.argv[3]), int(sys.argv[4])
out_md = sys.argv[5] if len(sys.argv) > 5 else None
events_dir = os.path.join(os.path.dirname(__file__), "..", "events")

# What each function's first request is: the signed-out answer where the function needs a
# session, a real password attempt for login (reads, guess counters, argon2id, audit write).
EVENTS = {
    "floor-hello": "health.json",
    "floor-dynamodb": "health.json",
    "web": "health.json",
    "login": None,
    "activate": "activation-unknown-token.json",
    "me": "me-signed-out.json",
    "mfa-enroll": "mfa-totp-signed-out.json",
    "setup": "setup-signed-out.json",
    "invite-user": "add-user-signed-out.json",
    "users": "list-users-signed-out.json",
    "configure-sso": "sso-config-signed-out.json",
    "login-callback": "callback-unknown-state.json",
    "api-management": "platform-config-signed-out.json",
    "check-license": "license-check-signed-out.json",
    "account": "account-reauth-signed-out.json",
    "account-password": "account-password-signed-out.json",  # pragma: allowlist secret
    "token": "token-signed-out.json",
    "authorizer": "authorizer-forged-token.json",
    "solutions": "solution-with-context.json",
    "mailer": "mail-job.json",
    "organizations": "organizations-signed-out.json",
    "oauth2": "openid-configuration.json",
}
# The floor each function is held to: web links no AWS client.
FLOOR = {name: "floor-dynamodb" for name in EVENTS}
FLOOR.update({"floor-hello": None, "floor-dynamodb": None, "web": "floor-hello"})


def event_for(name):
    if EVENTS[name] is not None:
        return open(os.path.join(events_dir, EVENTS[name])).read()
    base = json.load(open(os.path.join(events_dir, "identify.json")))
    ip = f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}"
    base["rawPath"] = base["requestContext"]["http"]["path"] = "/api/login/password"
    base["routeKey"] = base["requestContext"]["routeKey"] = "POST /api/login/password"
    base["requestContext"]["http"]["sourceIp"] = ip
    wrong = "not the password at all"  # pragma: allowlist secret
    base["body"] = json.dumps({"email": f"bench-{random.randrange(10**9)}@bench.test",
                               "password": wrong})
    return json.dumps(base)


class Runtime(http.server.BaseHTTPRequestHandler):
    """One invocation per process: the first /next gets the event, later ones wait."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        try:
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the process was killed once it answered

    def do_GET(self):
        run = self.server.run
        if not self.path.endswith("/runtime/invocation/next"):
            return self.reply(404)
        if run["next_at"] is not None:
            run["done"].wait(30)  # the process is killed once it answered
            return self.reply(500)
        run["next_at"] = time.perf_counter()
        body = run["event"].encode()
        run["sent_at"] = time.perf_counter()
        self.reply(200, body, [
            ("content-type", "application/json"),
            ("lambda-runtime-aws-request-id", "bench-request"),
            ("lambda-runtime-deadline-ms", str(int(time.time() * 1000) + 30000)),
            ("lambda-runtime-invoked-function-arn",
             "arn:aws:lambda:us-east-1:000000000000:function:bench"),
            ("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000"),
        ])

    def do_POST(self):
        run = self.server.run
        length = int(self.headers.get("content-length", 0))
        body = self.rfile.read(length)
        if "/invocation/" in self.path and self.path.endswith("/response"):
            run["answered_at"] = time.perf_counter()
            run["answer"] = body
        else:
            run["error"] = body
        self.reply(202, b"{}")
        run["done"].set()


env = dict(os.environ)
env.update(l.split("=", 1) for l in open(env_file).read().splitlines() if "=" in l)
env.update({
    "AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256", "AWS_LAMBDA_LOG_GROUP_NAME": "bench",
    "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
    "RUST_LOG": "info",  # as template.yaml deploys: a function's log lines are part of its cost
})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a killed process leaves its last request half-done; that is expected


def cold_start(name):
    """One process under a Runtime API of its own (a fresh port: a request of the previous
    process still in flight cannot be taken for this one's)."""
    server = Server(("127.0.0.1", 0), Runtime)
    server.run = run = {"event": event_for(name), "next_at": None, "sent_at": None,
                        "answered_at": None, "answer": None, "error": None,
                        "done": threading.Event()}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    penv = dict(env, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}")
    started = time.perf_counter()
    proc = subprocess.Popen([os.path.join(bin_dir, name)], env=penv,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    finished = run["done"].wait(30)
    proc.kill()
    _, err = proc.communicate()
    server.shutdown()
    server.server_close()
    if not finished or run["answered_at"] is None:
        sys.exit(f"{name}: no answer ({run['error']!r}); stderr: {err.decode()[-800:]}")
    answer = json.loads(run["answer"])
    # An HTTP answer's status; the authorizer's verdict; the mailer's failed jobs.
    status = answer.get("statusCode", answer.get("isAuthorized",
                                                 len(answer.get("batchItemFailures", []))))
    return ((run["next_at"] - started) * 1000, (run["answered_at"] - run["sent_at"]) * 1000,
            status)


names = [n for n in EVENTS if os.path.exists(os.path.join(bin_dir, n))]
init = {n: [] for n in names}
invoke = {n: [] for n in names}
statuses = {n: set() for n in names}
for r in range(rounds):
    for _ in range(runs):
        for n in names:
            i, f, s = cold_start(n)
            init[n].append(i)
            invoke[n].append(f)
            statuses[n].add(s)

med = {n: statistics.median(init[n]) for n in names}
rows = ["| binary | size | init | first invoke (answer) | init / floor | size / floor |",
        "|---|---|---|---|---|---|"]
size = {n: os.path.getsize(os.path.join(bin_dir, n)) for n in names}
for n in names:
    floor = FLOOR[n]
    ratio = f"{med[n] / med[floor]:.2f}× {floor}" if floor in med else "—"
    sratio = f"{size[n] / size[floor]:.2f}×" if floor in size else "—"
    rows.append(f"| {n} | {size[n] / 1e6:.1f} MB | {med[n]:.1f} ms | "
                f"{statistics.median(invoke[n]):.1f} ms ({'/'.join(map(str, sorted(statuses[n])))}) "
                f"| {ratio} | {sratio} |")
table = "\n".join(rows)
print(f"cold starts: {runs} per binary per round, {rounds} rounds, medians")
print(table)
if out_md:
    open(out_md, "w").write(table + "\n")
