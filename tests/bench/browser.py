"""A browser of the benchmarks: cookies kept, JSON in and out, the Origin a page would send;
and the TOTP code of a moment (oathtool). Standard library only."""
import http.cookiejar, json, subprocess, time, urllib.error, urllib.request


class Browser:
    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"content-type": "application/json",
                                              "origin": self.base})
        try:
            with self.opener.open(req) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def ok(self, method, path, body=None):
        status, answer = self.call(method, path, body)
        assert status < 300, (path, status, answer)
        return answer

    def cookies(self):
        """`name=value` of every cookie the browser holds, as API Gateway lists them."""
        return [f"{c.name}={c.value}" for c in self.jar]


def totp(secret, offset=0):
    at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + offset))
    return subprocess.check_output(["oathtool", "--totp", "-b", "-N", at, secret]).decode().strip()
