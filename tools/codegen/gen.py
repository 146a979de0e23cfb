#!/usr/bin/env python3
"""gen.py — turns the upstream Kubernetes OpenAPI spec (../shared/ref/openapi) into the C
tables and OpenAPI documents committed under src/api/gen/.

The served resources are listed in resource-extras.tsv; everything else (kinds, verbs,
scope, subresources, field shapes, patch strategies, documents) is derived from the spec,
and the output depends only on the input files, so re-running it is a no-op.

usage: gen.py [--ref DIR] [--out DIR]   (python3 standard library only)
"""
import argparse
import os
import sys

sys.dont_write_bytecode = True  # keep tools/codegen free of __pycache__

import genlib  # noqa: E402
import openapi_gen  # noqa: E402
import openapi_pb  # noqa: E402
import proto_gen  # noqa: E402
import resources_gen  # noqa: E402
import schema_gen  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref", default=os.path.join(REPO, "..", "shared", "ref", "openapi"),
                    help="directory holding swagger.json, v3/ and the *.tsv tables")
    ap.add_argument("--out", default=os.path.join(REPO, "src", "api", "gen"),
                    help="output directory for the generated C files")
    ap.add_argument("--kubectl", default=proto_gen.kubectl_path(),
                    help="kubectl binary whose embedded protobuf descriptors feed proto.c "
                         "(env K8C_KUBECTL_FOR_PROTO); when absent, proto.c is left as it is")
    args = ap.parse_args()

    spec = genlib.load_spec(args.ref)
    served = resources_gen.load_served(os.path.join(HERE, "resource-extras.tsv"), spec)
    os.makedirs(args.out, exist_ok=True)

    outputs = {}
    outputs["resources.c"] = resources_gen.render(served)
    outputs["schema.c"] = schema_gen.render(spec, served)
    outputs.update(openapi_gen.render(spec, served))
    outputs.update(openapi_pb.render(openapi_gen.v2_document(spec, served)))
    keep = set()
    if os.path.isfile(args.kubectl):
        outputs["proto.c"] = proto_gen.render(spec, served, args.kubectl)
    else:
        print("gen.py: %s not found; leaving proto.c as it is" % args.kubectl, file=sys.stderr)
        keep.add("proto.c")

    for name in sorted(outputs):
        genlib.write_if_changed(os.path.join(args.out, name), outputs[name])
    stale = [f for f in os.listdir(args.out) if f.endswith(".c") and f not in outputs and f not in keep]
    for name in sorted(stale):
        os.remove(os.path.join(args.out, name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
