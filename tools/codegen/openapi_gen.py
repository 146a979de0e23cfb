"""openapi_gen.py — the OpenAPI documents the API server serves (src/api/gen/openapi_*.c).

For every served group-version: upstream's v3 document cut down to the served resources'
paths and the schemas they reach (descriptions and x-kubernetes-* kept, media types k8c
does not speak dropped); likewise one v2 document. Each is stored gzip-compressed with a
SHA-512 of the uncompressed JSON, which /openapi/v3 publishes as ?hash=.
"""
import gzip
import hashlib
import json

from genlib import HEADER, c_bytes, c_string

UNSPOKEN_MEDIA = ("protobuf", "cbor")


def gv_path(group, version):
    return "api/" + version if group == "" else "apis/%s/%s" % (group, version)


def served_gvs(served):
    gvs = {}
    for r in served:
        gvs.setdefault((r["group"], r["version"]), set()).add(r["plural"])
    return gvs


def path_resource(path, prefix):
    """The plural a path belongs to ("" for the group-version root), or None."""
    if not path.startswith(prefix):
        return None
    rest = path[len(prefix):]
    if rest.startswith("watch/"):
        rest = rest[len("watch/"):]
    if rest.startswith("namespaces/{namespace}/"):
        rest = rest[len("namespaces/{namespace}/"):]
    return rest.split("/", 1)[0]


def drop_unspoken_media(node):
    """A copy of node without protobuf/CBOR media types (content maps, produces/consumes)."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "content" and isinstance(v, dict):
                v = {m: s for m, s in v.items() if not any(u in m for u in UNSPOKEN_MEDIA)}
            elif k in ("produces", "consumes") and isinstance(v, list):
                v = [m for m in v if not any(u in m for u in UNSPOKEN_MEDIA)]
            out[k] = drop_unspoken_media(v)
        return out
    if isinstance(node, list):
        return [drop_unspoken_media(v) for v in node]
    return node


def refs_with_prefix(node, prefix):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(prefix):
            yield ref[len(prefix):]
        for v in node.values():
            yield from refs_with_prefix(v, prefix)
    elif isinstance(node, list):
        for v in node:
            yield from refs_with_prefix(v, prefix)


def closure(table, start, prefix):
    seen, stack = set(), list(start)
    while stack:
        name = stack.pop()
        if name in seen or name not in table:
            continue
        seen.add(name)
        stack.extend(refs_with_prefix(table[name], prefix))
    return {n: table[n] for n in sorted(seen)}


def reduce_v3(doc, group, version, plurals):
    prefix = "/" + gv_path(group, version) + "/"
    paths = {p: drop_unspoken_media(v) for p, v in doc["paths"].items()
             if path_resource(p, prefix) in plurals | {""}}
    ref_prefix = "#/components/schemas/"
    schemas = closure(doc["components"]["schemas"], refs_with_prefix(paths, ref_prefix), ref_prefix)
    components = {"schemas": schemas}
    if "securitySchemes" in doc["components"]:
        components["securitySchemes"] = doc["components"]["securitySchemes"]
    out = {k: v for k, v in doc.items() if k not in ("paths", "components")}
    out["paths"] = paths
    out["components"] = components
    return out


def reduce_v2(swagger, gvs):
    paths = {}
    groups = {g for g, _ in gvs}
    for p, v in swagger["paths"].items():
        keep = p in ("/api/", "/apis/") or any(p == "/apis/%s/" % g for g in groups if g)
        for (g, ver), plurals in gvs.items():
            if path_resource(p, "/" + gv_path(g, ver) + "/") in plurals | {""}:
                keep = True
        if keep:
            paths[p] = drop_unspoken_media(v)
    defs = closure(swagger["definitions"], refs_with_prefix(paths, "#/definitions/"),
                   "#/definitions/")
    params = {n: swagger["parameters"][n]
              for n in sorted(set(refs_with_prefix(paths, "#/parameters/")))}
    out = {k: v for k, v in swagger.items() if k not in ("paths", "definitions", "parameters")}
    out["paths"] = paths
    out["definitions"] = defs
    out["parameters"] = params
    return out


def v2_document(spec, served):
    """The reduced Swagger 2.0 document served at /openapi/v2 (JSON and protobuf)."""
    return reduce_v2(spec.swagger, served_gvs(served))


def encode(doc):
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return raw, gzip.compress(raw, compresslevel=9, mtime=0)


def c_ident(path):
    return "openapi_gz_" + "".join(c if c.isalnum() else "_" for c in path)


def render(spec, served):
    gvs = served_gvs(served)
    docs = []  # (gv path, raw, gz)
    for (group, version) in sorted(gvs):
        doc = reduce_v3(spec.v3_document(group, version), group, version, gvs[(group, version)])
        raw, gz = encode(doc)
        docs.append((gv_path(group, version), raw, gz))
    v2_raw, v2_gz = encode(v2_document(spec, served))

    index = {"paths": {p: {"serverRelativeURL": "/openapi/v3/%s?hash=%s"
                           % (p, hashlib.sha512(raw).hexdigest().upper())}
                       for p, raw, _ in docs}}
    index_json = json.dumps(index, sort_keys=True, separators=(",", ":"))

    outputs = {}
    # One file per document keeps each generated C file a few hundred KiB.
    for path, raw, gz in docs + [("v2", v2_raw, v2_gz)]:
        name = "openapi_" + c_ident(path)[len("openapi_gz_"):] + ".c"
        outputs[name] = (
            HEADER + " * OpenAPI document %s, gzip-compressed (%d bytes uncompressed). */\n"
            '#include "api/openapi_data.h"\n\n'
            "const unsigned char %s[%d] = {\n%s\n};\n"
            % (path, len(raw), c_ident(path), len(gz), c_bytes(gz)))

    total = sum(len(gz) for _, _, gz in docs) + len(v2_gz)
    lines = [HEADER + " * The table of OpenAPI documents: the /openapi/v3 index and, per served\n"
             " * group-version, the compressed v3 document and its hash; plus the v2 document.\n"
             " * Compressed total: %d bytes. */\n" % total,
             '#include "api/openapi_data.h"\n']
    for path, raw, gz in docs + [("v2", v2_raw, v2_gz)]:
        lines.append("extern const unsigned char %s[%d];" % (c_ident(path), len(gz)))
    lines.append("\nconst char openapi_v3_index_json[] =")
    for i in range(0, len(index_json), 90):
        lines.append("    " + c_string(index_json[i:i + 90]))
    lines.append("    ;")
    lines.append("const size_t openapi_v3_index_len = sizeof openapi_v3_index_json - 1;\n")
    lines.append("const struct openapi_doc openapi_v3_docs[] = {")
    for path, raw, gz in docs:
        lines.append("  {%s, %s, sizeof %s, %d, %s},"
                     % (c_string(path), c_ident(path), c_ident(path), len(raw),
                        c_string(hashlib.sha512(raw).hexdigest().upper())))
    lines.append("};")
    lines.append("const size_t openapi_v3_docs_count = sizeof openapi_v3_docs / sizeof openapi_v3_docs[0];\n")
    lines.append("const struct openapi_doc openapi_v2_doc = {\"v2\", %s, sizeof %s, %d, %s};"
                 % (c_ident("v2"), c_ident("v2"), len(v2_raw),
                    c_string(hashlib.sha512(v2_raw).hexdigest().upper())))
    outputs["openapi_data.c"] = "\n".join(lines) + "\n"
    return outputs
