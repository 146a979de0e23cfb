#!/usr/bin/env python3
"""openapi_pb_check.py — proves src/api/gen/openapi_v2_pb.c decodes back to the served JSON.

It reads the committed gzip streams of openapi_v2.c (JSON) and openapi_v2_pb.c (protobuf),
decodes the protobuf with a strict wire-format reader driven by openapi_pb.MESSAGES (wire
types must match the declared field types, lengths must stay in bounds, no unknown fields),
turns the gnostic Document back into Swagger JSON and requires it to equal the JSON
document, after spot checks on definitions and paths kubectl relies on. Needs only the
committed files. usage: openapi_pb_check.py [--gen DIR]
"""
import argparse
import gzip
import hashlib
import json
import os
import re
import struct
import sys

sys.dont_write_bytecode = True

from openapi_pb import MESSAGES, SCALARS, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, wire_type  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


class DecodeError(Exception):
    pass


def read_varint(data, pos):
    value, shift = 0, 0
    while True:
        if pos >= len(data) or shift >= 70:
            raise DecodeError("truncated or overlong varint at %d" % pos)
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def as_int64(n):
    return n - (1 << 64) if n >= 1 << 63 else n


def decode_scalar(kind, data, pos):
    if kind == "double":
        if pos + 8 > len(data):
            raise DecodeError("truncated double")
        return struct.unpack_from("<d", data, pos)[0], pos + 8
    n, pos = read_varint(data, pos)
    if kind == "bool":
        if n > 1:
            raise DecodeError("bool out of range: %d" % n)
        return bool(n), pos
    return as_int64(n), pos


def decode(msg, data):
    """Message `msg` from its wire bytes, as {field name: value} (lists when repeated)."""
    by_number = {num: (name, kind, label) for name, (num, kind, label) in MESSAGES[msg].items()}
    out, pos, oneof_seen = {}, 0, None
    while pos < len(data):
        key, pos = read_varint(data, pos)
        number, wire = key >> 3, key & 7
        if number not in by_number:
            raise DecodeError("%s has no field %d" % (msg, number))
        name, kind, label = by_number[number]
        if wire != wire_type(kind, label):
            raise DecodeError("%s.%s: wire type %d" % (msg, name, wire))
        if label == "oneof":
            if oneof_seen not in (None, name):
                raise DecodeError("%s: oneof holds both %s and %s" % (msg, oneof_seen, name))
            oneof_seen = name
        if wire == WIRE_LEN:
            length, pos = read_varint(data, pos)
            if pos + length > len(data):
                raise DecodeError("%s.%s: length %d past the end" % (msg, name, length))
            chunk, pos = data[pos:pos + length], pos + length
            if kind == "string":
                value = chunk.decode("utf-8")
            elif kind in SCALARS:  # packed repeated numbers
                values, p = [], 0
                while p < len(chunk):
                    v, p = decode_scalar(kind, chunk, p)
                    values.append(v)
                out.setdefault(name, []).extend(values)
                continue
            else:
                value = decode(kind, chunk)
        else:
            value, pos = decode_scalar(kind, data, pos)
        if label == "rep":
            out.setdefault(name, []).append(value)
        elif name in out:
            raise DecodeError("%s.%s appears twice" % (msg, name))
        else:
            out[name] = value
    return out


# ---- gnostic Document back to Swagger JSON --------------------------------------------

def camel(name):
    if name == "_ref":
        return "$ref"
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


def any_value(a):
    return json.loads(a["yaml"])


def back(msg, d, special=None):
    """Swagger object for decoded message d: scalars by camelCase name, Any via its yaml,
    vendor extensions as x- keys, everything else through `special`."""
    special = special or {}
    out = {}
    for name, value in d.items():
        kind = MESSAGES[msg][name][1]
        if name == "vendor_extension":
            for ext in value:
                out[ext["name"]] = any_value(ext["value"])
        elif name in special:
            key, converted = special[name](value)
            out[key] = converted
        elif kind == "Any":
            out[camel(name)] = [any_value(x) for x in value] if isinstance(value, list) else any_value(value)
        elif kind in SCALARS:
            out[camel(name)] = value
        else:
            raise DecodeError("%s.%s: no converter back to JSON" % (msg, name))
    return out


def named(items, convert):
    return {x["name"]: convert(x["value"]) for x in items}


def schema(d):
    def one_or_list(values):
        return values[0] if len(values) == 1 else values

    return back("Schema", d, {
        "type": lambda v: ("type", one_or_list(v["value"])),
        "items": lambda v: ("items", one_or_list([schema(x) for x in v["schema"]])),
        "additional_properties": lambda v: ("additionalProperties",
                                            v["boolean"] if "boolean" in v else schema(v["schema"])),
        "all_of": lambda v: ("allOf", [schema(x) for x in v]),
        "properties": lambda v: ("properties", named(v.get("additional_properties", []), schema)),
    })


def primitives_items(d):
    return back("PrimitivesItems", d, {"items": lambda v: ("items", primitives_items(v))})


def parameter(d):
    if "body_parameter" in d:
        return back("BodyParameter", d["body_parameter"], {"schema": lambda v: ("schema", schema(v))})
    (field, sub), = d["non_body_parameter"].items()
    msg = MESSAGES["NonBodyParameter"][field][1]
    return back(msg, sub, {"items": lambda v: ("items", primitives_items(v))})


def parameters_item(d):
    if "json_reference" in d:
        return back("JsonReference", d["json_reference"])
    return parameter(d["parameter"])


def response_value(d):
    if "json_reference" in d:
        return back("JsonReference", d["json_reference"])
    return back("Response", d["response"], {"schema": lambda v: ("schema", schema(v["schema"]))})


def responses(d):
    out = named(d.get("response_code", []), response_value)
    out.update(named(d.get("vendor_extension", []), any_value))
    return out


def security(reqs):
    return [{x["name"]: x["value"].get("value", []) for x in r.get("additional_properties", [])}
            for r in reqs]


def operation(d):
    return back("Operation", d, {
        "parameters": lambda v: ("parameters", [parameters_item(p) for p in v]),
        "responses": lambda v: ("responses", responses(v)),
        "security": lambda v: ("security", security(v)),
    })


def path_item(d):
    special = {m: (lambda m_: lambda v: (m_, operation(v)))(m)
               for m in ("get", "put", "post", "delete", "options", "head", "patch")}
    special["parameters"] = lambda v: ("parameters", [parameters_item(p) for p in v])
    return back("PathItem", d, special)


def security_definition(d):
    (field, sub), = d.items()
    return back(MESSAGES["SecurityDefinitionsItem"][field][1], sub)


def document(d):
    return back("Document", d, {
        "info": lambda v: ("info", back("Info", v)),
        "paths": lambda v: ("paths", dict(named(v.get("path", []), path_item),
                                          **named(v.get("vendor_extension", []), any_value))),
        "definitions": lambda v: ("definitions", named(v.get("additional_properties", []), schema)),
        "parameters": lambda v: ("parameters", named(v.get("additional_properties", []), parameter)),
        "security": lambda v: ("security", security(v)),
        "security_definitions": lambda v: ("securityDefinitions",
                                           named(v.get("additional_properties", []), security_definition)),
    })


# ---- the committed files ------------------------------------------------------------

def c_array(path):
    """(bytes of the first byte-array initializer, raw_len, hash) in a generated C file."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    body = text[text.index("] = {") + 5:text.index("};")]
    data = bytes(int(x) for x in body.replace("\n", "").split(",") if x.strip())
    return gzip.decompress(data)


def pb_metadata(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r'sizeof openapi_gz_v2_pb, (\d+),\s*"([0-9A-F]+)"', text)
    if not m:
        raise SystemExit("openapi_pb_check: no openapi_v2_pb_doc entry in %s" % path)
    return int(m.group(1)), m.group(2)


def require(cond, what):
    if not cond:
        raise SystemExit("openapi_pb_check: FAILED: " + what)


def spot_checks(raw, decoded, swagger):
    require(raw[:5] == b"\x0a\x032.0", "Document starts with field 1 = \"2.0\"")
    defs = {x["name"]: x["value"] for x in decoded["definitions"]["additional_properties"]}
    dep = defs["io.k8s.api.apps.v1.Deployment"]
    require(dep["type"] == {"value": ["object"]}, "Deployment.type is TypeItem{object}")
    ext = {x["name"]: json.loads(x["value"]["yaml"]) for x in dep["vendor_extension"]}
    require(ext["x-kubernetes-group-version-kind"] ==
            [{"group": "apps", "kind": "Deployment", "version": "v1"}], "Deployment GVK extension")
    props = {x["name"]: x["value"] for x in dep["properties"]["additional_properties"]}
    require(props["spec"]["_ref"] == "#/definitions/io.k8s.api.apps.v1.DeploymentSpec",
            "Deployment.spec is a $ref")
    pod = {x["name"]: x["value"] for x in
           defs["io.k8s.api.core.v1.PodSpec"]["properties"]["additional_properties"]}
    containers = pod["containers"]
    cext = {x["name"]: x["value"]["yaml"] for x in containers["vendor_extension"]}
    require(cext.get("x-kubernetes-patch-strategy") == '"merge"\n'
            and cext.get("x-kubernetes-patch-merge-key") == '"name"\n',
            "PodSpec.containers patch strategy and merge key")
    require(containers["items"]["schema"][0]["_ref"] == "#/definitions/io.k8s.api.core.v1.Container",
            "PodSpec.containers items is ItemsItem{schema: [$ref]}")
    require(defs["io.k8s.api.apps.v1.DeploymentSpec"]["required"] == ["selector", "template"],
            "DeploymentSpec.required")
    labels = {x["name"]: x["value"] for x in
              defs["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"]["additional_properties"]}["labels"]
    require(labels["additional_properties"]["schema"]["type"] == {"value": ["string"]},
            "ObjectMeta.labels additionalProperties")
    paths = {x["name"]: x["value"] for x in decoded["paths"]["path"]}
    patch = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    query = [p["parameter"]["non_body_parameter"]["query_parameter_sub_schema"]["name"]
             for p in patch["parameters"]
             if "query_parameter_sub_schema" in p.get("parameter", {}).get("non_body_parameter", {})]
    require("fieldValidation" in query, "Deployment PATCH has the fieldValidation query parameter")
    pext = {x["name"]: json.loads(x["value"]["yaml"]) for x in patch["vendor_extension"]}
    require(pext["x-kubernetes-action"] == "patch" and pext["x-kubernetes-group-version-kind"] ==
            {"group": "apps", "kind": "Deployment", "version": "v1"}, "PATCH operation extensions")
    body = [p for p in swagger["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]["post"]["parameters"]]
    require(any(p.get("in") == "body" or "$ref" in p for p in body), "POST has a body parameter")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gen", default=os.path.join(HERE, "..", "..", "src", "api", "gen"))
    args = ap.parse_args()
    swagger = json.loads(c_array(os.path.join(args.gen, "openapi_v2.c")))
    pb_file = os.path.join(args.gen, "openapi_v2_pb.c")
    raw = c_array(pb_file)
    raw_len, digest = pb_metadata(pb_file)
    require(raw_len == len(raw), "raw_len %d matches the %d inflated bytes" % (raw_len, len(raw)))
    require(digest == hashlib.sha512(raw).hexdigest().upper(), "SHA-512 matches")
    try:
        decoded = decode("Document", raw)
    except DecodeError as e:
        raise SystemExit("openapi_pb_check: FAILED: malformed protobuf: %s" % e)
    spot_checks(raw, decoded, swagger)
    again = document(decoded)
    if again != swagger:
        for key in sorted(set(again) | set(swagger)):
            if again.get(key) != swagger.get(key):
                sub_a, sub_s = again.get(key) or {}, swagger.get(key) or {}
                diff = [k for k in sorted(set(sub_a) | set(sub_s)) if sub_a.get(k) != sub_s.get(k)] \
                    if isinstance(sub_a, dict) and isinstance(sub_s, dict) else []
                print("openapi_pb_check: %s differs: %s" % (key, diff[:5]), file=sys.stderr)
        raise SystemExit("openapi_pb_check: FAILED: the decoded protobuf is not the JSON document")
    print("openapi_pb_check: protobuf decodes to the JSON document (%d definitions, %d paths, %d bytes)"
          % (len(swagger["definitions"]), len(swagger["paths"]), len(raw)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
