"""schema_gen.py — the field table (src/api/gen/schema.c) behind src/api/schema.h.

Walks swagger.json's definitions from the served kinds (and their lists and subresource
bodies) through $ref, items, additionalProperties and allOf, and writes one row per field,
sorted by (definition, name) so the C side can binary-search it.
"""
from genlib import HEADER, c_bool, c_string

SCALAR, OBJECT, ARRAY, MAP, ANY = "SCHEMA_SCALAR", "SCHEMA_OBJECT", "SCHEMA_ARRAY", "SCHEMA_MAP", "SCHEMA_ANY"

META = "io.k8s.apimachinery.pkg.apis.meta.v1."
EXTENSIONS = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1."
# Definitions whose JSON is a string (or number) despite being named types.
SCALAR_DEFS = {"io.k8s.apimachinery.pkg.api.resource.Quantity",
               "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
               META + "Time", META + "MicroTime"}
# Free-form definitions: anything is accepted below them.
ANY_DEFS = {"io.k8s.apimachinery.pkg.runtime.RawExtension", META + "FieldsV1", META + "Patch",
            EXTENSIONS + "JSON", EXTENSIONS + "JSONSchemaPropsOrArray",
            EXTENSIONS + "JSONSchemaPropsOrBool", EXTENSIONS + "JSONSchemaPropsOrStringArray"}
EXTRA_ROOTS = [META + "DeleteOptions", META + "Status", META + "WatchEvent"]


def ref_name(schema):
    """The definition a schema node points to ($ref or a one-element allOf), or None."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    all_of = schema.get("allOf")
    if all_of and len(all_of) == 1 and "$ref" in all_of[0]:
        return all_of[0]["$ref"].rsplit("/", 1)[1]
    return None


class Shapes:
    def __init__(self, defs):
        self.defs = defs

    def definition_kind(self, name):
        if name in SCALAR_DEFS:
            return SCALAR
        if name in ANY_DEFS:
            return ANY
        d = self.defs[name]
        if "properties" in d:
            return OBJECT
        if d.get("type") in ("string", "integer", "number", "boolean"):
            return SCALAR
        return ANY

    def classify(self, schema):
        """(kind, ref) of a schema node; ref is set only for OBJECT."""
        if schema.get("x-kubernetes-preserve-unknown-fields"):
            return ANY, None
        name = ref_name(schema)
        if name is not None:
            kind = self.definition_kind(name)
            return kind, (name if kind == OBJECT else None)
        t = schema.get("type")
        if t == "array":
            return ARRAY, None
        if t == "object":
            return (MAP, None) if isinstance(schema.get("additionalProperties"), dict) else (ANY, None)
        if t in ("string", "integer", "number", "boolean"):
            return SCALAR, None
        return ANY, None

    def field(self, definition, name, prop, required, tsv_patch):
        kind, ref = self.classify(prop)
        item_kind = SCALAR
        if kind == ARRAY:
            item_kind, ref = self.classify(prop.get("items", {}))
        elif kind == MAP:
            item_kind, ref = self.classify(prop["additionalProperties"])
        if item_kind in (ARRAY, MAP) and kind in (ARRAY, MAP):
            inner = prop.get("items") or prop.get("additionalProperties")
            nested = inner.get("items") or inner.get("additionalProperties") or {}
            if ref_name(nested):
                raise SystemExit("gen.py: %s.%s nests objects two containers deep; "
                                 "schema.h cannot describe it" % (definition, name))
        strategy = prop.get("x-kubernetes-patch-strategy")
        merge_key = prop.get("x-kubernetes-patch-merge-key")
        if (definition, name) in tsv_patch:
            tsv_strategy, tsv_key = tsv_patch[(definition, name)]
            strategy = strategy or tsv_strategy or None
            merge_key = merge_key or tsv_key or None
        map_type = prop.get("x-kubernetes-map-type")
        if map_type is None and ref is not None and kind == OBJECT:
            map_type = self.defs[ref].get("x-kubernetes-map-type")
        list_keys = prop.get("x-kubernetes-list-map-keys")
        return {"definition": definition, "name": name, "kind": kind, "item_kind": item_kind,
                "ref": ref, "patch_strategy": strategy, "patch_merge_key": merge_key,
                "list_type": prop.get("x-kubernetes-list-type"),
                "list_map_keys": ",".join(list_keys) if list_keys else None,
                "map_type": map_type, "required": name in required}


def reachable(defs, roots):
    seen, stack = set(), [r for r in roots if r in defs]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(n for n in refs_in(defs[name]) if n not in seen)
    return seen


def refs_in(node):
    if isinstance(node, dict):
        if "$ref" in node and isinstance(node["$ref"], str):
            yield node["$ref"].rsplit("/", 1)[1]
        for v in node.values():
            yield from refs_in(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs_in(v)


def roots_of(served, defs):
    roots = list(EXTRA_ROOTS)
    for r in served:
        roots.append(r["definition"])
        roots.append(r["definition"] + "List")
        roots.extend(s["definition"] for s in r["subresources"].values() if s["definition"])
    return [r for r in roots if r in defs]


def render(spec, served):
    defs = spec.defs
    shapes = Shapes(defs)
    tsv_patch = {(p["definition"], p["field"]): (p["patch-strategy"], p["patch-merge-key"])
                 for p in spec.patch_strategies}
    names = sorted(reachable(defs, roots_of(served, defs)))
    fields = []
    for name in names:
        d = defs[name]
        if shapes.definition_kind(name) != OBJECT:
            continue
        required = set(d.get("required", []))
        for prop_name in sorted(d["properties"]):
            fields.append(shapes.field(name, prop_name, d["properties"][prop_name],
                                       required, tsv_patch))

    ident = {n: "d%d" % i for i, n in enumerate(names)}
    out = [HEADER + " * Every field of every definition reachable from the served kinds, sorted by\n"
           " * (definition, name) for binary search; see src/api/schema.h. */\n",
           '#include "api/schema_data.h"\n']
    for n in names:
        out.append("static const char %s[] = %s;" % (ident[n], c_string(n)))
    out.append("\nconst struct schema_definition schema_definitions[] = {")
    for n in names:
        out.append("  {%s, %s, %s}," % (ident[n], shapes.definition_kind(n),
                                       c_string(defs[n].get("x-kubernetes-map-type"))))
    out.append("};")
    out.append("const size_t schema_definitions_count =\n"
               "    sizeof schema_definitions / sizeof schema_definitions[0];\n")
    out.append("const struct schema_field schema_fields[] = {")
    for f in fields:
        out.append("  {%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s},"
                   % (ident[f["definition"]], c_string(f["name"]), f["kind"], f["item_kind"],
                      ident[f["ref"]] if f["ref"] else "NULL", c_string(f["patch_strategy"]),
                      c_string(f["patch_merge_key"]), c_string(f["list_type"]),
                      c_string(f["list_map_keys"]), c_bool(f["required"]),
                      c_string(f["map_type"])))
    out.append("};")
    out.append("const size_t schema_fields_count = sizeof schema_fields / sizeof schema_fields[0];")
    return "\n".join(out) + "\n"
