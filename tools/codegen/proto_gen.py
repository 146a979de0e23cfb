"""proto_gen.py — builds src/api/gen/proto.c, the Kubernetes protobuf field table, from the
FileDescriptorProtos that gogo-protobuf embeds (gzip-compressed) in a kubectl binary.

The descriptors are the facts (message names, field numbers, JSON names, types); the
OpenAPI spec only tells which message fields Go inlines into their parent (`json:",inline"`)
which fields lack omitempty (its "required") and which (apiVersion, kind) pairs name which
message. A field marked gogoproto.nullable=false is a Go non-pointer field. A tiny protobuf reader is enough,
since a FileDescriptorProto only uses varints and length-delimited fields.
"""
import os
import zlib

from genlib import HEADER, c_string

DEFAULT_KUBECTL = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33"
GZIP_MAGIC = b"\x1f\x8b\x08\x00\x00\x00\x00\x00"

# Packages kept besides the ones of the served kinds: the apimachinery types every object
# uses, autoscaling/v1 (the scale subresource) and the review/token kinds kubectl creates.
EXTRA_PACKAGES = [
    "k8s.io.api.authentication.v1",
    "k8s.io.api.authorization.v1",
    "k8s.io.api.autoscaling.v1",
    "k8s.io.apimachinery.pkg.api.resource",
    "k8s.io.apimachinery.pkg.apis.meta.v1",
    "k8s.io.apimachinery.pkg.runtime",
    "k8s.io.apimachinery.pkg.util.intstr",
]

# Messages whose Go types marshal JSON themselves (see src/api/proto.h).
WELL_KNOWN = {
    "k8s.io.apimachinery.pkg.apis.meta.v1.Time": "PROTO_WK_TIME",
    "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime": "PROTO_WK_MICRO_TIME",
    "k8s.io.apimachinery.pkg.apis.meta.v1.Duration": "PROTO_WK_DURATION",
    "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1": "PROTO_WK_FIELDS_V1",
    "k8s.io.apimachinery.pkg.api.resource.Quantity": "PROTO_WK_QUANTITY",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": "PROTO_WK_INT_OR_STRING",
    "k8s.io.apimachinery.pkg.runtime.RawExtension": "PROTO_WK_RAW_EXTENSION",
}

TYPE_MESSAGE = 11
LABEL_REPEATED = 3
GOGO_NULLABLE = 65001  # gogoproto.nullable, a FieldOptions extension


# ---- a minimal protobuf reader --------------------------------------------------------

def read_varint(buf, pos):
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def read_fields(buf):
    """Yields (number, value) for each field; value is an int or bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(buf, pos)
        elif wire == 2:
            size, pos = read_varint(buf, pos)
            value = buf[pos:pos + size]
            if len(value) != size:
                raise ValueError("truncated field")
            pos += size
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError("unsupported wire type %d" % wire)
        yield number, value


# ---- descriptors ----------------------------------------------------------------------

def file_descriptors(binary):
    """The FileDescriptorProto blobs found as gzip streams in the binary."""
    with open(binary, "rb") as f:
        data = f.read()
    blobs = []
    pos = data.find(GZIP_MAGIC)
    while pos >= 0:
        try:
            blob = zlib.decompressobj(31).decompress(data[pos:pos + (4 << 20)])
        except zlib.error:
            blob = b""
        if blob.startswith(b"\x0a") and b"generated.proto" in blob[:200]:
            blobs.append(blob)
        pos = data.find(GZIP_MAGIC, pos + 1)
    return blobs


def parse_field(buf):
    field = {"name": "", "number": 0, "label": 1, "type": 0, "type_name": None,
             "json_name": None, "nullable": True}
    for number, value in read_fields(buf):
        if number == 1:
            field["name"] = value.decode()
        elif number == 3:
            field["number"] = value
        elif number == 4:
            field["label"] = value
        elif number == 5:
            field["type"] = value
        elif number == 6:
            field["type_name"] = value.decode().lstrip(".")
        elif number == 10:
            field["json_name"] = value.decode()
        elif number == 8:
            for opt, optval in read_fields(value):
                if opt == GOGO_NULLABLE:
                    field["nullable"] = bool(optval)
    field["json_name"] = field["json_name"] or field["name"]
    return field


def parse_message(buf, prefix, out):
    msg = {"fields": [], "map_entry": False}
    nested = []
    name = ""
    for number, value in read_fields(buf):
        if number == 1:
            name = value.decode()
        elif number == 2:
            msg["fields"].append(parse_field(value))
        elif number == 3:
            nested.append(value)
        elif number == 7:
            for opt, optval in read_fields(value):
                if opt == 7:
                    msg["map_entry"] = bool(optval)
    full = prefix + "." + name
    out[full] = msg
    for blob in nested:
        parse_message(blob, full, out)


def load_messages(binary, packages):
    """Every message of the given proto packages: full name -> message dict."""
    messages = {}
    for blob in file_descriptors(binary):
        package = None
        bodies = []
        for number, value in read_fields(blob):
            if number == 2:
                package = value.decode()
            elif number == 4:
                bodies.append(value)
        if package in packages:
            for body in bodies:
                parse_message(body, package, messages)
    return messages


# ---- OpenAPI links --------------------------------------------------------------------

def proto_name(definition):
    """io.k8s.api.core.v1.Pod -> k8s.io.api.core.v1.Pod"""
    if definition.startswith("io.k8s."):
        return "k8s.io." + definition[len("io.k8s."):]
    return None


def fix_json_names(fields, props):
    """go-to-protobuf names some fields by their Go name (uID, aPIGroup); the OpenAPI
    property spelled the same but for case is the JSON name."""
    lowered = {p.lower(): p for p in props}
    for field in fields:
        if field["json_name"] not in props and field["json_name"].lower() in lowered:
            field["json_name"] = lowered[field["json_name"].lower()]


def mark_required(fields, definition):
    """OpenAPI marks a field required exactly when its Go JSON tag lacks omitempty."""
    required = set(definition.get("required", []))
    for field in fields:
        field["required"] = field["json_name"] in required


def mark_inline_fields(messages, defs):
    """A message-typed field whose JSON name the OpenAPI definition lacks, while the
    definition has the nested message's fields, is a Go embedded `json:",inline"` struct."""
    for msg in messages.values():
        for field in msg["fields"]:
            field["inline"] = False
            field["required"] = False
    for name, msg in sorted(messages.items()):
        definition = defs.get("io.k8s." + name[len("k8s.io."):])
        if definition is None or "properties" not in definition:
            continue
        props = definition["properties"]
        fix_json_names(msg["fields"], props)
        mark_required(msg["fields"], definition)
        for field in msg["fields"]:
            if field["json_name"] in props or field["type"] != TYPE_MESSAGE:
                continue
            inner = messages.get(field["type_name"])
            if inner and any(f["json_name"].lower() in map(str.lower, props)
                             for f in inner["fields"]):
                field["inline"] = True
                fix_json_names(inner["fields"], props)
                mark_required(inner["fields"], definition)


def is_items_wrapper(name, msg, defs):
    """go-to-protobuf wraps a named Go slice type (ExtraValue []string) in a message with one
    repeated `items` field; its JSON is the bare array."""
    return ("io.k8s." + name[len("k8s.io."):] not in defs and len(msg["fields"]) == 1
            and msg["fields"][0]["name"] == "items"
            and msg["fields"][0]["label"] == LABEL_REPEATED)


def kind_rows(spec, served, messages, packages):
    """(apiVersion, kind, message) for each kind the spec gives a kept package's message,
    limited to the group/versions of kept packages."""
    group_versions = set()
    candidates = []
    for definition, body in spec.defs.items():
        message = proto_name(definition)
        if message is None or message not in messages:
            continue
        for gvk in body.get("x-kubernetes-group-version-kind", []):
            candidates.append((gvk["group"], gvk["version"], gvk["kind"], message))
            if message.rsplit(".", 1)[0] in packages and message.startswith("k8s.io.api."):
                group_versions.add((gvk["group"], gvk["version"]))
    for r in served:
        group_versions.add((r["group"], r["version"]))
    rows = set()
    for group, version, kind, message in candidates:
        if (group, version) in group_versions:
            api_version = "%s/%s" % (group, version) if group else version
            rows.add((api_version, kind, message))
    return sorted(rows)


def reachable(messages, roots):
    seen = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen or name not in messages:
            continue
        seen.add(name)
        if name in WELL_KNOWN:
            continue
        for field in messages[name]["fields"]:
            if field["type_name"]:
                todo.append(field["type_name"])
    return sorted(seen)


# ---- output ---------------------------------------------------------------------------

def kept_packages(served):
    packages = set(EXTRA_PACKAGES)
    for r in served:
        name = proto_name(r["definition"])
        if name and name.startswith("k8s.io.api."):
            packages.add(name.rsplit(".", 1)[0])
    return packages


def render(spec, served, binary):
    packages = kept_packages(served)
    messages = load_messages(binary, packages)
    if "k8s.io.api.core.v1.Pod" not in messages:
        raise SystemExit("proto_gen: no Kubernetes descriptors found in %s" % binary)
    mark_inline_fields(messages, spec.defs)
    kinds = kind_rows(spec, served, messages, packages)
    names = reachable(messages, [k[2] for k in kinds])
    index = {name: i for i, name in enumerate(names)}

    out = [HEADER.rstrip("\n") + "\n"
           " * The Kubernetes protobuf messages k8s_protobuf_decode understands (src/api/proto.h),\n"
           " * from the descriptors embedded in kubectl (tools/codegen/proto_gen.py). */\n",
           '#include "api/proto.h"\n']
    table = []
    for i, name in enumerate(names):
        msg = messages[name]
        wk = WELL_KNOWN.get(name, "PROTO_WK_NONE")
        if is_items_wrapper(name, msg, spec.defs):
            wk = "PROTO_WK_ITEMS"
        rows = []
        for f in msg["fields"]:
            flags = []
            if f["label"] == LABEL_REPEATED:
                flags.append("PROTO_FIELD_REPEATED")
            if f.get("inline"):
                flags.append("PROTO_FIELD_INLINE")
            if not f["nullable"] and not f["required"]:
                flags.append("PROTO_FIELD_OMIT_EMPTY")
            target = index.get(f["type_name"], -1) if f["type_name"] else -1
            if f["type"] == TYPE_MESSAGE and target < 0:
                raise SystemExit("proto_gen: %s.%s refers to unknown %s"
                                 % (name, f["name"], f["type_name"]))
            rows.append("  {.number = %d, .type = %d, .flags = %s, .message = %d, .json_name = %s},"
                        % (f["number"], f["type"], "|".join(flags) or "0", target,
                           c_string(f["json_name"])))
        fields_ref = "NULL"
        if rows:
            fields_ref = "fields_%d" % i
            out.append("static const struct proto_field %s[] = {  /* %s */\n%s\n};\n"
                       % (fields_ref, name, "\n".join(rows)))
        table.append("  {.name = %s, .fields = %s, .field_count = %d, .well_known = %s, .map_entry = %s},"
                     % (c_string(name), fields_ref, len(rows), wk,
                        "true" if msg["map_entry"] else "false"))
    out.append("const struct proto_message proto_messages[] = {\n%s\n};\n" % "\n".join(table))
    out.append("const size_t proto_messages_count = %d;\n" % len(names))
    krows = ["  {.api_version = %s, .kind = %s, .message = %d},"
             % (c_string(a), c_string(k), index[m]) for a, k, m in kinds]
    out.append("const struct proto_kind proto_kinds[] = {\n%s\n};\n" % "\n".join(krows))
    out.append("const size_t proto_kinds_count = %d;\n" % len(kinds))
    return "\n".join(out)


def kubectl_path():
    return os.environ.get("K8C_KUBECTL_FOR_PROTO", DEFAULT_KUBECTL)
