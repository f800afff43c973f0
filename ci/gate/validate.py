#!/usr/bin/env python3
"""Check a gate verdict.json against ci/gate/verdict.schema.json (python3-
jsonschema, Draft 7), then what a schema cannot say: every build names the
checkout, every test a build, each id is unique, and the verdict is PASS
exactly when every requested step (build) passed.

usage: ci/gate/validate.py SCHEMA VERDICT_JSON      exit 1 when invalid
"""
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    # Debian's python3-jsonschema is for Debian's python3; another python3
    # (a pyenv) first on PATH does not see it
    if os.path.realpath(sys.executable) != os.path.realpath('/usr/bin/python3') \
            and os.path.exists('/usr/bin/python3'):
        os.execv('/usr/bin/python3', ['/usr/bin/python3'] + sys.argv)
    sys.exit('validate.py: error: the Python module jsonschema is missing: '
             'apt-get install python3-jsonschema (or run ci/fetch/deps.sh all as root)')


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: ci/gate/validate.py SCHEMA VERDICT_JSON')
    schema_path, path = sys.argv[1:]
    with open(schema_path) as f:
        schema = json.load(f)
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print(f'{path}: not readable JSON: {e}')
        return 1
    v = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
              for e in v.iter_errors(doc)]
    if not errors:
        checkout = doc['checkouts'][0]
        builds = {b['id']: b for b in doc['builds']}
        ids = [o['id'] for k in ('checkouts', 'builds', 'tests') for o in doc[k]]
        if len(ids) != len(set(ids)):
            errors.append('ids are not unique')
        errors += [f"build {b['id']}: checkout_id names no checkout"
                   for b in doc['builds'] if b['checkout_id'] != checkout['id']]
        errors += [f"test {t['id']}: build_id names no build"
                   for t in doc['tests'] if t['build_id'] not in builds]
        requested = [b for b in doc['builds'] if b['misc']['requested']]
        all_pass = bool(requested) and all(b['status'] == 'PASS' for b in requested)
        if (checkout['misc']['verdict'] == 'PASS') != all_pass:
            errors.append(f"verdict {checkout['misc']['verdict']} but "
                          f"{'every' if all_pass else 'not every'} requested step passed")
    if errors:
        print(f'{path}: INVALID against {schema_path}:')
        for e in errors[:20]:
            print(f'  {e}')
        return 1
    print(f"{path}: valid against {schema_path} (jsonschema Draft 7, "
          f"KCIDB I/O v{doc['version']['major']}.{doc['version']['minor']}): "
          f"1 checkout, {len(doc['builds'])} builds, {len(doc['tests'])} tests, "
          f"verdict {doc['checkouts'][0]['misc']['verdict']}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
