#!/usr/bin/env python3
"""Reads every property API 7.0.3 declares of every object a server reaches, with pyVmomi.

    pyvmomi_all_props.py HOST PORT USER [MAX_OBJECTS]     (password: $ESX_SIM_PASSWORD)

Starts from the service instance and follows every managed object reference found in any
property value (breadth first, at most MAX_OBJECTS objects, default 3000). Each object's
declared properties are read in one RetrieveContents call; when that fails, one by one, so the
report names the property. Prints `objects=N types=T properties=P failures=F`, then one line per
failure: `FAIL Type:id property: error`. Exits 1 when anything failed.
"""

import os
import ssl
import sys
from collections import deque

from pyVim.connect import SmartConnect, Disconnect
from pyVmomi import vim, vmodl, VmomiSupport

API = "vim.version.v7_0_3_0"


def declared(obj_type):
    """Names of the properties of obj_type (inherited ones included) that API 7.0.3 has."""
    return [
        p.name
        for p in obj_type._GetPropertyList()
        if VmomiSupport.IsChildVersion(API, p.version)
    ]


def refs_in(value, out):
    """Collects every managed object reference inside a property value."""
    if isinstance(value, VmomiSupport.ManagedObject):
        out.append(value)
    elif isinstance(value, (list, tuple)):
        for v in value:
            refs_in(v, out)
    elif isinstance(value, VmomiSupport.DataObject):
        for p in value._GetPropertyList():
            refs_in(getattr(value, p.name, None), out)


def retrieve(pc, obj, names):
    spec = vmodl.query.PropertyCollector.FilterSpec(
        objectSet=[vmodl.query.PropertyCollector.ObjectSpec(obj=obj, skip=False)],
        propSet=[
            vmodl.query.PropertyCollector.PropertySpec(
                type=type(obj), pathSet=names, all=False
            )
        ],
    )
    return pc.RetrieveContents([spec])


def main():
    host, port, user = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else 3000
    ctx = ssl._create_unverified_context()
    si = SmartConnect(
        host=host,
        port=port,
        user=user,
        pwd=os.environ.get("ESX_SIM_PASSWORD", ""),
        sslContext=ctx,
    )
    pc = si.content.propertyCollector
    seen = set()
    queue = deque([si])
    failures = []
    types = set()
    props = 0
    while queue and len(seen) < limit:
        obj = queue.popleft()
        key = (type(obj).__name__, obj._moId)
        if key in seen:
            continue
        seen.add(key)
        types.add(key[0])
        names = declared(type(obj))
        if not names:
            continue
        props += len(names)
        found = []
        try:
            for oc in retrieve(pc, obj, names) or []:
                for dp in oc.propSet or []:
                    refs_in(dp.val, found)
                for mp in oc.missingSet or []:
                    failures.append(f"FAIL {key[0]}:{key[1]} {mp.path}: missing {mp.fault}")
        except Exception:  # find the culprit, one property at a time
            for name in names:
                try:
                    for oc in retrieve(pc, obj, [name]) or []:
                        for dp in oc.propSet or []:
                            refs_in(dp.val, found)
                except Exception as e:  # noqa: BLE001 - reported, not hidden
                    msg = str(getattr(e, "msg", "") or e).splitlines()[0:1]
                    failures.append(
                        f"FAIL {key[0]}:{key[1]} {name}: {type(e).__name__} {msg}"
                    )
        for r in found:
            if (type(r).__name__, r._moId) not in seen:
                queue.append(r)
    Disconnect(si)
    print(
        f"objects={len(seen)} types={len(types)} properties={props} failures={len(failures)}"
    )
    print("TYPES " + " ".join(sorted(types)))
    for f in failures:
        print(f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
