//! A vSphere simulator: an HTTPS server that answers the vim25 SOAP API and the datastore
//! `/folder` file API from an in-memory inventory backed by real files, so that real clients
//! (pyvmomi, govc, virsh, our own driver) can run against it on loopback.
