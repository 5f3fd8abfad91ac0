//! `esxsh`, a virsh-style command line for ESX, GSX and vCenter.
