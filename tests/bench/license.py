"""Signs in the demo admin (activation, password, TOTP through oathtool, setup), saves the demo
platform connection, then times N license checks. Standard library only."""
import http.cookiejar, json, statistics, subprocess, sys, time, urllib.parse, urllib.request

base, env_file, link, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
env = dict(l.split("=", 1) for l in open(env_file).read().splitlines() if "=" in l)
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"content-type": "application/json", "origin": base})
    try:
        with opener.open(req) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")

password = "tangerine orbit kettle 94"
token = urllib.parse.parse_qs(urllib.parse.urlparse(link).query)["token"][0]
assert call("POST", "/api/activation", {"token": token, "password": password, "password_confirm": password})[0] == 200
assert call("POST", "/api/login/password", {"email": "admin@demo.test", "password": password})[0] == 200
status, start = call("POST", "/api/mfa/totp", {})
code = subprocess.check_output(["oathtool", "--totp", "-b", start["secret"]]).decode().strip()
assert call("POST", "/api/mfa/totp/confirm", {"code": code})[0] == 200
assert call("POST", "/api/setup", {"organisation_name": "Demo Company"})[0] == 200
keys = env["PORTER_DEV_PLATFORM_KEYS"]
status, body = call("PUT", "/api/config/platform", {
    "hostname": env["PORTER_DEV_PLATFORM"], "client_id": "demo-tenant", "kid": "demo-key-1",
    "private_key_pem": open(f"{keys}/demo-key.pem").read(),
    "private_key_password": open(f"{keys}/demo-key-password.txt").read()})
assert status == 200, body
assert call("POST", "/api/license/check", {})[0] == 200  # cold
times = []
for _ in range(n):
    t = time.perf_counter()
    status, body = call("POST", "/api/license/check", {})
    times.append((time.perf_counter() - t) * 1000)
    assert status == 200, body
times.sort()
print(f"license check, warm, {n} checks: median {statistics.median(times):.1f} ms, "
      f"p90 {times[int(n * 0.9) - 1]:.1f} ms, min {times[0]:.1f} ms, max {times[-1]:.1f} ms")
