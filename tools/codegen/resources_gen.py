"""resources_gen.py — the api_resources[] table (src/api/gen/resources.c).

Kind, scope, verbs, definition and subresources come from upstream's resources.tsv and
subresources.tsv; short names, categories and shared storage from resource-extras.tsv.
"""
import re

from genlib import HEADER, c_bool, c_string, read_tsv

VERB_NAMES = {"get": "get", "list": "list", "watch": "watch", "post": "create",
              "put": "update", "patch": "patch", "delete": "delete",
              "deletecollection": "deletecollection"}  # watchlist is folded into watch


def version_priority(version):
    """Sort key putting upstream's preferred version first: GA > beta > alpha, then newer."""
    m = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not m:
        return (3, 0, 0, version)
    stability = {None: 0, "beta": 1, "alpha": 2}[m.group(2)]
    return (stability, -int(m.group(1)), -int(m.group(3) or 0), version)


def split_list(cell):
    return [] if cell in ("", "-") else cell.split(",")


def load_served(extras_path, spec):
    """The served resources as dicts, sorted by (group, version, plural)."""
    upstream = {(r["group"], r["version"], r["resource"]): r for r in spec.resources}
    subs = {}
    for s in spec.subresources:
        subs.setdefault((s["group"], s["version"], s["resource"]), []).append(s)
    served = []
    for row in read_tsv(extras_path):
        group = "" if row["group"] == "core" else row["group"]
        key = (group, row["version"], row["resource"])
        if key not in upstream:
            raise SystemExit("gen.py: %s is not an upstream resource" % "/".join(key))
        up = upstream[key]
        verbs = sorted({VERB_NAMES[v] for v in up["verbs"].split(",") if v in VERB_NAMES})
        subresources = {s["subresource"]: s for s in subs.get(key, [])}
        storage = row["storage-resource"]
        if storage in ("", "-"):
            storage = up["resource"] if group == "" else group + "/" + up["resource"]
        served.append({
            "group": group, "version": up["version"], "kind": up["kind"],
            "list_kind": up["kind"] + "List", "plural": up["resource"],
            "singular": up["kind"].lower(), "namespaced": up["namespaced"] == "yes",
            "verbs": verbs, "short_names": split_list(row["short-names"]),
            "categories": split_list(row["categories"]), "definition": up["definition"],
            "subresources": subresources,
            "has_status": "status" in subresources, "has_scale": "scale" in subresources,
            "storage_resource": storage,
        })
    for r in served:
        versions = [o["version"] for o in served
                    if o["group"] == r["group"] and o["plural"] == r["plural"]]
        r["preferred"] = min(versions, key=version_priority) == r["version"]
    served.sort(key=lambda r: (r["group"], r["version"], r["plural"]))
    return served


def render(served):
    lists = {}  # tuple of strings -> C array name, shared between rows

    def list_name(prefix, items):
        key = (prefix, tuple(items))
        if key not in lists:
            lists[key] = "%s_%d" % (prefix, sum(1 for k in lists if k[0] == prefix))
        return lists[key]

    rows = []
    for r in served:
        rows.append(
            "  {.group = %s, .version = %s, .kind = %s, .list_kind = %s,\n"
            "   .plural = %s, .singular = %s, .namespaced = %s,\n"
            "   .verbs = %s, .short_names = %s, .categories = %s,\n"
            "   .definition = %s, .has_status = %s, .has_scale = %s,\n"
            "   .storage_resource = %s, .preferred = %s},"
            % (c_string(r["group"]), c_string(r["version"]), c_string(r["kind"]),
               c_string(r["list_kind"]), c_string(r["plural"]), c_string(r["singular"]),
               c_bool(r["namespaced"]), list_name("verbs", r["verbs"]),
               list_name("short_names", r["short_names"]),
               list_name("categories", r["categories"]), c_string(r["definition"]),
               c_bool(r["has_status"]), c_bool(r["has_scale"]),
               c_string(r["storage_resource"]), c_bool(r["preferred"])))

    out = [HEADER + " * The resources k8c serves (see src/api/resource.h), from upstream's\n"
           " * resources.tsv/subresources.tsv and tools/codegen/resource-extras.tsv. */\n",
           '#include "api/resource.h"\n']
    for (prefix, items), name in lists.items():
        body = ", ".join([c_string(s) for s in items] + ["NULL"])
        out.append("static const char *const %s[] = {%s};" % (name, body))
    out.append("\nconst struct api_resource api_resources[] = {")
    out.extend(rows)
    out.append("};\n")
    out.append("const size_t api_resources_count = sizeof api_resources / sizeof api_resources[0];")
    return "\n".join(out) + "\n"
