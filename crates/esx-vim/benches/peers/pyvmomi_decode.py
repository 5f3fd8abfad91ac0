"""Decodes a RetrievePropertiesExResponse envelope with pyVmomi's own SOAP deserializer and
prints MB/s: the peer figure beside `cargo run --release -p esx-vim --example codec-figures`."""
import sys
import time

from pyVmomi import SoapAdapter, vmodl

doc = open(sys.argv[1], "rb").read()
stub = SoapAdapter.SoapStubAdapter(host="localhost", version="vim.version.version13")
result_type = vmodl.query.PropertyCollector.RetrieveResult
times = []
for _ in range(3):
    t = time.perf_counter()
    res = SoapAdapter.SoapResponseDeserializer(stub).Deserialize(doc, result_type)
    times.append(time.perf_counter() - t)
times.sort()
print(f"pyvmomi decode: {len(doc) / 1e6 / times[1]:7.1f} MB/s ({len(res.objects)} objects)")
