"""Sign-ins per second per core: USERS people sign in with password + TOTP through the release
dev server, and the CPU time of the server's threads (cpu.py; Porter's code, not moto's)
is read around each step. Standard library, oathtool and porterctl; bounded: USERS sign-ins.

    python3 tests/bench/signin.py BASE ENV_FILE ACTIVATION_LINK DEV_PID PORTERCTL USERS"""
from cpu import spent, threads
import http.cookiejar, json, os, re, statistics, subprocess, sys, time, urllib.parse, urllib.request

base, env_file, link, pid, porterctl, users = sys.argv[1:7]
users = int(users)
env = dict(os.environ)
env.update(l.split("=", 1) for l in open(env_file).read().splitlines() if "=" in l)
password = "tangerine orbit kettle 94"  # pragma: allowlist secret


def cpu():
    """The dev server's threads' CPU so far (Porter's code, not moto's)."""
    return threads(pid)


class Browser:
    def __init__(self):
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"content-type": "application/json", "origin": base})
        try:
            with self.opener.open(req) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def ok(self, method, path, body=None):
        status, answer = self.call(method, path, body)
        assert status < 300, (path, status, answer)
        return answer


def totp(secret, offset=0):
    at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + offset))
    return subprocess.check_output(["oathtool", "--totp", "-b", "-N", at, secret]).decode().strip()


def activate(link_or_token, email):
    token = urllib.parse.parse_qs(urllib.parse.urlparse(link_or_token).query)["token"][0]
    b = Browser()
    b.ok("POST", "/api/activation", {"token": token, "password": password,
                                      "password_confirm": password})
    b.ok("POST", "/api/login/password", {"email": email, "password": password})
    secret = b.ok("POST", "/api/mfa/totp", {})["secret"]
    b.ok("POST", "/api/mfa/totp/confirm", {"code": totp(secret)})
    return b, secret


admin, _ = activate(link, "admin@demo.test")
admin.ok("POST", "/api/setup", {"organisation_name": "Demo Company"})
tenant = admin.ok("GET", "/api/me")["tenant"]["id"]
subprocess.run([porterctl, "tenant", "set-max-users", tenant, "--max-users", str(users + 1)],
               env=env, check=True, stdout=subprocess.DEVNULL)
emails = [f"user{i}@demo.test" for i in range(users)]
for e in emails:
    admin.ok("POST", "/api/users", {"email": e, "role": "core"})
mails = json.loads(urllib.request.urlopen(base + "/_dev/outbox.json").read())
links = {}
for m in mails:
    found = re.search(r"https?://\S+/activate\?token=[\w-]+", m["body"])
    if found and m["to"]:
        links[m["to"][0]] = found.group(0)
people = [(e, activate(links[e], e)[1]) for e in emails]

# Each person signs in once in a fresh browser: a code of the next step, which is later than
# the one their enrolment spent.
browsers = [Browser() for _ in people]
t0, c0 = time.perf_counter(), cpu()
walls = []
for b, (e, _) in zip(browsers, people):
    t = time.perf_counter()
    assert b.ok("POST", "/api/login/password", {"email": e, "password": password})["next"] == "mfa_verify"
    walls.append((time.perf_counter() - t) * 1000)
t1, c1 = time.perf_counter(), cpu()
mfa_walls = []
for b, (e, secret) in zip(browsers, people):
    t = time.perf_counter()
    b.ok("POST", "/api/login/mfa", {"method": "totp", "code": totp(secret, 30)})
    mfa_walls.append((time.perf_counter() - t) * 1000)
t2, c2 = time.perf_counter(), cpu()

per_password = spent(c0, c1) / users * 1000
per_mfa = spent(c1, c2) / users * 1000
per_login = per_password + per_mfa
print(f"sign-ins (password + TOTP), {users} people, one after another, release dev server:")
print(f"  password step: wall median {statistics.median(walls):.1f} ms, "
      f"CPU {per_password:.1f} ms per step")
print(f"  MFA step:      wall median {statistics.median(mfa_walls):.1f} ms, "
      f"CPU {per_mfa:.1f} ms per step (oathtool's own time is outside the server)")
print(f"  CPU per sign-in {per_login:.1f} ms: {1000 / per_login:.0f} sign-ins per second per core")
print(f"RESULT cpu_per_password_ms={per_password:.1f} cpu_per_signin_ms={per_login:.1f} "
      f"signins_per_core_s={1000 / per_login:.0f}")
