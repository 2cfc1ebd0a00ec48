#!/usr/bin/env python3
"""Writes sample-access.log: 4 minutes of nginx 'combined' lines plus $request_time, a steady mix
with a spike of order reads (60 s at 4x) in the middle, and three malformed lines. Seeded."""
import datetime, random

random.seed(17)
start = datetime.datetime(2026, 11, 28, 6, 0, 0, tzinfo=datetime.timezone.utc)
lines = []
t = 0.0
while t < 240:
    rate = 40.0 if 90 <= t < 150 else 12.0
    t += random.expovariate(rate)
    r = random.random()
    if r < 0.30:
        method, path, status, size, dur = "GET", "/api/orders/%d" % random.randint(1, 500), 200, 310, random.uniform(0.03, 0.06)
    elif r < 0.35:
        method, path, status, size, dur = "POST", "/api/orders", 201, 120, random.uniform(0.05, 0.09)
    elif r < 0.40:
        method, path, status, size, dur = "POST", "/api/thumbnails", 202, 60, 0.002
    elif r < 0.70:
        method, path, status, size, dur = "GET", random.choice(["/static/app.js", "/static/logo.png"]), 200, 2048, 0.001
    elif r < 0.85:
        method, path, status, size, dur = "GET", "/assets/app.css", 302, 0, 0.000
    else:
        method, path, status, size, dur = "GET", "/hello", 200, 31, 0.001
    ts = start + datetime.timedelta(seconds=t)
    client = "10.0.%d.%d" % (random.randint(0, 3), random.randint(1, 254))
    lines.append('%s - - [%s] "%s %s HTTP/1.1" %d %d "-" "replay-sample/1.0" %.3f' % (
        client, ts.strftime("%d/%b/%Y:%H:%M:%S +0000"), method, path, status, size, dur))
lines.insert(100, '10.0.0.9 - - [31/Nov/2026:06:00:05 +0000] "GET /hello HTTP/1.1" 200 31 "-" "bad-date" 0.001')
lines.insert(500, '10.0.0.9 - - [28/Nov/2026:06:00:30 +0000] "GET /hello HTTP/1.1 200 31 "-" "unclosed"')
lines.insert(900, '10.0.0.9 - - [28/Nov/2026:06:01:00 +0000] "-" 408 0 "-" "-" 0.000')
with open("sample-access.log", "w") as f:
    f.write("\n".join(lines) + "\n")
