"""GitHub's REST API description (the copied OpenAPI subset) as a request/response validator.

OpenAPI 3.0 schemas are JSON Schema draft-4/5 plus ``nullable``; ``nullable: true`` is turned
into an explicit ``null`` alternative and the schemas are checked with
:class:`jsonschema.Draft4Validator` (draft 4 ignores keywords next to ``$ref``, as OpenAPI 3.0
does). Operations outside the subset are validated against the subset's component schemas
where one fits (see :data:`EXTRA_RESPONSE_SCHEMAS`).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPEC_PATH = Path(__file__).parent.parent / "fixtures" / "github" / "openapi-subset.json"
SPEC_URI = "urn:github-openapi-subset"


def _nullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable(v) for k, v in node.items()}
    if out.pop("nullable", False):
        if "type" in out and "$ref" not in out:
            t = out["type"]
            out["type"] = [*t, "null"] if isinstance(t, list) else [t, "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            return {"anyOf": [out, {"type": "null"}]}
    return out


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    op: dict[str, Any]
    key: str


class Spec:
    def __init__(self, path: Path = SPEC_PATH) -> None:
        raw = json.loads(path.read_text(encoding="utf-8"))
        self.raw = raw
        spec = _nullable(raw)
        spec["components"]["x-ops"] = {}
        self.operations: list[Operation] = []
        for template, item in spec["paths"].items():
            for method, op in item.items():
                key = f"{method}:{template}".replace("/", "_").replace("{", "").replace("}", "")
                body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
                if "schema" in body:
                    spec["components"]["x-ops"][key + ":request"] = body["schema"]
                for status, resp in op.get("responses", {}).items():
                    resp = self._deref(spec, resp)
                    schema = resp.get("content", {}).get("application/json", {}).get("schema")
                    if schema is not None:
                        spec["components"]["x-ops"][f"{key}:{status}"] = schema
                regex = "^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template)) + "$"
                if template.endswith("{path}"):
                    regex = regex.replace("([^/]+)$", "(.+)$")
                self.operations.append(
                    Operation(method.upper(), template, re.compile(regex), op, key)
                )
        self.spec = spec
        self.registry: Registry = Registry().with_resource(
            SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT4)
        )

    @staticmethod
    def _deref(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            parts = node["$ref"].lstrip("#/").split("/")
            cur: Any = spec
            for p in parts:
                cur = cur[p]
            node = cur
        return node

    def match(self, method: str, path: str) -> Operation | None:
        for op in self.operations:
            if op.method == method and op.pattern.match(path):
                return op
        return None

    def _validator(self, pointer: str) -> jsonschema.Draft4Validator:
        return _validator(self, pointer)

    def errors(self, pointer: str, instance: Any) -> list[str]:
        """Validation errors of ``instance`` against the schema at ``#/components/...``."""
        v = self._validator(pointer)
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}"
            for e in v.iter_errors(instance)
        ]

    def request_errors(self, op: Operation, body: Any) -> list[str]:
        key = f"{op.key}:request"
        if key not in self.spec["components"]["x-ops"]:
            return [] if body in (None, {}) else ["operation takes no request body"]
        return self.errors(f"components/x-ops/{key}", body)

    def response_errors(self, op: Operation, status: int, body: Any) -> list[str]:
        key = f"{op.key}:{status}"
        if key not in self.spec["components"]["x-ops"]:
            documented = op.op.get("responses", {})
            if str(status) not in documented and status < 500:
                return [f"status {status} is not documented for {op.method} {op.template}"]
            return []
        return self.errors(f"components/x-ops/{key}", body)

    def example(self, name: str) -> Any:
        """A deep copy of one of GitHub's example bodies (``components/examples/NAME``)."""
        return copy.deepcopy(self.raw["components"]["examples"][name]["value"])


_CACHE: dict[tuple[int, str], jsonschema.Draft4Validator] = {}


def _validator(spec: Spec, pointer: str) -> jsonschema.Draft4Validator:
    key = (id(spec), pointer)
    if key not in _CACHE:
        _CACHE[key] = jsonschema.Draft4Validator(
            {"$ref": f"{SPEC_URI}#/{pointer}"}, registry=spec.registry
        )
    return _CACHE[key]


EXTRA_RESPONSE_SCHEMAS = {
    # operations the bot uses that the subset does not describe -> component schema of items
    "check-runs-for-ref": "components/schemas/check-run",
    "compare-files": "components/schemas/diff-entry",
    "user": "components/schemas/simple-user",
    "app": "components/schemas/nullable-integration",
}


@cache
def load_spec() -> Spec:
    return Spec()
