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
from runtime import Process, keep_alive_proxy, lambda_env
import json, os, queue, re, statistics, subprocess, sys

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


env = lambda_env(env_file, RUST_LOG="info,porter_shared::credentials::password=debug")
kept_url, _ = keep_alive_proxy(env["AWS_ENDPOINT_URL"])


class Function:
    """One login process under a Runtime API of its own: the /next a killed process left
    waiting must not take the next process's event (with one shared queue, it did, now and
    then)."""

    def __init__(self, endpoint):
        self.hashes = queue.Queue()
        self.process = Process(os.path.join(bin_dir, "login"), dict(env, AWS_ENDPOINT_URL=endpoint),
                               self.read_line)
        self.cpu = []  # the median step's CPU (ms), one figure per block
        self.own = []  # per block: the median verification inside a step (ms), step / it
        self.step()  # cold: connections, the hash's working memory

    def read_line(self, line):
        """The function's JSON log lines; of them, the time of each password verification."""
        try:
            fields = json.loads(line).get("fields", {})
        except ValueError:
            return
        if fields.get("message") == "password verification":
            self.hashes.put(float(fields["ms"]))

    def step(self):
        """One password step: the CPU it took (ms), read before the event and once the
        function asked for its next one (each time its thread sleeps, and schedstat has
        counted all it did), and the time of its own verification (ms)."""
        global steps
        steps += 1
        answer, cpu, _ = self.process.invoke(password_event(steps))
        assert answer.get("statusCode") == 200, answer
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
        self.process.close()


def reference(runs=10):
    """One argon2id verification, back to back and 40 ms apart (password_bench's medians)."""
    out = subprocess.run([reference_bin, str(runs)], capture_output=True, text=True,
                         check=True).stdout
    medians = re.findall(r"(back to back|40 ms apart), median ([0-9.]+) ms", out)
    return {kind: float(ms) for kind, ms in medians}


steps = 0
blocks = 5
direct = Function(env["AWS_ENDPOINT_URL"])
kept = Function(kept_url)
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
