"""Access tokens and the authorizer, warm, in the Lambda binaries themselves (runtime.py): a
person signs in through the dev server; then `token` answers N `POST /api/token` events with
that session's cookie, and `authorizer` answers N events with one of those tokens (the bearer
path) and N with the cookie (the session path). Every AWS request of the functions goes
through a loopback proxy that counts them by X-Amz-Target. For each: the CPU of a request in
the function's threads (cpu.py), the time until it answered, and what it asked of AWS. The
first event of each process is reported apart (connections, the signing key's id, the JWKS).

    python3 tests/bench/tokens.py BIN_DIR ENV_FILE BASE PEOPLE N

PEOPLE: signin.py's file of people (address, TOTP secret); they share its password.
Standard library and oathtool; bounded: 3 N + 3 events."""
from browser import Browser, totp
from collections import Counter
from runtime import Process, keep_alive_proxy, lambda_env
import json, os, statistics, sys, time

bin_dir, env_file, base, people_file, n = sys.argv[1:6]
n = int(n)
events_dir = os.path.join(os.path.dirname(__file__), "..", "events")
password = "tangerine orbit kettle 94"  # pragma: allowlist secret
# A product route that needs a caller and no entitlement: the license check is a map lookup,
# the same work either way.
product_path = "/api/reports/weekly"

person = json.load(open(people_file))[-1]
browser = Browser(base)
assert browser.ok("POST", "/api/login/password",
                  {"email": person["email"], "password": password})["next"] == "mfa_verify"
# A code later than the one signin.py spent (of the next step, moments ago): the next
# step's, and if that is the spent one, the one after it once the clock gets there.
for attempt in range(3):
    status, answer = browser.call("POST", "/api/login/mfa",
                                  {"method": "totp", "code": totp(person["totp_secret"], 30)})
    if status == 200:
        break
    assert answer["error"]["code"] == "invalid_code" and attempt < 2, (status, answer)
    time.sleep(30 - time.time() % 30 + 1)
cookies = [c for c in browser.cookies() if c.split("=", 1)[0].endswith("porter_session")]
assert cookies, browser.cookies()

env = lambda_env(env_file)
endpoint, seen = keep_alive_proxy(env["AWS_ENDPOINT_URL"])
env["AWS_ENDPOINT_URL"] = endpoint


def token_event():
    e = json.load(open(os.path.join(events_dir, "identify.json")))
    e["rawPath"] = e["requestContext"]["http"]["path"] = "/api/token"
    e["routeKey"] = e["requestContext"]["routeKey"] = "POST /api/token"
    e["requestContext"]["http"]["method"] = "POST"
    e["headers"]["origin"] = base
    e["headers"]["content-type"] = "application/json"
    e["cookies"] = cookies
    e["body"] = "{}"
    return e


def authorizer_event(token=None):
    e = json.load(open(os.path.join(events_dir, "authorizer-no-identity.json")))
    e["rawPath"] = e["requestContext"]["http"]["path"] = product_path
    if token:
        e["headers"]["authorization"] = f"Bearer {token}"
    else:
        e["cookies"] = cookies
    return e


def run(process, event, check):
    """N + 1 events: the first apart, then the medians of the rest and the AWS requests of
    each (a Counter of how many times each combination was seen)."""
    results = []
    for _ in range(n + 1):
        before = len(seen)
        answer, cpu, wall = process.invoke(event() if callable(event) else event)
        check(answer)
        results.append((cpu, wall, tuple(sorted(Counter(seen[before:]).items()))))
    first, rest = results[0], results[1:]
    return {"first": first, "cpu": statistics.median(c for c, _, _ in rest),
            "cpu_mean": statistics.mean(c for c, _, _ in rest),
            "wall": statistics.median(w for _, w, _ in rest),
            "wall_p90": sorted(w for _, w, _ in rest)[int(0.9 * len(rest))],
            "requests": Counter(r for _, _, r in rest)}


def requests_text(combos, of=n):
    """`1× BatchGetItem (199 of 200); 1× BatchGetItem + 1× UpdateItem (1 of 200)`."""
    def one(combo):
        return " + ".join(f"{count}× {target.split('.')[-1]}" for target, count in combo) \
            or "no AWS request"
    return "; ".join(f"{one(c)} ({times} of {of})" for c, times in combos.most_common())


tokens = []


def issued(answer):
    assert answer.get("statusCode") == 200, answer
    tokens.append(json.loads(answer["body"])["access_token"])


def allowed(via):
    def check(answer):
        assert answer.get("isAuthorized") is True, answer
        assert answer["context"]["auth_via"] == via, answer
    return check


token_fn = Process(os.path.join(bin_dir, "token"), env)
try:
    minted = run(token_fn, token_event, issued)
finally:
    token_fn.close()
authorizer = Process(os.path.join(bin_dir, "authorizer"), env)
try:
    bearer = run(authorizer, lambda: authorizer_event(tokens[-1]), allowed("token"))
    session = run(authorizer, authorizer_event(), allowed("session"))
finally:
    authorizer.close()

# The same step as a browser sees it, through the dev server (HTTP, the router, moto).
walls = []
for _ in range(min(n, 50)):
    t = time.perf_counter()
    browser.ok("POST", "/api/token", {})
    walls.append((time.perf_counter() - t) * 1000)

print(f"access tokens and the authorizer, warm Lambda binaries, {n} events each (medians; "
      f"AWS through a keep-alive proxy to moto):")
for name, r in (("POST /api/token (token)", minted), ("authorizer, bearer token", bearer),
                ("authorizer, session cookie", session)):
    print(f"  {name}: CPU {r['cpu']:.2f} ms (mean {r['cpu_mean']:.2f}), answered in "
          f"{r['wall']:.2f} ms (p90 {r['wall_p90']:.2f}); {requests_text(r['requests'])}")
    print(f"    first event: CPU {r['first'][0]:.1f} ms, answered in {r['first'][1]:.1f} ms; "
          f"{requests_text(Counter([r['first'][2]]), 1)}")
print(f"  bearer path: {1000 / bearer['cpu_mean']:.0f} verified tokens per second per core")
print(f"  POST /api/token through the dev server: median {statistics.median(walls):.1f} ms")
print(f"RESULT token_cpu_ms={minted['cpu']:.2f} token_wall_ms={minted['wall']:.2f} "
      f"bearer_cpu_ms={bearer['cpu']:.3f} bearer_per_core_s={1000 / bearer['cpu_mean']:.0f} "
      f"session_cpu_ms={session['cpu']:.2f} session_wall_ms={session['wall']:.2f}")
