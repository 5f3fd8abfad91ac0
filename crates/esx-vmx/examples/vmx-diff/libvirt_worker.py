#!/usr/bin/python3
"""The libvirt side of the vmx-diff harness: converts VMX and domain XML with libvirt's ESX
driver over ONE connection, exactly as `virsh domxml-from-native` / `domxml-to-native` do (the
input is handed to libvirt as a C string, so it ends at its first NUL byte, as when virsh reads
a file).

It talks to libvirt through ctypes (no python3-libvirt needed), so raw bytes reach libvirt
unchanged. Credentials come from $LIBVIRT_AUTH_FILE through libvirt's default authentication.

usage: libvirt_worker.py URI
  stdin:  one request per line: `from HEX` or `to HEX` (the input bytes in hex)
  stdout: first `ready VERSION HV_VERSION`, one `pool HEX(name) HEX(mount path)` per datastore
          in the server's order and `pools-end` (or `fail HEX(message)`), then one line per
          request: `ok HEX(output)` or `err HEX(message)`

The harness runs this in a subprocess with a timeout per request: libvirt may crash or hang on
some inputs, which ends or stalls this process; the harness notices, records it and starts a
new one.
"""
import ctypes
import os
import re
import sys

LIBDIR = os.environ.get("LIBVIRT_LIBDIR", "/opt/libvirt-11.3/lib/x86_64-linux-gnu")


def load():
    lib = ctypes.CDLL(os.path.join(LIBDIR, "libvirt.so.0"))
    lib.virConnectOpenAuth.restype = ctypes.c_void_p
    lib.virConnectOpenAuth.argtypes = [ctypes.c_char_p, ctypes.c_void_p, ctypes.c_uint]
    for name in ("virConnectDomainXMLFromNative", "virConnectDomainXMLToNative"):
        fn = getattr(lib, name)
        fn.restype = ctypes.c_void_p
        fn.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint]
    lib.virGetLastErrorMessage.restype = ctypes.c_char_p
    lib.virResetLastError.restype = None
    lib.virGetVersion.argtypes = [
        ctypes.POINTER(ctypes.c_ulong), ctypes.c_char_p, ctypes.POINTER(ctypes.c_ulong)]
    lib.virConnectGetVersion.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_ulong)]
    lib.virConnectListStoragePools.argtypes = [
        ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int]
    lib.virConnectNumOfStoragePools.argtypes = [ctypes.c_void_p]
    lib.virStoragePoolLookupByName.restype = ctypes.c_void_p
    lib.virStoragePoolLookupByName.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.virStoragePoolGetXMLDesc.restype = ctypes.c_void_p
    lib.virStoragePoolGetXMLDesc.argtypes = [ctypes.c_void_p, ctypes.c_uint]
    lib.virStoragePoolFree.argtypes = [ctypes.c_void_p]
    # Silence libvirt's default error printing on stderr.
    handler = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)(lambda _a, _b: None)
    lib.virSetErrorFunc.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.virSetErrorFunc(None, ctypes.cast(handler, ctypes.c_void_p))
    libc = ctypes.CDLL("libc.so.6")
    libc.free.argtypes = [ctypes.c_void_p]
    return lib, libc, handler


def take_string(libc, ptr):
    data = ctypes.string_at(ptr)
    libc.free(ptr)
    return data


def pools(lib, libc, conn):
    """(name, mount path) of every datastore, in the server's order."""
    count = lib.virConnectNumOfStoragePools(conn)
    names = (ctypes.c_char_p * max(count, 1))()
    got = lib.virConnectListStoragePools(conn, names, count)
    out = []
    for i in range(max(got, 0)):
        name = names[i]
        pool = lib.virStoragePoolLookupByName(conn, name)
        xml = take_string(libc, lib.virStoragePoolGetXMLDesc(pool, 0)).decode()
        lib.virStoragePoolFree(pool)
        path = re.search(r"<path>(.*?)</path>", xml, re.S)
        out.append([name.decode(), path.group(1) if path else ""])
    return out


def send(*words):
    sys.stdout.write(" ".join(str(w) for w in words) + "\n")
    sys.stdout.flush()


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    lib, libc, _keep = load()
    auth = ctypes.c_void_p.in_dll(lib, "virConnectAuthPtrDefault")
    conn = lib.virConnectOpenAuth(sys.argv[1].encode(), auth, 0)
    if not conn:
        send("fail", (lib.virGetLastErrorMessage() or b"").hex())
        return 1
    version = ctypes.c_ulong()
    lib.virGetVersion(ctypes.byref(version), None, None)
    hv_version = ctypes.c_ulong()
    lib.virConnectGetVersion(conn, ctypes.byref(hv_version))
    send("ready", version.value, hv_version.value)
    for name, path in pools(lib, libc, conn):
        send("pool", name.encode().hex(), path.encode().hex())
    send("pools-end")
    for line in sys.stdin:
        if not line.strip():
            continue
        op, _, hexdata = line.strip().partition(" ")
        data = bytes.fromhex(hexdata)
        fn = lib.virConnectDomainXMLFromNative if op == "from" else lib.virConnectDomainXMLToNative
        lib.virResetLastError()
        out = fn(conn, b"vmware-vmx", data, 0)
        if out:
            send("ok", take_string(libc, out).hex())
        else:
            send("err", (lib.virGetLastErrorMessage() or b"").hex())
    return 0


if __name__ == "__main__":
    sys.exit(main())
