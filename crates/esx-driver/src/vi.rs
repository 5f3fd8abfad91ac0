//! Small helpers over esx-vim: property specs and reads, typed access to returned values.

use esx_vim::client::Client;
use esx_vim::{
    Any, BaseSelectionSpec, ManagedObjectReference as MoRef, ObjectContent, ObjectSpec,
    PropertyFilterSpec, PropertySpec, TraversalSpec,
};

use crate::error::{Error, Result};

/// A reference of type `ty` to `value`.
#[cfg(test)]
pub(crate) fn moref(ty: &str, value: &str) -> MoRef {
    MoRef::new(ty, value)
}

/// A property spec for `ty` reading `paths`.
pub(crate) fn prop_spec(ty: &str, paths: &[&str]) -> PropertySpec {
    PropertySpec {
        r#type: ty.to_string(),
        all: Some(false),
        path_set: paths.iter().map(|p| p.to_string()).collect(),
    }
}

/// A traversal from objects of `ty` along property `path`.
pub(crate) fn traverse(ty: &str, path: &str) -> BaseSelectionSpec {
    BaseSelectionSpec::TraversalSpec(Box::new(TraversalSpec {
        name: None,
        r#type: ty.to_string(),
        path: path.to_string(),
        skip: Some(false),
        select_set: Vec::new(),
    }))
}

/// A filter reading `props` of `obj` itself (not skipped) and, through `select`, of the
/// objects it reaches.
pub(crate) fn filter(
    obj: &MoRef,
    skip: bool,
    select: Vec<BaseSelectionSpec>,
    props: Vec<PropertySpec>,
) -> PropertyFilterSpec {
    PropertyFilterSpec {
        prop_set: props,
        object_set: vec![ObjectSpec {
            obj: obj.clone(),
            skip: Some(skip),
            select_set: select,
        }],
        report_missing_objects_in_results: None,
    }
}

/// The properties one object returned, with typed getters.
#[derive(Debug, Clone)]
pub(crate) struct Props(pub ObjectContent);

impl Props {
    pub(crate) fn obj(&self) -> &MoRef {
        &self.0.obj
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Any> {
        self.0
            .prop_set
            .iter()
            .find(|p| p.name == name)
            .map(|p| &p.val)
    }

    pub(crate) fn str(&self, name: &str) -> Option<&str> {
        match self.get(name)? {
            Any::String(s) | Any::AnyUri(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn int(&self, name: &str) -> Option<i64> {
        match self.get(name)? {
            Any::Int(v) => Some(*v as i64),
            Any::Long(v) => Some(*v),
            Any::Short(v) => Some(*v as i64),
            Any::Byte(v) => Some(*v as i64),
            _ => None,
        }
    }

    pub(crate) fn bool(&self, name: &str) -> Option<bool> {
        match self.get(name)? {
            Any::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    pub(crate) fn moref(&self, name: &str) -> Option<&MoRef> {
        match self.get(name)? {
            Any::ManagedObjectReference(r) => Some(r),
            _ => None,
        }
    }

    pub(crate) fn morefs(&self, name: &str) -> Vec<MoRef> {
        match self.get(name) {
            Some(Any::ArrayOfManagedObjectReference(a)) => a.managed_object_reference.clone(),
            Some(Any::ManagedObjectReference(r)) => vec![r.clone()],
            _ => Vec::new(),
        }
    }
}

/// Whether a failed call may or may not have reached the server: the connection broke or
/// timed out after the request was sent, or the server answered without SOAP. (Failures
/// where the request certainly never left are retried by the transport already.)
pub(crate) fn ambiguous(e: &esx_vim::Error) -> bool {
    match e {
        esx_vim::Error::Transport(t) => matches!(
            t.kind,
            esx_vim::transport::TransportErrorKind::Io
                | esx_vim::transport::TransportErrorKind::Timeout
        ),
        esx_vim::Error::Http { .. } => true,
        _ => false,
    }
}

/// The same for the session layer's errors.
fn ambiguous_client(e: &esx_vim::client::ClientError) -> bool {
    matches!(e, esx_vim::client::ClientError::Vim(v) if ambiguous(v))
}

/// Runs a read-only call, once more when the first attempt broke off (reads are idempotent,
/// so sending them twice is safe).
pub(crate) async fn read_retry<T, F, Fut>(
    f: F,
) -> std::result::Result<T, esx_vim::client::ClientError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, esx_vim::client::ClientError>>,
{
    match f().await {
        Err(e) if ambiguous_client(&e) => {
            tracing::info!(error = %e, "a read broke off; reading again");
            f().await
        }
        other => other,
    }
}

/// Reads `paths` of `obj`; the object must exist.
pub(crate) async fn get(client: &Client, obj: &MoRef, paths: &[&str]) -> Result<Props> {
    let spec = filter(obj, false, Vec::new(), vec![prop_spec(&obj.r#type, paths)]);
    let mut found = read_retry(|| client.retrieve_properties(spec.clone(), None)).await?;
    match found.iter().position(|o| o.obj == *obj) {
        Some(i) => Ok(Props(found.swap_remove(i))),
        None => Err(Error::internal(format!(
            "Could not retrieve the properties of {obj}"
        ))),
    }
}

/// Reads with a prepared filter; every returned object.
pub(crate) async fn retrieve(client: &Client, spec: PropertyFilterSpec) -> Result<Vec<Props>> {
    Ok(
        read_retry(|| client.retrieve_properties(spec.clone(), None))
            .await?
            .into_iter()
            .map(Props)
            .collect(),
    )
}

/// Reverses vSphere's `%XX` escaping of `%`, `/` and `\` in entity names (what libvirt's
/// `virVMXUnescapeHexPercent` does to VM names); names with bad escapes stay as they are.
pub(crate) fn unescape_name(name: &str) -> String {
    if !name.contains('%') {
        return name.to_string();
    }
    esx_vmx::unescape_percent(name).unwrap_or_else(|_| name.to_string())
}

/// The domain id libvirt derives from a VM's managed object id (`123` or `vm-123`).
pub(crate) fn vm_id(moref: &MoRef) -> Option<i32> {
    let v = moref.value.strip_prefix("vm-").unwrap_or(&moref.value);
    v.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names() {
        assert_eq!(vm_id(&moref("VirtualMachine", "vm-42")), Some(42));
        assert_eq!(vm_id(&moref("VirtualMachine", "17")), Some(17));
        assert_eq!(vm_id(&moref("VirtualMachine", "x")), None);
        assert_eq!(unescape_name("a%2fb%25c"), "a/b%c");
        assert_eq!(unescape_name("plain"), "plain");
    }
}
