"""The SDK against a running ``hcp up``: HCP_URL (the gateway), HCP_API_KEY (a developer key of a
tenant with GPUs, such as ``hcp up``'s demo key). Run: ``python3 -m unittest discover -s tests``."""

from __future__ import annotations

import os
import sys
import unittest
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hcp import ApiError, Client, WorkloadSpec  # noqa: E402

SPEC: WorkloadSpec = {
    "kind": "WORKLOAD_KIND_BATCH_INFERENCE",
    "gpuModel": "H100",
    "gpuCount": 1,
    "memoryMib": "1024",
    "maxRunTimeSeconds": "3600",
}


def client() -> Client:
    url, key = os.environ.get("HCP_URL"), os.environ.get("HCP_API_KEY")
    if not url or not key:
        if os.environ.get("CI"):
            raise RuntimeError("CI: HCP_URL and HCP_API_KEY must name a running hcp up")
        raise unittest.SkipTest("HCP_URL and HCP_API_KEY name a running hcp up")
    return Client(url, key)


class WorkloadsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.hcp = client()

    def test_submit_wait_and_read_its_history(self) -> None:
        key = f"sdk-{uuid.uuid4()}"
        first = self.hcp.submit(SPEC, idempotency_key=key)
        again = self.hcp.submit(SPEC, idempotency_key=key)
        self.assertEqual(first["workloadId"], again["workloadId"], "the same key answers the same workload")
        running = self.hcp.wait(first["workloadId"], until={"running"}, timeout=60)
        self.assertEqual(running["status"], "running")
        self.assertEqual(len(running["resources"]), 1)
        kinds = [e["eventType"] for e in self.hcp.history(first["workloadId"])]
        self.assertEqual(kinds[:2], ["workload.submitted", "workload.queued"])
        self.assertIn("workload.started", kinds)
        self.assertIn(first["workloadId"], [w["workloadId"] for w in self.hcp.list()])
        self.assertEqual(self.hcp.cancel(first["workloadId"])["status"], "cancelled")

    def test_the_live_stream_resumes_from_a_position(self) -> None:
        w = self.hcp.submit(SPEC)
        events = self.hcp.events(after=0, workload=w["workloadId"])
        first = next(events)
        self.assertEqual((first["type"], first["stream"]), ("workload.submitted", f"workload-{w['workloadId']}"))
        second = next(events)
        events.close()
        resumed = next(self.hcp.events(after=first["position"], workload=w["workloadId"]))
        self.assertEqual(resumed, second, "resumed after the first: the second")
        self.hcp.cancel(w["workloadId"])

    def test_refusals_name_the_field(self) -> None:
        with self.assertRaises(ApiError) as bad:
            zero = SPEC.copy()
            zero["gpuCount"] = 0
            self.hcp.submit(zero)
        self.assertEqual((bad.exception.status, bad.exception.pointer), (400, "/spec/gpu_count"))
        with self.assertRaises(ApiError) as missing:
            self.hcp.get(str(uuid.uuid4()))
        self.assertEqual(missing.exception.status, 404)
        with self.assertRaises(ApiError) as unknown:
            Client(self.hcp.base_url, "hcp_nokey_nosecret").get(str(uuid.uuid4()))
        self.assertEqual(unknown.exception.status, 401)


if __name__ == "__main__":
    unittest.main()
