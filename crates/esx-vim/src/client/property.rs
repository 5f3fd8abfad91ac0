//! Property retrieval: RetrievePropertiesEx with ContinueRetrievePropertiesEx paging, and
//! container views.

use crate::generated::{
    methods, BaseSelectionSpec, ObjectContent, ObjectSpec, PropertyFilterSpec, PropertySpec,
    RetrieveOptions, TraversalSpec,
};
use crate::{Any, ManagedObjectReference};

use super::session::{Client, ClientError};

/// A filter spec reading `path` of the single object `obj` of type `ty`.
pub(crate) fn single_property_spec(
    obj: &ManagedObjectReference,
    ty: &str,
    path: &str,
) -> PropertyFilterSpec {
    PropertyFilterSpec {
        prop_set: vec![PropertySpec {
            r#type: ty.to_string(),
            all: None,
            path_set: vec![path.to_string()],
        }],
        object_set: vec![ObjectSpec {
            obj: obj.clone(),
            skip: None,
            select_set: Vec::new(),
        }],
        report_missing_objects_in_results: None,
    }
}

/// A filter spec reading `paths` of every object of type `ty` in the container view `view`.
pub fn view_spec(view: &ManagedObjectReference, ty: &str, paths: &[&str]) -> PropertyFilterSpec {
    let traverse = TraversalSpec {
        name: Some("traverseView".to_string()),
        r#type: "ContainerView".to_string(),
        path: "view".to_string(),
        skip: Some(false),
        select_set: Vec::new(),
    };
    PropertyFilterSpec {
        prop_set: vec![PropertySpec {
            r#type: ty.to_string(),
            all: Some(false),
            path_set: paths.iter().map(|p| p.to_string()).collect(),
        }],
        object_set: vec![ObjectSpec {
            obj: view.clone(),
            skip: Some(true),
            select_set: vec![BaseSelectionSpec::TraversalSpec(Box::new(traverse))],
        }],
        report_missing_objects_in_results: None,
    }
}

/// The value of property `name` in `object`, if it was returned.
pub fn property<'a>(object: &'a ObjectContent, name: &str) -> Option<&'a Any> {
    object
        .prop_set
        .iter()
        .find(|p| p.name == name)
        .map(|p| &p.val)
}

/// True when a result only says "not authenticated" (an expired session), which vSphere may
/// report as missing properties instead of a fault.
fn only_not_authenticated(objects: &[ObjectContent]) -> bool {
    !objects.is_empty()
        && objects.iter().all(|o| {
            o.prop_set.is_empty()
                && !o.missing_set.is_empty()
                && o.missing_set
                    .iter()
                    .all(|m| m.fault.fault.type_name() == "NotAuthenticated")
        })
}

/// A server-side container view, destroyed with [`ContainerView::destroy`].
#[derive(Debug, Clone)]
pub struct ContainerView {
    /// The view's reference.
    pub moref: ManagedObjectReference,
}

impl ContainerView {
    /// Destroys the view on the server.
    pub async fn destroy(self, client: &Client) -> Result<(), ClientError> {
        methods::destroy_view(client, &self.moref)
            .await
            .map_err(ClientError::from)
    }
}

impl Client {
    /// Retrieves everything `spec` selects, `page_size` objects per round trip
    /// (RetrievePropertiesEx, then ContinueRetrievePropertiesEx while a token comes back).
    ///
    /// An expired session is recovered once, whether it shows as a fault or as a result made
    /// only of NotAuthenticated entries.
    pub async fn retrieve_properties(
        &self,
        spec: PropertyFilterSpec,
        page_size: Option<i32>,
    ) -> Result<Vec<ObjectContent>, ClientError> {
        let epoch = self.epoch();
        let first = self.retrieve_pages(spec.clone(), page_size).await?;
        if only_not_authenticated(&first) && self.recover_session(epoch).await? {
            return self.retrieve_pages(spec, page_size).await;
        }
        Ok(first)
    }

    async fn retrieve_pages(
        &self,
        spec: PropertyFilterSpec,
        page_size: Option<i32>,
    ) -> Result<Vec<ObjectContent>, ClientError> {
        let pc = self.property_collector().clone();
        let options = RetrieveOptions {
            max_objects: page_size,
        };
        let mut out = Vec::new();
        let mut page = methods::retrieve_properties_ex(self, &pc, vec![spec], options).await?;
        let mut pages = 0u32;
        while let Some(result) = page {
            pages += 1;
            out.extend(result.objects);
            page = match result.token {
                Some(token) => {
                    Some(methods::continue_retrieve_properties_ex(self, &pc, token).await?)
                }
                None => None,
            };
        }
        tracing::debug!(pages, objects = out.len(), "properties retrieved");
        Ok(out)
    }

    /// Creates a container view of objects of `types` under `container`.
    pub async fn create_container_view(
        &self,
        container: &ManagedObjectReference,
        types: &[&str],
        recursive: bool,
    ) -> Result<ContainerView, ClientError> {
        let vm = self
            .service_content()
            .view_manager
            .clone()
            .ok_or(ClientError::MissingManager("viewManager"))?;
        let types = types.iter().map(|t| t.to_string()).collect();
        let moref =
            methods::create_container_view(self, &vm, container.clone(), types, recursive).await?;
        Ok(ContainerView { moref })
    }

    /// Reads `paths` of every object of type `ty` under the root folder (one container view,
    /// paged RetrievePropertiesEx, view destroyed afterwards).
    pub async fn list_objects(
        &self,
        ty: &str,
        paths: &[&str],
        page_size: Option<i32>,
    ) -> Result<Vec<ObjectContent>, ClientError> {
        let root = self.service_content().root_folder.clone();
        let view = self.create_container_view(&root, &[ty], true).await?;
        let result = self
            .retrieve_properties(view_spec(&view.moref, ty, paths), page_size)
            .await;
        if let Err(e) = view.destroy(self).await {
            tracing::debug!(error = %e, "DestroyView failed");
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::{DynamicProperty, LocalizedMethodFault, MissingProperty};

    #[test]
    fn view_spec_shape() {
        let view = ManagedObjectReference::new("ContainerView", "session[1]view");
        let spec = view_spec(&view, "VirtualMachine", &["name", "runtime.powerState"]);
        assert_eq!(spec.prop_set[0].path_set, ["name", "runtime.powerState"]);
        assert_eq!(spec.object_set[0].skip, Some(true));
        match &spec.object_set[0].select_set[0] {
            BaseSelectionSpec::TraversalSpec(t) => assert_eq!(
                (t.r#type.as_str(), t.path.as_str()),
                ("ContainerView", "view")
            ),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn expired_session_shape() {
        let obj = ManagedObjectReference::new("SessionManager", "ha-sessionmgr");
        let missing = |fault_xml_type: &str| {
            let fault = match fault_xml_type {
                "NotAuthenticated" => {
                    crate::generated::BaseMethodFault::NotAuthenticated(Box::default())
                }
                _ => crate::generated::BaseMethodFault::MethodFault(Box::default()),
            };
            MissingProperty {
                path: "currentSession".into(),
                fault: LocalizedMethodFault {
                    fault,
                    localized_message: None,
                },
            }
        };
        let only = ObjectContent {
            obj: obj.clone(),
            prop_set: vec![],
            missing_set: vec![missing("NotAuthenticated")],
        };
        assert!(only_not_authenticated(std::slice::from_ref(&only)));
        assert!(!only_not_authenticated(&[]));
        let other = ObjectContent {
            obj: obj.clone(),
            prop_set: vec![],
            missing_set: vec![missing("MethodFault")],
        };
        assert!(!only_not_authenticated(&[other]));
        let with_value = ObjectContent {
            obj,
            prop_set: vec![DynamicProperty {
                name: "name".into(),
                val: Any::String("vm".into()),
            }],
            missing_set: vec![missing("NotAuthenticated")],
        };
        assert!(!only_not_authenticated(&[with_value]));
        assert_eq!(property(&only, "name"), None);
    }
}
