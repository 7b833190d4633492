"""``hogar rollout URL SPLIT ACTION``: drive a served graph's rollout through its admin API."""

from __future__ import annotations

import argparse
import json
import os
import urllib.error
import urllib.request
from typing import Any

from ..errors import HogarError

__all__ = ["register"]

ACTIONS = ("start", "pause", "resume", "promote", "abort", "status")


def _shares(text: str) -> list[float]:
    out = []
    for part in text.split(","):
        part = part.strip()
        try:
            out.append(float(part[:-1]) / 100 if part.endswith("%") else float(part))
        except ValueError:
            raise argparse.ArgumentTypeError(f"got {part!r}; expected shares such as 5%,25%,50%,100%") from None
    return out


def _post(url: str, token: str, body: dict[str, Any], timeout: float) -> dict[str, Any]:
    request = urllib.request.Request(url.rstrip("/") + "/hogar/v1/admin/rollout", method="POST",
                                     data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json",
                                              "authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as err:
        try:
            message = json.loads(err.read())["error"]["message"]
        except Exception:
            message = err.reason
        if err.code == 404:
            message = f"{message} (is the admin API on? serve with --admin-token)"
        raise HogarError(f"{url}: {err.code}: {message}") from None
    except (urllib.error.URLError, OSError) as err:
        raise HogarError(f"{url}: cannot reach the served graph: {getattr(err, 'reason', err)}") from None


def cmd_rollout(args: argparse.Namespace) -> int:
    token = args.token or os.environ.get("HOGAR_ADMIN_TOKEN")
    if not token:
        raise HogarError("the admin API needs a token: --token or HOGAR_ADMIN_TOKEN")
    body: dict[str, Any] = {"split": args.split, "action": args.action}
    if args.candidate is not None:
        body["candidate"] = args.candidate
    for key in ("steps", "step_time", "step_requests", "gate_interval", "max_error_increase", "max_p99_ratio",
                "quality_metric", "max_quality_drop", "min_labels"):
        value = getattr(args, key)
        if value is not None:
            body[key] = value
    status = _post(args.url, token, body, args.timeout)
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        print(f"{status['split']}: {status['candidate']} {status['state']} at {status['weight']:.0%}"
              + (f" ({status['cause']})" if status.get("cause") else ""))
        quality = status.get("quality")
        if quality:
            cand, stable = quality["candidate"], quality["stable"]
            print(f"  {quality['metric']}: candidate {_fig(cand['value'])} over {cand['labelled']} labelled, "
                  f"stable {_fig(stable['value'])} over {stable['labelled']}")
        for move in status.get("moves", []):
            print(f"  {move['weight']:>5.0%}  {move['why']}")
    return 0


def _fig(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def register(sub: Any) -> None:
    p = sub.add_parser("rollout", help="start, pause, resume, promote or abort a served graph's rollout",
                       description="Drive the rollout of a candidate at a split of a graph served by "
                                   "`hogar serve --admin-token ...`.")
    p.add_argument("url", metavar="URL", help="the served graph, e.g. http://127.0.0.1:8000")
    p.add_argument("split", metavar="SPLIT", help="the split node whose weights move")
    p.add_argument("action", choices=ACTIONS, help="what to do (status: only read)")
    p.add_argument("--candidate", help="with start: the successor of SPLIT to roll out")
    p.add_argument("--steps", type=_shares, help="with start: candidate shares, e.g. 5%%,25%%,50%%,100%%")
    p.add_argument("--step-time", dest="step_time", type=float, metavar="S", help="least seconds per step")
    p.add_argument("--step-requests", dest="step_requests", type=int, metavar="N",
                   help="least candidate requests per step")
    p.add_argument("--gate-interval", dest="gate_interval", type=float, metavar="S",
                   help="how often the gates look at the last interval")
    p.add_argument("--max-error-increase", dest="max_error_increase", type=float, metavar="F",
                   help="the candidate's error rate may exceed the stable arm's by this fraction")
    p.add_argument("--max-p99-ratio", dest="max_p99_ratio", type=float, metavar="X",
                   help="the candidate's p99 latency may be this many times the stable arm's")
    p.add_argument("--quality-metric", dest="quality_metric", metavar="METRIC",
                   help="with start: also gate on this model quality metric from delayed labels "
                        "(accuracy, f1, precision, recall, mae, rmse, log_loss)")
    p.add_argument("--max-quality-drop", dest="max_quality_drop", type=float, metavar="F",
                   help="the candidate's metric may be worse than the stable arm's by this much")
    p.add_argument("--min-labels", dest="min_labels", type=int, metavar="N",
                   help="labelled rows each arm needs before the quality gate judges (and a step moves on)")
    p.add_argument("--token", help="the admin token (default: $HOGAR_ADMIN_TOKEN)")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the answer")
    p.add_argument("--json", action="store_true", help="print the status as JSON")
    p.set_defaults(func=cmd_rollout)


