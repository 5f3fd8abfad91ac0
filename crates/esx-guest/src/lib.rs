//! `esx-guest-agent`: runs inside a guest and configures its networking from the settings a
//! provisioning tool injected through the `machine.id` VMX key.
