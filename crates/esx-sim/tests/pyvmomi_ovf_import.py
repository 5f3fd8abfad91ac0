#!/usr/bin/env python3
"""OVF import with pyVmomi, as scripts written against vCenter do it.

    pyvmomi_ovf_import.py HOST PORT DIR     (DIR holds app.ovf and disk1.vmdk; user root/pass)

1. ParseDescriptor, CreateImportSpec, ImportVApp, wait for the lease to be ready, upload the
   disk to its device URL (with the session cookie), HttpNfcLeaseProgress, HttpNfcLeaseComplete:
   prints `completed app` when the VM exists with its disk.
2. The same under the name app-aborted, aborted after a partial upload was refused: prints
   `aborted gone` when the VM is gone.
"""

import http.client
import os
import ssl
import sys
import time

from pyVim.connect import SmartConnect, Disconnect
from pyVmomi import vim, vmodl


def wait_ready(lease):
    for _ in range(100):
        if lease.state != vim.HttpNfcLease.State.initializing:
            break
        time.sleep(0.05)
    assert lease.state == vim.HttpNfcLease.State.ready, (lease.state, lease.error)
    return lease.info


def upload(host, port, cookie, url, body, length=None, method="POST"):
    path = url.split("*", 1)[1][url.split("*", 1)[1].index("/"):]
    ctx = ssl._create_unverified_context()
    c = http.client.HTTPSConnection(host, port, context=ctx, timeout=30)
    headers = {
        "Cookie": cookie,
        "Content-Type": "application/x-vnd.vmware-streamVmdk",
        "Content-Length": str(len(body) if length is None else length),
    }
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def find_vm(content, name):
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    try:
        return next((v for v in view.view if v.name == name), None)
    finally:
        view.Destroy()


def main():
    host, port, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    si = SmartConnect(host=host, port=port, user="root", pwd="pass",
                      sslContext=ssl._create_unverified_context())
    content = si.RetrieveContent()
    cookie = si._stub.cookie
    ovf = open(os.path.join(d, "app.ovf")).read()
    disk = open(os.path.join(d, "disk1.vmdk"), "rb").read()
    dc = content.rootFolder.childEntity[0]
    pool = dc.hostFolder.childEntity[0].resourcePool
    ds = dc.datastore[0]
    om = content.ovfManager

    parsed = om.ParseDescriptor(ovf, vim.OvfManager.ParseDescriptorParams())
    assert parsed.defaultEntityName == "app", parsed.defaultEntityName
    assert parsed.eula == ["Be nice."], parsed.eula
    assert [n.name for n in parsed.network] == ["VM Network"], parsed.network
    try:
        om.ParseDescriptor("<Envelope><Disk></Envelope>", vim.OvfManager.ParseDescriptorParams())
        raise SystemExit("malformed descriptor accepted")
    except vmodl.fault.InvalidArgument as e:
        assert "line" in e.msg, e.msg

    for name, abort in (("app", False), ("app-aborted", True)):
        cisp = vim.OvfManager.CreateImportSpecParams(entityName=name)
        res = om.CreateImportSpec(ovf, pool, ds, cisp)
        assert not res.error, res.error
        assert len(res.fileItem) == 1, res.fileItem
        lease = pool.ImportVApp(res.importSpec, dc.vmFolder)
        info = wait_ready(lease)
        assert info.entity.name == name
        assert info.leaseTimeout == 300, info.leaseTimeout
        urls = {u.importKey: u for u in info.deviceUrl}
        item = res.fileItem[0]
        dev = urls[item.deviceId]
        assert dev.url.startswith("https://*/nfc/"), dev.url
        if not abort:
            status, body = upload(host, port, "", dev.url, b"x")
            assert status == 401, ("no cookie accepted", status)
            lease.HttpNfcLeaseProgress(50)
            status, body = upload(host, port, cookie, dev.url, disk)
            assert status in (200, 201), (status, body)
            manifest = lease.HttpNfcLeaseGetManifest()
            assert manifest and manifest[0].size == len(disk), manifest
            lease.HttpNfcLeaseComplete()
            assert lease.state == vim.HttpNfcLease.State.done
            vm = find_vm(content, name)
            assert vm is not None
            disks = [x for x in vm.config.hardware.device if isinstance(x, vim.vm.device.VirtualDisk)]
            assert len(disks) == 1 and disks[0].capacityInKB == 4096, disks
            print("completed", name)
        else:
            # Not a disk image: refused, the disk stays as it was.
            status, body = upload(host, port, cookie, dev.url, b"# Disk DescriptorFile\n")
            assert status == 400, (status, body)
            lease.HttpNfcLeaseAbort()
            assert lease.state == vim.HttpNfcLease.State.error
            try:
                lease.HttpNfcLeaseComplete()
                raise SystemExit("completed an aborted lease")
            except vim.fault.InvalidState:
                pass
            assert find_vm(content, name) is None
            print("aborted gone")
    Disconnect(si)


if __name__ == "__main__":
    main()
