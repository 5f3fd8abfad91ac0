"""pyVmomi against esx-sim: power on/off with WaitForTask, a snapshot, an answered question.

Usage: pyvmomi_tasks.py HOST PORT USER PASSWORD DATA_DIR
Prints one "ok <step>" line per step and exits non-zero on the first failure.
"""
import os
import ssl
import sys

from pyVim.connect import SmartConnect, Disconnect
from pyVim.task import WaitForTask
from pyVmomi import vim


def find_vm(content, name):
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    try:
        for vm in view.view:
            if vm.name == name:
                return vm
    finally:
        view.Destroy()
    raise SystemExit("no VM named " + name)


def main():
    host, port, user, password, data_dir = sys.argv[1:6]
    ctx = ssl._create_unverified_context()
    si = SmartConnect(host=host, port=int(port), user=user, pwd=password, sslContext=ctx)
    content = si.RetrieveContent()
    vm = find_vm(content, "vm1")

    WaitForTask(vm.PowerOnVM_Task())
    assert vm.runtime.powerState == "poweredOn", vm.runtime.powerState
    print("ok power on")
    try:
        WaitForTask(vm.PowerOnVM_Task())
        raise SystemExit("second power on did not fail")
    except vim.fault.InvalidPowerState as e:
        assert e.existingState == "poweredOn", e.existingState
    print("ok InvalidPowerState")
    WaitForTask(vm.PowerOffVM_Task())
    assert vm.runtime.powerState == "poweredOff"
    print("ok power off")

    cap = vm.capability
    assert cap.snapshotOperationsSupported and cap.multipleSnapshotsSupported, cap
    assert cap.revertToSnapshotSupported and cap.memorySnapshotsSupported, cap
    task = vm.CreateSnapshot_Task(name="s1", description="d", memory=False, quiesce=False)
    WaitForTask(task)
    snap = task.info.result
    assert vm.snapshot.currentSnapshot == snap, vm.snapshot.currentSnapshot
    assert vm.snapshot.rootSnapshotList[0].name == "s1"
    WaitForTask(snap.RemoveSnapshot_Task(removeChildren=False))
    assert vm.snapshot is None or not vm.snapshot.rootSnapshotList
    print("ok snapshot")

    # A copied VM (uuid.location no longer matches) asks "moved or copied?" on power on.
    # Unregister first (the files stay on the datastore), edit the .vmx, register it again.
    vm2 = find_vm(content, "vm2")
    path = vm2.config.files.vmPathName
    folder = vm2.parent
    pool = vm2.resourcePool
    vm2.UnregisterVM()
    vmx = os.path.join(data_dir, "datastore1", "vm2", "vm2.vmx")
    with open(vmx) as f:
        lines = [l for l in f if not l.startswith("uuid.location")]
    with open(vmx, "w") as f:
        f.writelines(lines + ['uuid.location = "56 4d 00 00 00 00 00 00-00 00 00 00 00 00 00 01"\n'])
    WaitForTask(folder.RegisterVM_Task(path=path, asTemplate=False, pool=pool))
    vm2 = find_vm(content, "vm2")
    task = vm2.PowerOnVM_Task()
    question = None
    for _ in range(50):
        question = vm2.runtime.question
        if question is not None:
            break
    assert question is not None, "no question"
    keys = [c.key for c in question.choice.choiceInfo]
    assert "1" in keys, keys
    vm2.AnswerVM(questionId=question.id, answerChoice="1")
    WaitForTask(task)
    assert vm2.runtime.powerState == "poweredOn"
    assert vm2.runtime.question is None
    print("ok question answered")
    Disconnect(si)


if __name__ == "__main__":
    main()
