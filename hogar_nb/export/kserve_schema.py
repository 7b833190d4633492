"""Validate KServe manifests against the CRDs' own OpenAPI v3 schemas (vendored in crds/kserve).

Kubernetes prunes unknown fields silently; like ``kubectl apply --validate=strict``
we reject them instead, so an object that declares ``properties`` (and does not
preserve unknown fields) is closed here.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

__all__ = ["CRD_DIR", "validate_manifest"]

CRD_DIR = Path(__file__).parent / "crds" / "kserve"
_CRDS = {
    ("serving.kserve.io/v1alpha1", "InferenceGraph"): "serving.kserve.io_inferencegraphs.yaml",
    ("serving.kserve.io/v1beta1", "InferenceService"): "serving.kserve.io_inferenceservices.yaml",
}
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _strict(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items()}
    if ("properties" in out and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    if out.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    return out


@functools.lru_cache(maxsize=None)
def _validator(api_version: str, kind: str) -> Any:
    import jsonschema
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with (CRD_DIR / _CRDS[(api_version, kind)]).open("rb") as fh:
        crd = yaml.load(fh, Loader=loader)
    version = api_version.split("/")[1]
    schema = next(v for v in crd["spec"]["versions"] if v["name"] == version)["schema"]["openAPIV3Schema"]
    return jsonschema.Draft7Validator(_strict(schema))


def validate_manifest(doc: dict[str, Any]) -> list[str]:
    """Problems of one manifest as ``path: message`` strings (empty when valid)."""
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key not in _CRDS:
        return [f"apiVersion/kind {key} is not a vendored KServe CRD"]
    problems = []
    name = (doc.get("metadata") or {}).get("name")
    if not isinstance(name, str) or len(name) > 63 or not _DNS_LABEL.match(name):
        problems.append(f"metadata.name: {name!r} is not an RFC 1123 label")
    for err in _validator(*key).iter_errors(doc):
        path = ".".join(str(p) for p in err.absolute_path) or "(root)"
        problems.append(f"{path}: {err.message}")
    return problems
