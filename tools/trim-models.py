#!/usr/bin/python3
"""trim-models.py: writes the service models the tests carry (t/data/aws/models) from full ones.

    /usr/bin/python3 tools/trim-models.py [--from DIR] [--out DIR]

Reads the botocore service models in --from (default: ../shared/aws/models beside the repository)
and writes to --out (default: t/data/aws/models) the EC2, STS, Auto Scaling and SSM models cut down
to what amicycle uses: the operations of tools/gen-model.py's OPERATIONS (which t/ec2-endpoint.py
implements too) and the shapes they reach through their input, output and errors. Every trait a
client or the endpoint reads (names, locationName, queryName, required, enum, min, max, ...) is kept
as it is, in the model's own order, so gen-model.py writes the same lib/ec2/ec2model.c from either
copy; only the documentation strings are dropped. The output is a function of the input alone (no
dates, no sorting that the input does not have): t/t0105 checks that the committed models are what
this writes. Standard library only.
"""

import argparse
import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
DROP = {'documentation', 'documentationUrl'}


def fail(msg):
    sys.exit('trim-models.py: ' + msg)


def operations():
    """gen-model.py's OPERATIONS, the one hand-written list of what the project calls."""
    sys.dont_write_bytecode = True     # no tools/__pycache__ left in the work tree
    spec = importlib.util.spec_from_file_location('gen_model', os.path.join(HERE, 'gen-model.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.OPERATIONS


def strip(v):
    """v without documentation, at any depth (enum values and member names are kept as they are)."""
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in DROP}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


def refs(shape):
    t = shape.get('type')
    if t == 'structure':
        return [m['shape'] for m in shape.get('members', {}).values()]
    if t == 'list':
        return [shape['member']['shape']]
    if t == 'map':
        return [shape['key']['shape'], shape['value']['shape']]
    return []


def trim(model, uid, ops):
    shapes = model['shapes']
    keep = set()
    todo = []
    for name in ops:
        op = model['operations'].get(name)
        if op is None:
            fail('%s: no operation %s' % (uid, name))
        for ref in [op.get('input'), op.get('output')] + op.get('errors', []):
            if ref:
                todo.append(ref['shape'])
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        if name not in shapes:
            fail('%s: no shape %s' % (uid, name))
        keep.add(name)
        todo.extend(refs(shapes[name]))
    out = {}
    for k, v in model.items():
        if k == 'operations':
            v = {n: o for n, o in v.items() if n in ops}
        elif k == 'shapes':
            v = {n: s for n, s in v.items() if n in keep}
        elif k in DROP:
            continue
        out[k] = strip(v)
    return out


def main():
    ap = argparse.ArgumentParser(description='Write the trimmed service models of t/data/aws/models.')
    ap.add_argument('--from', dest='src', default=os.path.join(TOP, '..', 'shared', 'aws', 'models'),
                    help='directory of full botocore service models (default: ../shared/aws/models)')
    ap.add_argument('--out', default=os.path.join(TOP, 't', 'data', 'aws', 'models'),
                    help='where to write the trimmed models (default: t/data/aws/models)')
    args = ap.parse_args()
    for uid, ops in operations().items():
        path = os.path.join(args.src, uid, 'service-2.json')
        try:
            with open(path, encoding='utf-8') as f:
                model = json.load(f)
        except (OSError, ValueError) as e:
            fail('%s: %s' % (path, e))
        text = json.dumps(trim(model, uid, set(ops)), indent=1, ensure_ascii=True) + '\n'
        os.makedirs(os.path.join(args.out, uid), exist_ok=True)
        dest = os.path.join(args.out, uid, 'service-2.json')
        with open(dest + '.tmp', 'w', encoding='utf-8') as f:
            f.write(text)
        os.replace(dest + '.tmp', dest)


if __name__ == '__main__':
    main()
