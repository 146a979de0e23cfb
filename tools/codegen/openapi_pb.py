"""openapi_pb.py — the /openapi/v2 document in protobuf form (src/api/gen/openapi_v2_pb.c).

kubectl asks for /openapi/v2 as application/com.github.proto-openapi.spec.v2@v1.0+protobuf
and decodes gnostic's openapi.v2.Document message. The one design idea: MESSAGES is the
field table (names, numbers, types of the .proto), and both the JSON-to-message converter
below and the wire decoder in openapi_pb_check.py are driven by it. Vendor extensions,
defaults, examples and enums are gnostic `Any` messages whose `yaml` holds the value as
JSON flow text (valid YAML, which is all clients parse it with).
"""
import gzip
import hashlib
import json
import re
import struct

from genlib import HEADER, c_bytes, c_string

# Field kinds: scalars are "string", "bool", "int64", "double"; anything else names a
# message. Labels: "opt" (proto3 singular: default values are not emitted), "rep"
# (repeated; numeric scalars packed), "oneof" (emitted whenever set, even when zero).
SCALARS = ("string", "bool", "int64", "double")


def _f(number, kind, label="opt"):
    return (number, kind, label)


def _numbered(first, names):
    """Fields numbered consecutively from `first` in the order given (the gnostic
    parameter sub-schemas and PrimitivesItems share this run of validation keywords)."""
    out = {}
    for i, name in enumerate(names):
        kind, label = name[1], name[2] if len(name) > 2 else "opt"
        out[name[0]] = _f(first + i, kind, label)
    return out


_VALIDATIONS = [
    ("maximum", "double"), ("exclusive_maximum", "bool"), ("minimum", "double"),
    ("exclusive_minimum", "bool"), ("max_length", "int64"), ("min_length", "int64"),
    ("pattern", "string"), ("max_items", "int64"), ("min_items", "int64"),
    ("unique_items", "bool"), ("enum", "Any", "rep"), ("multiple_of", "double"),
]
_PARAM_HEAD = [("required", "bool"), ("in", "string"), ("description", "string"),
               ("name", "string")]
_PRIMITIVE_BODY = [("type", "string"), ("format", "string"), ("items", "PrimitivesItems"),
                   ("collection_format", "string"), ("default", "Any")]
_EXT = ("vendor_extension", "NamedAny", "rep")
_QUERY_LIKE = _PARAM_HEAD + [("allow_empty_value", "bool")] + _PRIMITIVE_BODY + _VALIDATIONS + [_EXT]
_PATH_LIKE = _PARAM_HEAD + _PRIMITIVE_BODY + _VALIDATIONS + [_EXT]


def _named(value_kind):
    return {"name": _f(1, "string"), "value": _f(2, value_kind)}


MESSAGES = {
    "Document": {
        "swagger": _f(1, "string"), "info": _f(2, "Info"), "host": _f(3, "string"),
        "base_path": _f(4, "string"), "schemes": _f(5, "string", "rep"),
        "consumes": _f(6, "string", "rep"), "produces": _f(7, "string", "rep"),
        "paths": _f(8, "Paths"), "definitions": _f(9, "Definitions"),
        "parameters": _f(10, "ParameterDefinitions"),
        "security": _f(12, "SecurityRequirement", "rep"),
        "security_definitions": _f(13, "SecurityDefinitions"), "tags": _f(14, "Tag", "rep"),
        "external_docs": _f(15, "ExternalDocs"), "vendor_extension": _f(16, "NamedAny", "rep"),
    },
    "Info": {
        "title": _f(1, "string"), "version": _f(2, "string"), "description": _f(3, "string"),
        "terms_of_service": _f(4, "string"), "contact": _f(5, "Contact"),
        "license": _f(6, "License"), "vendor_extension": _f(7, "NamedAny", "rep"),
    },
    "Contact": {"name": _f(1, "string"), "url": _f(2, "string"), "email": _f(3, "string"),
                "vendor_extension": _f(4, "NamedAny", "rep")},
    "License": {"name": _f(1, "string"), "url": _f(2, "string"),
                "vendor_extension": _f(3, "NamedAny", "rep")},
    "ExternalDocs": {"description": _f(1, "string"), "url": _f(2, "string"),
                     "vendor_extension": _f(3, "NamedAny", "rep")},
    "Tag": {"name": _f(1, "string"), "description": _f(2, "string"),
            "external_docs": _f(3, "ExternalDocs"), "vendor_extension": _f(4, "NamedAny", "rep")},
    "Any": {"yaml": _f(2, "string")},  # field 1 (google.protobuf.Any value) is never set
    "NamedAny": _named("Any"),
    "Paths": {"vendor_extension": _f(1, "NamedAny", "rep"), "path": _f(2, "NamedPathItem", "rep")},
    "NamedPathItem": _named("PathItem"),
    "PathItem": {
        "_ref": _f(1, "string"), "get": _f(2, "Operation"), "put": _f(3, "Operation"),
        "post": _f(4, "Operation"), "delete": _f(5, "Operation"), "options": _f(6, "Operation"),
        "head": _f(7, "Operation"), "patch": _f(8, "Operation"),
        "parameters": _f(9, "ParametersItem", "rep"), "vendor_extension": _f(10, "NamedAny", "rep"),
    },
    "Operation": {
        "tags": _f(1, "string", "rep"), "summary": _f(2, "string"),
        "description": _f(3, "string"), "external_docs": _f(4, "ExternalDocs"),
        "operation_id": _f(5, "string"), "produces": _f(6, "string", "rep"),
        "consumes": _f(7, "string", "rep"), "parameters": _f(8, "ParametersItem", "rep"),
        "responses": _f(9, "Responses"), "schemes": _f(10, "string", "rep"),
        "deprecated": _f(11, "bool"), "security": _f(12, "SecurityRequirement", "rep"),
        "vendor_extension": _f(13, "NamedAny", "rep"),
    },
    "ParametersItem": {"parameter": _f(1, "Parameter", "oneof"),
                       "json_reference": _f(2, "JsonReference", "oneof")},
    "JsonReference": {"_ref": _f(1, "string"), "description": _f(2, "string")},
    "Parameter": {"body_parameter": _f(1, "BodyParameter", "oneof"),
                  "non_body_parameter": _f(2, "NonBodyParameter", "oneof")},
    "BodyParameter": {
        "description": _f(1, "string"), "name": _f(2, "string"), "in": _f(3, "string"),
        "required": _f(4, "bool"), "schema": _f(5, "Schema"),
        "vendor_extension": _f(6, "NamedAny", "rep"),
    },
    "NonBodyParameter": {
        "header_parameter_sub_schema": _f(1, "HeaderParameterSubSchema", "oneof"),
        "form_data_parameter_sub_schema": _f(2, "FormDataParameterSubSchema", "oneof"),
        "query_parameter_sub_schema": _f(3, "QueryParameterSubSchema", "oneof"),
        "path_parameter_sub_schema": _f(4, "PathParameterSubSchema", "oneof"),
    },
    "QueryParameterSubSchema": _numbered(1, _QUERY_LIKE),
    "FormDataParameterSubSchema": _numbered(1, _QUERY_LIKE),
    "HeaderParameterSubSchema": _numbered(1, _PATH_LIKE),
    "PathParameterSubSchema": _numbered(1, _PATH_LIKE),
    "PrimitivesItems": _numbered(1, _PRIMITIVE_BODY + _VALIDATIONS + [_EXT]),
    "ParameterDefinitions": {"additional_properties": _f(1, "NamedParameter", "rep")},
    "NamedParameter": _named("Parameter"),
    "Responses": {"response_code": _f(1, "NamedResponseValue", "rep"),
                  "vendor_extension": _f(2, "NamedAny", "rep")},
    "NamedResponseValue": _named("ResponseValue"),
    "ResponseValue": {"response": _f(1, "Response", "oneof"),
                      "json_reference": _f(2, "JsonReference", "oneof")},
    "Response": {"description": _f(1, "string"), "schema": _f(2, "SchemaItem"),
                 "vendor_extension": _f(5, "NamedAny", "rep")},
    "SchemaItem": {"schema": _f(1, "Schema", "oneof")},
    "Definitions": {"additional_properties": _f(1, "NamedSchema", "rep")},
    "NamedSchema": _named("Schema"),
    "Properties": {"additional_properties": _f(1, "NamedSchema", "rep")},
    "Schema": {
        "_ref": _f(1, "string"), "format": _f(2, "string"), "title": _f(3, "string"),
        "description": _f(4, "string"), "default": _f(5, "Any"), "multiple_of": _f(6, "double"),
        "maximum": _f(7, "double"), "exclusive_maximum": _f(8, "bool"),
        "minimum": _f(9, "double"), "exclusive_minimum": _f(10, "bool"),
        "max_length": _f(11, "int64"), "min_length": _f(12, "int64"),
        "pattern": _f(13, "string"), "max_items": _f(14, "int64"),
        "min_items": _f(15, "int64"), "unique_items": _f(16, "bool"),
        "max_properties": _f(17, "int64"), "min_properties": _f(18, "int64"),
        "required": _f(19, "string", "rep"), "enum": _f(20, "Any", "rep"),
        "additional_properties": _f(21, "AdditionalPropertiesItem"), "type": _f(22, "TypeItem"),
        "items": _f(23, "ItemsItem"), "all_of": _f(24, "Schema", "rep"),
        "properties": _f(25, "Properties"), "discriminator": _f(26, "string"),
        "read_only": _f(27, "bool"), "external_docs": _f(29, "ExternalDocs"),
        "example": _f(30, "Any"), "vendor_extension": _f(31, "NamedAny", "rep"),
    },
    "AdditionalPropertiesItem": {"schema": _f(1, "Schema", "oneof"),
                                 "boolean": _f(2, "bool", "oneof")},
    "TypeItem": {"value": _f(1, "string", "rep")},
    "ItemsItem": {"schema": _f(1, "Schema", "rep")},
    "SecurityRequirement": {"additional_properties": _f(1, "NamedStringArray", "rep")},
    "NamedStringArray": _named("StringArray"),
    "StringArray": {"value": _f(1, "string", "rep")},
    "SecurityDefinitions": {"additional_properties": _f(1, "NamedSecurityDefinitionsItem", "rep")},
    "NamedSecurityDefinitionsItem": _named("SecurityDefinitionsItem"),
    "SecurityDefinitionsItem": {
        "basic_authentication_security": _f(1, "BasicAuthenticationSecurity", "oneof"),
        "api_key_security": _f(2, "ApiKeySecurity", "oneof"),
    },
    "BasicAuthenticationSecurity": {"type": _f(1, "string"), "description": _f(2, "string"),
                                    "vendor_extension": _f(3, "NamedAny", "rep")},
    "ApiKeySecurity": {"type": _f(1, "string"), "name": _f(2, "string"), "in": _f(3, "string"),
                       "description": _f(4, "string"),
                       "vendor_extension": _f(5, "NamedAny", "rep")},
}

WIRE_VARINT, WIRE_FIXED64, WIRE_LEN = 0, 1, 2


def wire_type(kind, label):
    if label == "rep" and kind in ("bool", "int64", "double"):
        return WIRE_LEN  # packed
    return {"bool": WIRE_VARINT, "int64": WIRE_VARINT, "double": WIRE_FIXED64}.get(kind, WIRE_LEN)


# ---- wire format ---------------------------------------------------------------------

def varint(n):
    if n < 0:
        n += 1 << 64  # int64 two's complement: always ten bytes
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def tag(number, wire):
    return varint(number << 3 | wire)


def scalar_payload(kind, value):
    if kind == "string":
        data = value.encode("utf-8")
        return varint(len(data)) + data
    if kind == "bool":
        return varint(1 if value else 0)
    if kind == "int64":
        return varint(int(value))
    if kind == "double":
        return struct.pack("<d", float(value))
    raise ValueError("not a scalar kind: " + kind)


def encode(msg, value):
    """The wire bytes of message `msg` whose fields are the dict `value` (field name ->
    Python value; lists for repeated fields, dicts for messages). Fields go out in
    field-number order; unknown field names are an error."""
    table = MESSAGES[msg]
    unknown = set(value) - set(table)
    if unknown:
        raise ValueError("%s has no field %s" % (msg, ", ".join(sorted(unknown))))
    out = bytearray()
    for name in sorted(value, key=lambda n: table[n][0]):
        number, kind, label = table[name]
        v = value[name]
        if v is None:
            continue
        if kind not in SCALARS:
            for item in (v if label == "rep" else [v]):
                body = encode(kind, item)
                out += tag(number, WIRE_LEN) + varint(len(body)) + body
        elif label == "rep" and kind != "string":
            packed = b"".join(scalar_payload(kind, x) for x in v)
            if packed:
                out += tag(number, WIRE_LEN) + varint(len(packed)) + packed
        elif label == "rep":
            for item in v:
                out += tag(number, WIRE_LEN) + scalar_payload(kind, item)
        elif label == "oneof" or v not in ("", False, 0):
            out += tag(number, wire_type(kind, label)) + scalar_payload(kind, v)
    return bytes(out)


# ---- JSON (Swagger 2.0) to gnostic messages ------------------------------------------

def snake(key):
    """gnostic's field name for a Swagger key: operationId -> operation_id, $ref -> _ref."""
    if key == "$ref":
        return "_ref"
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), key)


def any_of(value):
    return {"yaml": json.dumps(value, sort_keys=True, ensure_ascii=False) + "\n"}


def named_list(obj, convert_value):
    return [{"name": k, "value": convert_value(v)} for k, v in sorted(obj.items())]


def convert(msg, obj, special=None):
    """obj (a Swagger object) as message `msg`: x-* keys become vendor_extension, keys in
    `special` go through their converter, the rest map by name (Any fields via any_of)."""
    special = special or {}
    table = MESSAGES[msg]
    out = {}
    for key, val in sorted(obj.items()):
        if key.startswith("x-"):
            out.setdefault("vendor_extension", []).append({"name": key, "value": any_of(val)})
            continue
        if key in special:
            name, converted = special[key](val)
            out[name] = converted
            continue
        name = snake(key)
        if name not in table:
            raise ValueError("%s: no field for Swagger key %r" % (msg, key))
        number, kind, label = table[name]
        if kind == "Any":
            out[name] = [any_of(x) for x in val] if label == "rep" else any_of(val)
        elif kind in SCALARS:
            out[name] = list(val) if label == "rep" else val
        else:
            raise ValueError("%s: key %r needs a converter" % (msg, key))
    return out


def schema(obj):
    def items(v):
        return "items", {"schema": [schema(x) for x in (v if isinstance(v, list) else [v])]}

    def additional(v):
        return "additional_properties", ({"boolean": v} if isinstance(v, bool) else {"schema": schema(v)})

    return convert("Schema", obj, {
        "type": lambda v: ("type", {"value": v if isinstance(v, list) else [v]}),
        "items": items,
        "additionalProperties": additional,
        "allOf": lambda v: ("all_of", [schema(x) for x in v]),
        "properties": lambda v: ("properties", {"additional_properties": named_list(v, schema)}),
        "externalDocs": lambda v: ("external_docs", convert("ExternalDocs", v)),
    })


def primitives_items(obj):
    return convert("PrimitivesItems", obj, {"items": lambda v: ("items", primitives_items(v))})


_NON_BODY = {"query": ("query_parameter_sub_schema", "QueryParameterSubSchema"),
             "path": ("path_parameter_sub_schema", "PathParameterSubSchema"),
             "header": ("header_parameter_sub_schema", "HeaderParameterSubSchema"),
             "formData": ("form_data_parameter_sub_schema", "FormDataParameterSubSchema")}


def parameter(obj):
    if obj.get("in") == "body":
        body = convert("BodyParameter", obj, {"schema": lambda v: ("schema", schema(v))})
        return {"body_parameter": body}
    field, msg = _NON_BODY[obj["in"]]
    sub = convert(msg, obj, {"items": lambda v: ("items", primitives_items(v))})
    return {"non_body_parameter": {field: sub}}


def parameters_item(obj):
    if "$ref" in obj:
        return {"json_reference": convert("JsonReference", obj)}
    return {"parameter": parameter(obj)}


def response_value(obj):
    if "$ref" in obj:
        return {"json_reference": convert("JsonReference", obj)}
    return {"response": convert("Response", obj, {
        "schema": lambda v: ("schema", {"schema": schema(v)})})}


def responses(obj):
    out = {}
    for code, val in sorted(obj.items()):
        if code.startswith("x-"):
            out.setdefault("vendor_extension", []).append({"name": code, "value": any_of(val)})
        else:
            out.setdefault("response_code", []).append({"name": code, "value": response_value(val)})
    return out


def security_requirements(reqs):
    return [{"additional_properties": [{"name": k, "value": {"value": list(v)}}
                                       for k, v in sorted(r.items())]} for r in reqs]


def operation(obj):
    return convert("Operation", obj, {
        "parameters": lambda v: ("parameters", [parameters_item(p) for p in v]),
        "responses": lambda v: ("responses", responses(v)),
        "externalDocs": lambda v: ("external_docs", convert("ExternalDocs", v)),
        "security": lambda v: ("security", security_requirements(v)),
    })


def path_item(obj):
    special = {m: (lambda m_: lambda v: (m_, operation(v)))(m)
               for m in ("get", "put", "post", "delete", "options", "head", "patch")}
    special["parameters"] = lambda v: ("parameters", [parameters_item(p) for p in v])
    return convert("PathItem", obj, special)


def paths(obj):
    out = {}
    for key, val in sorted(obj.items()):
        if key.startswith("x-"):
            out.setdefault("vendor_extension", []).append({"name": key, "value": any_of(val)})
        else:
            out.setdefault("path", []).append({"name": key, "value": path_item(val)})
    return out


def security_definition(obj):
    if obj.get("type") == "basic":
        return {"basic_authentication_security": convert("BasicAuthenticationSecurity", obj)}
    if obj.get("type") == "apiKey":
        return {"api_key_security": convert("ApiKeySecurity", obj)}
    raise ValueError("security definition type %r is not supported" % obj.get("type"))


def document(doc):
    """The gnostic Document (as nested dicts) for a Swagger 2.0 document."""
    return convert("Document", doc, {
        "info": lambda v: ("info", convert("Info", v, {
            "contact": lambda c: ("contact", convert("Contact", c)),
            "license": lambda c: ("license", convert("License", c))})),
        "paths": lambda v: ("paths", paths(v)),
        "definitions": lambda v: ("definitions", {"additional_properties": named_list(v, schema)}),
        "parameters": lambda v: ("parameters", {"additional_properties": named_list(v, parameter)}),
        "security": lambda v: ("security", security_requirements(v)),
        "securityDefinitions": lambda v: ("security_definitions", {
            "additional_properties": named_list(v, security_definition)}),
        "tags": lambda v: ("tags", [convert("Tag", t) for t in v]),
        "externalDocs": lambda v: ("external_docs", convert("ExternalDocs", v)),
    })


def render(v2_doc):
    """{"openapi_v2_pb.c": C source} holding the gzip-compressed Document bytes."""
    raw = encode("Document", document(v2_doc))
    gz = gzip.compress(raw, compresslevel=9, mtime=0)
    text = (HEADER + " * OpenAPI v2 document as a gnostic openapi.v2.Document protobuf message,\n"
            " * gzip-compressed (%d bytes uncompressed). */\n"
            '#include "api/openapi_data.h"\n\n'
            "static const unsigned char openapi_gz_v2_pb[%d] = {\n%s\n};\n\n"
            "const struct openapi_doc openapi_v2_pb_doc = {\"v2.pb\", openapi_gz_v2_pb, "
            "sizeof openapi_gz_v2_pb, %d,\n    %s};\n"
            % (len(raw), len(gz), c_bytes(gz), len(raw),
               c_string(hashlib.sha512(raw).hexdigest().upper())))
    return {"openapi_v2_pb.c": text}
