"""Sign-ins per second per core: USERS people sign in with password + TOTP through the release
dev server, and the CPU time of the server's threads (cpu.py; Porter's code, not moto's)
is read around each step. Standard library, oathtool and porterctl; bounded: USERS sign-ins.

    python3 tests/bench/signin.py BASE ENV_FILE ACTIVATION_LINK DEV_PID PORTERCTL USERS [PEOPLE]

PEOPLE: a file to write the people to (address and TOTP secret, JSON), for tokens.py."""
from cpu import spent, threads
from browser import Browser, totp
import json, os, re, statistics, subprocess, sys, time, urllib.parse, urllib.request

base, env_file, link, pid, porterctl, users = sys.argv[1:7]
people_out = sys.argv[7] if len(sys.argv) > 7 else None
users = int(users)
env = dict(os.environ)
env.update(l.split("=", 1) for l in open(env_file).read().splitlines() if "=" in l)
password = "tangerine orbit kettle 94"  # pragma: allowlist secret


def cpu():
    """The dev server's threads' CPU so far (Porter's code, not moto's)."""
    return threads(pid)


def activate(link_or_token, email):
    token = urllib.parse.parse_qs(urllib.parse.urlparse(link_or_token).query)["token"][0]
    b = Browser(base)
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
if people_out:
    json.dump([{"email": e, "totp_secret": s} for e, s in people], open(people_out, "w"))

# Each person signs in once in a fresh browser: a code of the next step, which is later than
# the one their enrolment spent.
browsers = [Browser(base) for _ in people]
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
