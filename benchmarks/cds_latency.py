"""Latency of the CDS Hooks service: hook calls with a full prefetch against the running server.

Starts `mgassist serve` on a free loopback port (or uses --url of a server already running),
waits for discovery, then, for each hook (patient-view, order-select, order-sign), sends
--warmup calls, then --calls timed calls, one at a time over one keep-alive connection (as an
EHR's CDS client does per service), each with a full prefetch: a Patient, a searchset per
analyte (magnesium, potassium, calcium, albumin, creatinine, weight, height: five results
each, as the prefetch template's _count asks), eight active MedicationRequests and six active
Conditions; the order hooks also carry a draftOrders Bundle with a magnesium order. Patients
vary between calls (magnesium and creatinine spread across every band), so every status and
card kind is exercised. With --concurrency N (default 1), N clients send calls at the same
time, and latency is per call. Prints, per hook, the calls, errors, and the wall-clock latency
of each call (request sent to response read): min, median, p95, p99, max in milliseconds, and
whether p95 <= 500 ms (the issue's target; the CDS Hooks specification says services should
respond "on the order of 500 ms"). Asserts nothing; exits 1 when a call failed.

Usage: python benchmarks/cds_latency.py [--calls 500] [--warmup 50] [--concurrency 1]
       [--url http://127.0.0.1:8080] [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import httpx

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
HOOKS = ("patient-view", "order-select", "order-sign")
ANALYTES = {  # prefetch key: (LOINC code, unit, low, high) for five results each
    "mg": ("2601-3", "mmol/L", 0.35, 1.3), "k": ("2823-3", "mmol/L", 2.8, 5.2),
    "ca": ("2000-8", "mmol/L", 2.0, 2.6), "albumin": ("1751-7", "g/L", 30, 45),
    "creatinine": ("2160-0", "mg/dL", 0.6, 4.5), "weight": ("29463-7", "kg", 50, 110),
    "height": ("8302-2", "cm", 150, 190)}
MEDICATIONS = ["furosemide 40 mg tablet", "omeprazole 20 mg capsule", "atorvastatin 20 mg",
               "metformin 500 mg", "amlodipine 5 mg", "ramipril 5 mg", "aspirin 75 mg",
               "levothyroxine 50 micrograms"]
CONDITIONS = ["Diabetes mellitus type 2", "Hypertension", "Hyperlipidaemia",
              "Osteoarthritis", "Chronic diarrhoea", "Hypothyroidism"]


def observation(rng: random.Random, key: str, n: int, today: datetime.date) -> dict[str, Any]:
    code, unit, low, high = ANALYTES[key]
    return {"resourceType": "Observation", "id": f"{key}-{n}", "status": "final",
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "subject": {"reference": "Patient/p1"},
            "effectiveDateTime": (today - datetime.timedelta(days=1 + 20 * n)).isoformat(),
            "valueQuantity": {"value": round(rng.uniform(low, high), 2), "unit": unit,
                              "system": UCUM, "code": unit}}


def searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
            "entry": [{"resource": r, "search": {"mode": "match"}} for r in resources]}


def call_body(rng: random.Random, hook: str, today: datetime.date) -> dict[str, Any]:
    prefetch: dict[str, Any] = {
        "patient": {"resourceType": "Patient", "id": "p1",
                    "gender": rng.choice(["female", "male"]),
                    "birthDate": f"{today.year - rng.randint(20, 95)}-03-15"},
        "crcl": None, "egfr": None,
        "medications": searchset([{
            "resourceType": "MedicationRequest", "id": f"m{i}", "status": "active",
            "intent": "order", "subject": {"reference": "Patient/p1"},
            "medicationCodeableConcept": {"text": name}} for i, name in enumerate(MEDICATIONS)]),
        "conditions": searchset([{
            "resourceType": "Condition", "id": f"c{i}",
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": "active"}]},
            "code": {"text": name}, "subject": {"reference": "Patient/p1"}}
            for i, name in enumerate(CONDITIONS)])}
    for key in ANALYTES:
        prefetch[key] = searchset([observation(rng, key, n, today) for n in range(5)])
    context: dict[str, Any] = {"userId": "Practitioner/abc", "patientId": "p1"}
    if hook != "patient-view":
        context["draftOrders"] = {"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": {"resourceType": "MedicationRequest", "id": "rx-1", "status": "draft",
                          "intent": "order", "subject": {"reference": "Patient/p1"},
                          "medicationCodeableConcept": {"text": "Magnesium oxide 400 mg "
                                                                "tablet"}}}]}
    if hook == "order-select":
        context["selections"] = ["MedicationRequest/rx-1"]
    return {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context,
            "prefetch": prefetch}


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "mgassist", "serve", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{url}/cds-services").raise_for_status()
            return process, url
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("mgassist serve did not start") from None
            time.sleep(0.1)


def measure(url: str, hook: str, bodies: list[bytes], warmup: int, concurrency: int
            ) -> tuple[list[float], int, dict[int, int]]:
    """Latencies (ms) of the timed calls, errors, and the count of each status code."""
    latencies: list[float] = []
    codes: dict[int, int] = {}
    lock = threading.Lock()
    queue = list(enumerate(bodies))

    def client() -> None:
        with httpx.Client(base_url=url, timeout=30,
                          headers={"Content-Type": "application/json"}) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    index, body = queue.pop(0)
                started = time.perf_counter()
                response = http.post(f"/cds-services/mgassist-{hook}", content=body)
                response.read()
                elapsed = 1000 * (time.perf_counter() - started)
                with lock:
                    codes[response.status_code] = codes.get(response.status_code, 0) + 1
                    if index >= warmup:
                        latencies.append(elapsed)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    errors = sum(n for code, n in codes.items() if code != 200)
    return latencies, errors, codes


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--url", help="a server already running (default: start one)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    today = datetime.date.today()
    process, url = (None, args.url.rstrip("/")) if args.url else start_server()
    results = {}
    try:
        for hook in HOOKS:
            bodies = [json.dumps(call_body(rng, hook, today)).encode()
                      for _ in range(args.warmup + args.calls)]
            latencies, errors, codes = measure(url, hook, bodies, args.warmup, args.concurrency)
            results[hook] = {
                "calls": len(latencies), "errors": errors, "status_codes": codes,
                "request_kb": round(statistics.mean(len(b) for b in bodies) / 1024, 1),
                "min_ms": round(min(latencies), 1),
                "median_ms": round(statistics.median(latencies), 1),
                "p95_ms": round(percentile(latencies, 95), 1),
                "p99_ms": round(percentile(latencies, 99), 1),
                "max_ms": round(max(latencies), 1)}
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(30)
    if args.json:
        print(json.dumps({"concurrency": args.concurrency, "hooks": results}, indent=2))
    else:
        print(f"{url}, {args.calls} calls per hook after {args.warmup} warm-up, "
              f"concurrency {args.concurrency}")
        for hook, r in results.items():
            ok = "yes" if r["p95_ms"] <= 500 else "NO"
            print(f"{hook:13} {r['request_kb']:5} KB  errors {r['errors']}  min {r['min_ms']}  "
                  f"median {r['median_ms']}  p95 {r['p95_ms']}  p99 {r['p99_ms']}  "
                  f"max {r['max_ms']} ms  p95 <= 500 ms: {ok}")
    return 1 if any(r["errors"] for r in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
