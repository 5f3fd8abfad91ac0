//! Reflection over the WSDL: declared fields of every type, properties and methods of every
//! managed object. Servers (the simulator) and tools walk property paths with it.

pub use crate::generated::{MANAGED_OBJECT_INFO, TYPE_INFO};

/// What kind of complex type a [`TypeInfo`] describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeKind {
    /// A data object.
    Data,
    /// A `MethodFault` or one of its subtypes.
    Fault,
    /// An `ArrayOf*` wrapper.
    Array,
    /// A request message (`*RequestType`).
    Request,
    /// `ManagedObjectReference`.
    ManagedObjectReference,
}

/// One declared field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldInfo {
    /// WSDL field name.
    pub name: &'static str,
    /// Declared type: a WSDL type name, or `xsd:…` for primitives.
    pub ty: &'static str,
    /// `minOccurs="0"`.
    pub optional: bool,
    /// `maxOccurs="unbounded"`.
    pub repeated: bool,
}

/// One complex type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeInfo {
    /// WSDL type name.
    pub name: &'static str,
    /// The type it extends.
    pub base: Option<&'static str>,
    /// What kind of type it is.
    pub kind: TypeKind,
    /// Every field, inherited ones first, in WSDL order.
    pub fields: &'static [FieldInfo],
}

impl TypeInfo {
    /// The declared field `name`.
    pub fn field(&self, name: &str) -> Option<&'static FieldInfo> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// One property of a managed object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PropertyInfo {
    /// Property name.
    pub name: &'static str,
    /// Declared type (`ManagedObjectReference` for references).
    pub ty: &'static str,
    /// For references: the managed object type referred to.
    pub target: Option<&'static str>,
    /// The property may be unset.
    pub optional: bool,
    /// The property is an array.
    pub repeated: bool,
}

/// One managed object type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ManagedObjectInfo {
    /// Type name, e.g. `VirtualMachine`.
    pub name: &'static str,
    /// The managed object type it extends.
    pub base: Option<&'static str>,
    /// Properties it declares (not inherited ones).
    pub properties: &'static [PropertyInfo],
    /// Operations it declares (not inherited ones).
    pub methods: &'static [&'static str],
}

/// The complex type `name`.
pub fn type_info(name: &str) -> Option<&'static TypeInfo> {
    TYPE_INFO
        .binary_search_by(|t| t.name.cmp(name))
        .ok()
        .map(|i| &TYPE_INFO[i])
}

/// The managed object type `name`.
pub fn managed_object_info(name: &str) -> Option<&'static ManagedObjectInfo> {
    MANAGED_OBJECT_INFO
        .binary_search_by(|t| t.name.cmp(name))
        .ok()
        .map(|i| &MANAGED_OBJECT_INFO[i])
}

/// The property `name` of managed object type `ty`, looked up through its base types.
pub fn property_info(ty: &str, name: &str) -> Option<&'static PropertyInfo> {
    let mut cur = managed_object_info(ty);
    while let Some(m) = cur {
        if let Some(p) = m.properties.iter().find(|p| p.name == name) {
            return Some(p);
        }
        cur = m.base.and_then(managed_object_info);
    }
    None
}
