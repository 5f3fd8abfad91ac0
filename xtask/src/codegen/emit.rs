//! Turns a [`Schema`] into the Rust sources of `esx-vim/src/generated/`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;

use super::managed::ManagedObject;
use super::names::{snake, variant};
use super::wsdl::{Field, Operation, Schema, TypeRef};

/// What kind of complex type a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Data,
    Fault,
    Array,
    Request,
    MoRef,
}

/// The generator's view of the schema.
pub struct Gen<'s> {
    s: &'s Schema,
    kind: HashMap<&'s str, Kind>,
    children: HashMap<&'s str, Vec<&'s str>>,
    /// Types with subtypes that appear as a declared field type (so need a polymorphic enum).
    poly: BTreeSet<&'s str>,
    /// (owner, field) pairs that must be boxed to break a recursive layout.
    boxed: HashSet<(&'s str, &'s str)>,
    managed: &'s [ManagedObject],
}

/// Counts printed by `cargo xtask codegen`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub data: usize,
    pub faults: usize,
    pub arrays: usize,
    pub enums: usize,
    pub operations: usize,
}

const PRIMITIVES: &[(&str, &str, &str)] = &[
    // (xsd name, Any variant, Rust type)
    ("string", "String", "String"),
    ("boolean", "Boolean", "bool"),
    ("byte", "Byte", "i8"),
    ("short", "Short", "i16"),
    ("int", "Int", "i32"),
    ("long", "Long", "i64"),
    ("float", "Float", "f32"),
    ("double", "Double", "f64"),
    ("dateTime", "DateTime", "DateTime"),
    ("base64Binary", "Base64Binary", "Vec<u8>"),
    ("anyURI", "AnyUri", "String"),
];

impl<'s> Gen<'s> {
    pub fn new(s: &'s Schema, managed: &'s [ManagedObject]) -> Result<Self, String> {
        let mut kind = HashMap::new();
        let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
        for (name, c) in &s.complex {
            if let Some(b) = &c.base {
                if !s.complex.contains_key(b) {
                    return Err(format!("{name} extends unknown type {b}"));
                }
                children.entry(b.as_str()).or_default().push(name.as_str());
            }
        }
        for (name, c) in &s.complex {
            let k = if c.simple_content {
                Kind::MoRef
            } else if c.file.contains("messagetypes") {
                Kind::Request
            } else if name.starts_with("ArrayOf") {
                Kind::Array
            } else if Self::chain(s, name).any(|t| t == "MethodFault") {
                Kind::Fault
            } else {
                Kind::Data
            };
            kind.insert(name.as_str(), k);
        }
        let mut g = Gen {
            s,
            kind,
            children,
            poly: BTreeSet::new(),
            boxed: HashSet::new(),
            managed,
        };
        g.check_references()?;
        g.find_poly();
        g.find_boxed();
        g.check_names()?;
        Ok(g)
    }

    /// `name`, then its base, and so on up to the root.
    fn chain<'a>(s: &'a Schema, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let mut cur = Some(name);
        std::iter::from_fn(move || {
            let n = cur?;
            cur = s.complex.get(n).and_then(|c| c.base.as_deref());
            Some(n)
        })
    }

    pub fn counts(&self) -> Counts {
        let n = |k| self.kind.values().filter(|v| **v == k).count();
        let roots = ["DynamicData", "DynamicArray"]
            .iter()
            .filter(|r| self.kind.get(**r) == Some(&Kind::Data))
            .count();
        Counts {
            data: n(Kind::Data) - roots,
            faults: n(Kind::Fault),
            arrays: n(Kind::Array),
            enums: self.s.enums.len(),
            operations: self.s.operations.len(),
        }
    }

    fn all_fields(&self) -> impl Iterator<Item = (&'s str, &'s Field)> + '_ {
        let s = self.s;
        s.complex
            .iter()
            .flat_map(|(n, c)| c.fields.iter().map(move |f| (n.as_str(), f)))
            .chain(
                s.operations
                    .iter()
                    .flat_map(|o| o.response_fields.iter().map(move |f| (o.name.as_str(), f))),
            )
    }

    fn check_references(&self) -> Result<(), String> {
        for (owner, f) in self.all_fields() {
            if let TypeRef::Vim(t) = &f.ty {
                if !self.s.complex.contains_key(t) && !self.s.enums.contains_key(t) {
                    return Err(format!("{owner}.{}: unknown type {t}", f.name));
                }
            }
            if let TypeRef::Xsd(t) = &f.ty {
                if t != "anyType" && !PRIMITIVES.iter().any(|p| p.0 == t) {
                    return Err(format!("{owner}.{}: unsupported xsd:{t}", f.name));
                }
            }
        }
        for op in &self.s.operations {
            for f in op.faults.iter().chain(std::iter::once(&op.request_type)) {
                if !self.s.complex.contains_key(f) {
                    return Err(format!("operation {}: unknown type {f}", op.name));
                }
            }
        }
        Ok(())
    }

    fn find_poly(&mut self) {
        let used: Vec<&'s str> = self
            .all_fields()
            .filter_map(|(_, f)| match &f.ty {
                TypeRef::Vim(t) => Some(t.as_str()),
                _ => None,
            })
            .collect();
        for t in used.into_iter().chain(["MethodFault"]) {
            if self.children.contains_key(t) {
                self.poly.insert(t);
            }
        }
    }

    /// All descendants of `name`, sorted by name.
    fn descendants(&self, name: &str) -> Vec<&'s str> {
        let mut out = Vec::new();
        let mut stack: Vec<&str> = self.children.get(name).cloned().unwrap_or_default();
        while let Some(n) = stack.pop() {
            out.push(n);
            if let Some(c) = self.children.get(n) {
                stack.extend(c.iter().copied());
            }
        }
        out.sort_unstable();
        out
    }

    /// Fields of `name` with its ancestors' first (schema order).
    fn flat_fields(&self, name: &str) -> Vec<&'s Field> {
        let chain: Vec<&str> = Self::chain(self.s, name).collect();
        chain
            .iter()
            .rev()
            .flat_map(|n| self.s.complex[*n].fields.iter())
            .collect()
    }

    /// A struct-to-struct edge that would make a type contain itself by value.
    fn find_boxed(&mut self) {
        // Edges: owner -> field type for single (non-Vec) fields of non-polymorphic struct type.
        let mut edges: HashMap<&'s str, Vec<(&'s str, &'s str)>> = HashMap::new();
        for name in self.s.complex.keys() {
            for f in self.flat_fields(name) {
                if f.repeated {
                    continue;
                }
                if let TypeRef::Vim(t) = &f.ty {
                    if self.s.complex.contains_key(t) && !self.poly.contains(t.as_str()) {
                        edges
                            .entry(name.as_str())
                            .or_default()
                            .push((t.as_str(), f.name.as_str()));
                    }
                }
            }
        }
        // A field is boxed when its type can reach the owner again.
        let reach = |from: &'s str, to: &'s str| -> bool {
            let mut seen = HashSet::new();
            let mut stack = vec![from];
            while let Some(n) = stack.pop() {
                if n == to {
                    return true;
                }
                if seen.insert(n) {
                    if let Some(es) = edges.get(n) {
                        stack.extend(es.iter().map(|e| e.0));
                    }
                }
            }
            false
        };
        let mut boxed = HashSet::new();
        for (owner, es) in &edges {
            for (t, field) in es {
                if reach(t, owner) {
                    boxed.insert((*owner, *field));
                }
            }
        }
        self.boxed = boxed;
    }

    fn check_names(&self) -> Result<(), String> {
        let reserved: HashSet<&str> = [
            "Any", "Error", "Request", "Response", "Option", "Vec", "Box", "Result", "Default",
        ]
        .into_iter()
        .collect();
        let mut all: HashSet<String> = HashSet::new();
        for n in self.s.complex.keys().chain(self.s.enums.keys()) {
            if reserved.contains(n.as_str()) {
                return Err(format!("WSDL type {n} collides with a generated name"));
            }
            all.insert(n.clone());
        }
        for p in &self.poly {
            if all.contains(&format!("Base{p}")) {
                return Err(format!("Base{p} collides with a WSDL type"));
            }
        }
        for op in &self.s.operations {
            if all.contains(&format!("{}Response", op.name)) {
                return Err(format!("{}Response collides with a WSDL type", op.name));
            }
        }
        for (_, v, _) in PRIMITIVES {
            if all.contains(*v) {
                return Err(format!("Any::{v} collides with a WSDL type"));
            }
        }
        Ok(())
    }

    // ---------------------------------------------------------------- types of fields

    fn rust_base(&self, t: &TypeRef) -> String {
        match t {
            TypeRef::Xsd(x) if x == "anyType" => "Any".into(),
            TypeRef::Xsd(x) => PRIMITIVES
                .iter()
                .find(|p| p.0 == x)
                .map(|p| p.2)
                .unwrap_or("String")
                .into(),
            TypeRef::Vim(n) if self.poly.contains(n.as_str()) => format!("Base{n}"),
            TypeRef::Vim(n) => n.clone(),
        }
    }

    fn field_type(&self, owner: &str, f: &Field) -> String {
        let b = self.rust_base(&f.ty);
        let boxed = self.boxed.contains(&(owner, f.name.as_str()));
        match (f.repeated, f.optional, boxed) {
            (true, _, _) => format!("Vec<{b}>"),
            (false, true, true) => format!("Option<Box<{b}>>"),
            (false, true, false) => format!("Option<{b}>"),
            (false, false, true) => format!("Box<{b}>"),
            (false, false, false) => b,
        }
    }

    fn decode_call(&self, owner: &str, f: &Field) -> &'static str {
        let boxed = self.boxed.contains(&(owner, f.name.as_str()));
        match (f.repeated, f.optional, boxed) {
            (true, _, _) => "many",
            (false, true, true) => "opt_boxed",
            (false, true, false) => "opt",
            (false, false, true) => "boxed",
            (false, false, false) => "one",
        }
    }

    fn encode_call(&self, owner: &str, f: &Field) -> &'static str {
        match self.decode_call(owner, f) {
            "opt_boxed" => "opt_boxed",
            "boxed" => "boxed",
            "many" => "many",
            "opt" => "opt",
            _ => "one",
        }
    }

    fn xsd_name(t: &TypeRef) -> String {
        match t {
            TypeRef::Xsd(x) => format!("xsd:{x}"),
            TypeRef::Vim(n) => n.clone(),
        }
    }

    /// Rust field names of a field list, made unique.
    fn field_idents(fields: &[&Field]) -> Vec<String> {
        let mut seen: HashMap<String, usize> = HashMap::new();
        fields
            .iter()
            .map(|f| {
                let base = snake(&f.name);
                let n = seen.entry(base.clone()).or_insert(0);
                *n += 1;
                if *n == 1 {
                    base
                } else {
                    format!("{}_{}", base.trim_start_matches("r#"), n)
                }
            })
            .collect()
    }

    // ---------------------------------------------------------------- emitters

    /// One struct with its `ComplexType` impl.
    fn emit_struct(&self, out: &mut String, name: &str, owner: &str, doc: &str, fields: &[&Field]) {
        let idents = Self::field_idents(fields);
        let _ = writeln!(out, "/// {doc}");
        out.push_str("#[derive(Debug, Clone, PartialEq, Default)]\npub struct ");
        out.push_str(name);
        if fields.is_empty() {
            out.push_str(" {}\n");
        } else {
            out.push_str(" {\n");
            for (f, id) in fields.iter().zip(&idents) {
                let _ = writeln!(
                    out,
                    "    /// `{}`: {}{}.\n    pub {id}: {},",
                    f.name,
                    Self::xsd_name(&f.ty),
                    if f.repeated {
                        ", repeated"
                    } else if f.optional {
                        ", optional"
                    } else {
                        ""
                    },
                    self.field_type(owner, f)
                );
            }
            out.push_str("}\n");
        }
        let _ = writeln!(out, "impl ComplexType for {name} {{");
        let _ = writeln!(out, "    const TYPE_NAME: &'static str = {name:?};");
        if fields.is_empty() {
            out.push_str("    fn encode_fields(&self, _w: &mut Encoder) {}\n");
            out.push_str(
                "    fn decode_field<'i>(&mut self, r: &mut Decoder<'i>, c: &Elem<'i>) -> Result<(), DecodeError> { r.skip(c) }\n",
            );
        } else {
            out.push_str("    fn encode_fields(&self, w: &mut Encoder) {\n");
            let is_array = self.kind.get(owner) == Some(&Kind::Array);
            for (f, id) in fields.iter().zip(&idents) {
                if is_array && f.repeated {
                    // Real servers type every array item; libvirt's parser depends on it.
                    let _ = writeln!(
                        out,
                        "        w.many_typed({:?}, {:?}, &self.{id});",
                        f.name,
                        Self::xsd_name(&f.ty)
                    );
                    continue;
                }
                let _ = writeln!(
                    out,
                    "        w.{}({:?}, &self.{id});",
                    self.encode_call(owner, f),
                    f.name
                );
            }
            out.push_str("    }\n");
            out.push_str(
                "    fn decode_field<'i>(&mut self, r: &mut Decoder<'i>, c: &Elem<'i>) -> Result<(), DecodeError> {\n",
            );
            out.push_str("        match c.name() {\n");
            for (f, id) in fields.iter().zip(&idents) {
                let _ = writeln!(
                    out,
                    "            b{:?} => r.{}(c, &mut self.{id}),",
                    f.name,
                    self.decode_call(owner, f)
                );
            }
            out.push_str("            _ => r.skip(c),\n        }\n    }\n");
        }
        out.push_str("}\n");
    }

    fn type_doc(&self, name: &str) -> String {
        let c = &self.s.complex[name];
        let kind = match self.kind[name] {
            Kind::Fault => "fault",
            Kind::Array => "array wrapper",
            Kind::Request => "request message",
            _ => "data object",
        };
        match &c.base {
            Some(b) if b != "DynamicData" => format!("The `{name}` {kind} (extends `{b}`)."),
            _ => format!("The `{name}` {kind}."),
        }
    }

    /// Data objects, faults, arrays and request types, split into chunks of files.
    fn emit_types(&self, files: &mut Vec<(String, String)>) {
        let names: Vec<&str> = self
            .s
            .complex
            .keys()
            .map(String::as_str)
            .filter(|n| self.kind[n] != Kind::MoRef)
            .collect();
        let chunk = 400;
        for (i, group) in names.chunks(chunk).enumerate() {
            let mut out = header("Data objects, faults, array wrappers and request messages.");
            out.push_str("use super::*;\n\n");
            for n in group {
                let fields = self.flat_fields(n);
                self.emit_struct(&mut out, n, n, &self.type_doc(n), &fields);
            }
            files.push((format!("types_{i:02}.rs"), out));
        }
    }

    fn emit_enums(&self, files: &mut Vec<(String, String)>) {
        let mut out = header("Enumerations. Values newer than the WSDL decode as `Other`.");
        for (name, values) in &self.s.enums {
            let mut seen = HashSet::new();
            let vars: Vec<(String, &String)> = values
                .iter()
                .map(|v| {
                    let mut var = variant(v);
                    while !seen.insert(var.clone()) {
                        var.push('_');
                    }
                    (var, v)
                })
                .collect();
            let _ = writeln!(out, "/// The `{name}` enumeration.");
            out.push_str("#[derive(Debug, Clone, PartialEq, Eq, Hash)]\n#[non_exhaustive]\n");
            let _ = writeln!(out, "pub enum {name} {{");
            for (var, v) in &vars {
                let _ = writeln!(out, "    /// `{v}`\n    {var},");
            }
            out.push_str("    /// A value these bindings do not know (newer server).\n    Other(String),\n}\n");
            let _ = writeln!(out, "impl {name} {{");
            out.push_str("    /// Every value the WSDL declares, in WSDL order.\n");
            let _ = writeln!(
                out,
                "    pub const VALUES: &'static [&'static str] = &{:?};",
                values
            );
            out.push_str("    /// The value as the server spells it.\n    pub fn as_str(&self) -> &str {\n        match self {\n");
            for (var, v) in &vars {
                let _ = writeln!(out, "            Self::{var} => {v:?},");
            }
            out.push_str("            Self::Other(s) => s,\n        }\n    }\n");
            out.push_str("    /// Parses a value; unknown ones become `Other`.\n    pub fn from_wsdl(s: &str) -> Self {\n        match s {\n");
            for (var, v) in &vars {
                let _ = writeln!(out, "            {v:?} => Self::{var},");
            }
            out.push_str(
                "            other => Self::Other(other.to_owned()),\n        }\n    }\n}\n",
            );
            let default = vars
                .first()
                .map(|(v, _)| format!("Self::{v}"))
                .unwrap_or("Self::Other(String::new())".into());
            let _ = writeln!(
                out,
                "impl Default for {name} {{ fn default() -> Self {{ {default} }} }}"
            );
            let _ = writeln!(out, "simple_enum!({name});");
        }
        files.push(("enums.rs".into(), out));
    }

    fn emit_poly(&self, files: &mut Vec<(String, String)>) {
        let mut out = header(
            "Polymorphic fields: one enum per declared base type, dispatched on `xsi:type`.",
        );
        out.push_str("use super::*;\n\n");
        for base in &self.poly {
            let mut members = vec![*base];
            members.extend(self.descendants(base));
            let e = format!("Base{base}");
            let _ = writeln!(
                out,
                "/// A `{base}` or any of its {} subtypes, as chosen by `xsi:type`.",
                members.len() - 1
            );
            out.push_str(
                "#[derive(Debug, Clone, PartialEq)]\n#[allow(clippy::large_enum_variant)]\n",
            );
            let _ = writeln!(out, "pub enum {e} {{");
            for m in &members {
                let _ = writeln!(out, "    /// `{m}`\n    {m}(Box<{m}>),");
            }
            out.push_str("}\n");
            let _ = writeln!(out, "impl Default for {e} {{ fn default() -> Self {{ Self::{base}(Default::default()) }} }}");
            let _ = writeln!(out, "impl {e} {{");
            out.push_str("    /// The WSDL name of the value's actual type.\n    pub fn type_name(&self) -> &'static str {\n        match self {\n");
            for m in &members {
                let _ = writeln!(out, "            Self::{m}(_) => {m:?},");
            }
            out.push_str("        }\n    }\n");
            out.push_str(
                "    /// Decodes as the type named `type_name` (falling back to the base type).\n    pub fn decode_as(r: &mut Decoder<'_>, el: &Elem<'_>, type_name: Option<&str>) -> Result<Self, DecodeError> {\n",
            );
            let table = format!(
                "{}_SUBTYPES",
                snake(base).trim_start_matches("r#").to_uppercase()
            );
            let _ = writeln!(out, "        decode_poly(r, el, type_name, decode_into::<{base}, Self>, {table})\n    }}");
            out.push_str(
                "    /// Writes the value as element `name` with its `xsi:type` and an optional extra attribute.\n    pub fn encode_element(&self, w: &mut Encoder, name: &str, attr: Option<(&str, &str)>) {\n        match self {\n",
            );
            for m in &members {
                let _ = writeln!(
                    out,
                    "            Self::{m}(v) => encode_typed(w, name, {m:?}, attr, &**v),"
                );
            }
            out.push_str("        }\n    }\n}\n");
            let _ = writeln!(out, "poly_enum!({e});");
            let _ = writeln!(out, "variant_of!({e}: {});", members.join(", "));
            let subs: Vec<&&str> = members.iter().skip(1).collect();
            let _ = writeln!(out, "static {table}: &[(&str, DecodeFn<{e}>)] = &[");
            let mut sorted: Vec<&&str> = subs.clone();
            sorted.sort();
            for m in sorted {
                let _ = writeln!(out, "    ({m:?}, decode_into::<{m}, {e}>),");
            }
            out.push_str("];\n");
        }
        files.push(("poly.rs".into(), out));
    }

    fn emit_any(&self, files: &mut Vec<(String, String)>) {
        let mut out = header("`Any`: a value of `xsd:anyType`, decoded by its `xsi:type`.");
        out.push_str("use super::*;\n\n");
        let complex: Vec<&str> = self
            .s
            .complex
            .keys()
            .map(String::as_str)
            .filter(|n| matches!(self.kind[n], Kind::Data | Kind::Fault | Kind::Array))
            .collect();
        out.push_str("/// A value of `xsd:anyType`: any primitive, data object, fault, enumeration or array wrapper,\n");
        out.push_str("/// or `Unknown` for a type newer than these bindings.\n");
        out.push_str("#[derive(Debug, Clone, PartialEq)]\n#[non_exhaustive]\npub enum Any {\n");
        for (x, v, t) in PRIMITIVES {
            let _ = writeln!(out, "    /// `xsd:{x}`\n    {v}({t}),");
        }
        out.push_str("    /// `ManagedObjectReference`\n    ManagedObjectReference(ManagedObjectReference),\n");
        for n in &complex {
            let _ = writeln!(out, "    /// `{n}`\n    {n}(Box<{n}>),");
        }
        for n in self.s.enums.keys() {
            let _ = writeln!(out, "    /// `{n}`\n    {n}({n}),");
        }
        out.push_str(
            "    /// A type these bindings do not know, kept verbatim.\n    Unknown {\n        /// The `xsi:type` as sent: its local name, `{uri}local` when in a namespace other than urn:vim25, empty when absent.\n        xsi_type: String,\n        /// The element's content, verbatim.\n        raw_xml: String,\n    },\n}\n",
        );
        out.push_str("impl Any {\n    /// The WSDL name of the value's type (`xsd:` prefixed for primitives).\n    pub fn type_name(&self) -> &str {\n        match self {\n");
        for (x, v, _) in PRIMITIVES {
            let _ = writeln!(out, "            Self::{v}(_) => \"xsd:{x}\",");
        }
        out.push_str(
            "            Self::ManagedObjectReference(_) => \"ManagedObjectReference\",\n",
        );
        for n in complex
            .iter()
            .copied()
            .chain(self.s.enums.keys().map(String::as_str))
        {
            let _ = writeln!(out, "            Self::{n}(_) => {n:?},");
        }
        out.push_str("            Self::Unknown { xsi_type, .. } => xsi_type,\n        }\n    }\n");
        out.push_str("    /// Writes the value as element `name`, always with its `xsi:type`.\n    pub fn encode_element(&self, w: &mut Encoder, name: &str) {\n        match self {\n");
        for (x, v, _) in PRIMITIVES {
            let _ = writeln!(
                out,
                "            Self::{v}(v) => w.leaf(name, Some(\"xsd:{x}\"), &prim_text(v)),"
            );
        }
        out.push_str("            Self::ManagedObjectReference(v) => v.encode_typed(w, name, Some(\"ManagedObjectReference\")),\n");
        for n in &complex {
            let _ = writeln!(
                out,
                "            Self::{n}(v) => encode_typed(w, name, {n:?}, None, &**v),"
            );
        }
        for n in self.s.enums.keys() {
            let _ = writeln!(
                out,
                "            Self::{n}(v) => w.leaf(name, Some({n:?}), v.as_str()),"
            );
        }
        out.push_str("            Self::Unknown { xsi_type, raw_xml } => encode_unknown(w, name, xsi_type, raw_xml),\n        }\n    }\n");
        out.push_str("    /// Decodes a primitive named by an `xsd:` type.\n    fn decode_xsd(r: &mut Decoder<'_>, el: &Elem<'_>, ty: &str) -> Result<Self, DecodeError> {\n        Ok(match ty {\n");
        for (x, v, t) in PRIMITIVES {
            let _ = writeln!(
                out,
                "            {x:?} => Self::{v}(<{t} as Decode>::decode(r, el)?),"
            );
        }
        out.push_str("            _ => return decode_unknown(r, el, ty),\n        })\n    }\n}\n");
        let _ = writeln!(out, "variant_of!(Any: {});", complex.join(", "));
        let _ = writeln!(
            out,
            "variant_of_unboxed!(Any: ManagedObjectReference, {});",
            self.s
                .enums
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        );
        out.push_str("impl Encode for Any {\n    fn encode(&self, w: &mut Encoder, name: &str) {\n        self.encode_element(w, name)\n    }\n}\n");
        out.push_str("impl Default for Any {\n    fn default() -> Self {\n        Self::Unknown { xsi_type: String::new(), raw_xml: String::new() }\n    }\n}\n");
        out.push_str("impl Decode for Any {\n    fn decode(r: &mut Decoder<'_>, el: &Elem<'_>) -> Result<Self, DecodeError> {\n");
        out.push_str("        match el.xsi_type() {\n            Some(XsiType { ns: TypeNs::Xsd, name }) => { let n = name.to_string(); Self::decode_xsd(r, el, &n) }\n");
        out.push_str("            Some(XsiType { ns: TypeNs::Vim, name }) => match lookup(ANY_TYPES, name) {\n                Some(f) => f(r, el),\n                None => { let n = name.to_string(); decode_unknown(r, el, &n) }\n            },\n");
        out.push_str("            Some(XsiType { name, .. }) => { let n = name.to_string(); decode_unknown(r, el, &n) }\n            None => decode_unknown(r, el, \"\"),\n        }\n    }\n}\n");
        let mut table: Vec<(&str, String)> = complex
            .iter()
            .map(|n| (*n, format!("decode_into::<{n}, Any>")))
            .collect();
        for n in self.s.enums.keys() {
            table.push((n.as_str(), format!("decode_into::<{n}, Any>")));
        }
        table.push((
            "ManagedObjectReference",
            "decode_into::<ManagedObjectReference, Any>".into(),
        ));
        table.sort_by(|a, b| a.0.cmp(b.0));
        out.push_str("/// Every vim25 type `Any` can hold, sorted by name.\nstatic ANY_TYPES: &[(&str, DecodeFn<Any>)] = &[\n");
        for (n, f) in &table {
            let _ = writeln!(out, "    ({n:?}, {f}),");
        }
        out.push_str("];\n");
        files.push(("any.rs".into(), out));
    }

    fn op_fn(op: &Operation) -> String {
        snake(&op.name)
    }

    fn request_fields(&self, op: &Operation) -> Vec<&'s Field> {
        self.flat_fields(&op.request_type)
    }

    fn return_type(&self, op: &Operation) -> String {
        match op.response_fields.first() {
            Some(f) => self.field_type(&op.name, f),
            None => "()".into(),
        }
    }

    fn emit_messages(&self, files: &mut Vec<(String, String)>) {
        let mut out =
            header("Response messages, and `Request`/`Response` enums over every operation.");
        out.push_str("use super::*;\n\n");
        for op in &self.s.operations {
            let name = format!("{}Response", op.name);
            let fields: Vec<&Field> = op.response_fields.iter().collect();
            self.emit_struct(
                &mut out,
                &name,
                &op.name,
                &format!("The response to `{}`.", op.name),
                &fields,
            );
            let ret = self.return_type(op);
            let body = match op.response_fields.first() {
                Some(f) => format!("self.{}", snake(&f.name)),
                None => "()".into(),
            };
            let _ = writeln!(
                out,
                "impl ResponseMessage for {name} {{ type Output = {ret}; fn into_output(self) -> {ret} {{ {body} }} }}"
            );
        }
        // Request / Response enums.
        for (e, suffix, what) in [
            ("Request", "RequestType", "request"),
            ("Response", "Response", "response"),
        ] {
            let _ = writeln!(out, "/// Any {what} message of the API, by operation.");
            out.push_str("#[derive(Debug, Clone, PartialEq)]\n#[non_exhaustive]\n");
            let _ = writeln!(out, "pub enum {e} {{");
            for op in &self.s.operations {
                let t = if e == "Request" {
                    op.request_type.clone()
                } else {
                    format!("{}{suffix}", op.name)
                };
                let _ = writeln!(out, "    /// `{}`\n    {}(Box<{t}>),", op.name, op.name);
            }
            out.push_str("}\n");
            let _ = writeln!(out, "impl {e} {{");
            out.push_str("    /// The operation's WSDL name.\n    pub fn method(&self) -> &'static str {\n        match self {\n");
            for op in &self.s.operations {
                let _ = writeln!(out, "            Self::{0}(_) => {0:?},", op.name);
            }
            out.push_str("        }\n    }\n");
            let _ = writeln!(
                out,
                "    /// Decodes the body element of operation `method`; `None` for an unknown operation.\n    pub fn decode_for(r: &mut Decoder<'_>, el: &Elem<'_>, method: &str) -> Result<Option<Self>, DecodeError> {{\n        match lookup({}_TABLE, method) {{\n            Some(f) => f(r, el).map(Some),\n            None => Ok(None),\n        }}\n    }}",
                e.to_uppercase()
            );
            let enc = if e == "Request" {
                "encode_request"
            } else {
                "encode_response"
            };
            out.push_str("    /// Encodes the whole SOAP envelope.\n    pub fn to_envelope(&self) -> Vec<u8> {\n        match self {\n");
            for op in &self.s.operations {
                let _ = writeln!(
                    out,
                    "            Self::{0}(v) => soap::{enc}({0:?}, &**v),",
                    op.name
                );
            }
            out.push_str("        }\n    }\n");
            if e == "Request" {
                out.push_str("    /// The managed object the request is made on (`_this`).\n    pub fn this(&self) -> &ManagedObjectReference {\n        match self {\n");
                for op in &self.s.operations {
                    let _ = writeln!(out, "            Self::{}(v) => &v.this,", op.name);
                }
                out.push_str("        }\n    }\n");
            }
            out.push_str("}\n");
            let pairs: Vec<String> = self
                .s
                .operations
                .iter()
                .map(|op| {
                    let t = if e == "Request" {
                        op.request_type.clone()
                    } else {
                        format!("{}{suffix}", op.name)
                    };
                    format!("{}({t})", op.name)
                })
                .collect();
            let _ = writeln!(out, "variant_of_named!({e}: {});", pairs.join(", "));
            let _ = writeln!(
                out,
                "static {}_TABLE: &[(&str, DecodeFn<{e}>)] = &[",
                e.to_uppercase()
            );
            let mut ops: Vec<&Operation> = self.s.operations.iter().collect();
            ops.sort_by(|a, b| a.name.cmp(&b.name));
            for op in ops {
                let t = if e == "Request" {
                    op.request_type.clone()
                } else {
                    format!("{}{suffix}", op.name)
                };
                let _ = writeln!(out, "    ({:?}, decode_into::<{t}, {e}>),", op.name);
            }
            out.push_str("];\n");
        }
        // Operation metadata.
        out.push_str("/// What the WSDL says about one operation.\n#[derive(Debug, Clone, Copy, PartialEq, Eq)]\npub struct OperationInfo {\n    /// WSDL name.\n    pub name: &'static str,\n    /// `SOAPAction` of the WSDL binding.\n    pub soap_action: &'static str,\n    /// The fault types the operation declares.\n    pub faults: &'static [&'static str],\n}\n");
        out.push_str("/// Every operation of the WSDL, in WSDL order.\npub static OPERATIONS: &[OperationInfo] = &[\n");
        for op in &self.s.operations {
            let _ = writeln!(
                out,
                "    OperationInfo {{ name: {:?}, soap_action: {:?}, faults: &{:?} }},",
                op.name, op.soap_action, op.faults
            );
        }
        out.push_str("];\n");
        files.push(("messages.rs".into(), out));
    }

    fn emit_methods(&self, files: &mut Vec<(String, String)>) {
        let mut out = header("One async function per operation.");
        out.push_str("use super::*;\n\n");
        for op in &self.s.operations {
            let fields = self.request_fields(op);
            let idents = Self::field_idents(&fields);
            let ret = self.return_type(op);
            let _ = writeln!(out, "/// Calls `{}`.", op.name);
            if !op.faults.is_empty() {
                let _ = writeln!(
                    out,
                    "///\n/// Declared faults: {}.",
                    op.faults
                        .iter()
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            let mut params = String::from("t: &'a dyn Transport");
            let mut inits = Vec::new();
            for (f, id) in fields.iter().zip(&idents) {
                if f.name == "_this" {
                    params.push_str(", this: &ManagedObjectReference");
                    inits.push("this: this.clone()".to_string());
                } else {
                    let _ = write!(params, ", {id}: {}", self.field_type(&op.request_type, f));
                    inits.push(id.clone());
                }
            }
            let _ = writeln!(
                out,
                "pub fn {}<'a>({params}) -> impl Future<Output = Result<{ret}, Error>> + Send + 'a {{",
                Self::op_fn(op)
            );
            let _ = writeln!(
                out,
                "    let req = {} {{ {} }};",
                op.request_type,
                inits.join(", ")
            );
            let _ = writeln!(
                out,
                "    let body = soap::encode_request({0:?}, &req);\n    call::<{0}Response>(t, {0:?}, req.this, body)\n}}",
                op.name
            );
        }
        files.push(("methods.rs".into(), out));
    }

    fn emit_managed(&self, files: &mut Vec<(String, String)>) -> Result<(), String> {
        let mut out = header("Typed handles for the managed object types.");
        out.push_str("use super::*;\n\n");
        let by_name: BTreeMap<&str, &ManagedObject> =
            self.managed.iter().map(|m| (m.name.as_str(), m)).collect();
        let ops: HashMap<&str, &Operation> = self
            .s
            .operations
            .iter()
            .map(|o| (o.name.as_str(), o))
            .collect();
        let mut claimed: HashSet<&str> = HashSet::new();
        for m in by_name.values() {
            // Own methods, then inherited ones.
            let mut methods: Vec<&str> = Vec::new();
            let mut cur = Some(*m);
            while let Some(mo) = cur {
                methods.extend(mo.methods.iter().map(String::as_str));
                cur = mo.base.as_deref().and_then(|b| by_name.get(b).copied());
            }
            for own in &m.methods {
                if !ops.contains_key(own.as_str()) {
                    return Err(format!(
                        "managed object {} names unknown method {own}",
                        m.name
                    ));
                }
                claimed.insert(own.as_str());
            }
            let _ = writeln!(
                out,
                "/// A handle on a `{}` managed object{}.",
                m.name,
                m.base
                    .as_deref()
                    .map(|b| format!(" (a kind of `{b}`)"))
                    .unwrap_or_default()
            );
            out.push_str("#[derive(Debug, Clone, PartialEq, Eq, Hash)]\n");
            let _ = writeln!(out, "pub struct {} {{\n    /// The object's reference.\n    pub moref: ManagedObjectReference,\n}}", m.name);
            let _ = writeln!(out, "impl {} {{", m.name);
            let _ = writeln!(
                out,
                "    /// The managed object type name.\n    pub const TYPE: &'static str = {:?};",
                m.name
            );
            out.push_str("    /// A handle on the object `moref`.\n    pub fn new(moref: ManagedObjectReference) -> Self {\n        Self { moref }\n    }\n");
            out.push_str("    /// A handle on the object with identifier `value`.\n    pub fn from_id(value: impl Into<String>) -> Self {\n        Self { moref: ManagedObjectReference::new(Self::TYPE, value) }\n    }\n");
            let mut names: Vec<&str> = methods;
            names.sort_unstable();
            names.dedup();
            for name in names {
                let op = ops[name];
                let fields = self.request_fields(op);
                let idents = Self::field_idents(&fields);
                let mut params = String::from("&self, t: &'a dyn Transport");
                let mut args = vec!["t".to_string()];
                for (f, id) in fields.iter().zip(&idents) {
                    if f.name == "_this" {
                        args.push("&self.moref".into());
                    } else {
                        let _ = write!(params, ", {id}: {}", self.field_type(&op.request_type, f));
                        args.push(id.clone());
                    }
                }
                let f = Self::op_fn(op);
                let _ = writeln!(
                    out,
                    "    /// Calls `{name}` on this object (see [`methods::{f}`]).\n    pub fn {f}<'a>({params}) -> impl Future<Output = Result<{}, Error>> + Send + 'a {{\n        methods::{f}({})\n    }}",
                    self.return_type(op),
                    args.join(", ")
                );
            }
            out.push_str("}\n");
        }
        let unclaimed: Vec<&str> = self
            .s
            .operations
            .iter()
            .map(|o| o.name.as_str())
            .filter(|n| !claimed.contains(n))
            .collect();
        if !unclaimed.is_empty() {
            eprintln!(
                "codegen: {} operations belong to no managed object: {:?}",
                unclaimed.len(),
                unclaimed
            );
        }
        files.push(("managed.rs".into(), out));
        Ok(())
    }

    fn emit_reflect(&self, files: &mut Vec<(String, String)>) {
        let mut out =
            header("Reflection: what the WSDL declares for every type and managed object.");
        out.push_str("use super::*;\n\n");
        out.push_str("/// Every complex type (data objects, faults, arrays, request messages), sorted by name,\n/// with inherited fields first.\npub static TYPE_INFO: &[TypeInfo] = &[\n");
        for (name, c) in &self.s.complex {
            let kind = match self.kind[name.as_str()] {
                Kind::Data => "Data",
                Kind::Fault => "Fault",
                Kind::Array => "Array",
                Kind::Request => "Request",
                Kind::MoRef => "ManagedObjectReference",
            };
            let fields: Vec<String> = self
                .flat_fields(name)
                .iter()
                .map(|f| {
                    format!(
                        "FieldInfo {{ name: {:?}, ty: {:?}, optional: {}, repeated: {} }}",
                        f.name,
                        Self::xsd_name(&f.ty),
                        f.optional,
                        f.repeated
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "    TypeInfo {{ name: {name:?}, base: {:?}, kind: TypeKind::{kind}, fields: &[{}] }},",
                c.base,
                fields.join(", ")
            );
        }
        out.push_str("];\n");
        out.push_str("/// Every managed object type of the WSDL, sorted by name, with its own properties and methods.\npub static MANAGED_OBJECT_INFO: &[ManagedObjectInfo] = &[\n");
        for m in self.managed {
            let props: Vec<String> = m
                .properties
                .iter()
                .map(|(n, t)| {
                    let repeated = t.ends_with("[]");
                    let t = t.trim_end_matches("[]");
                    let optional = t.ends_with('?');
                    let t = t.trim_end_matches('?');
                    let (ty, target) = match t.strip_prefix("MOR:") {
                        Some(target) => ("ManagedObjectReference".to_string(), format!("Some({target:?})")),
                        None => (t.to_string(), "None".into()),
                    };
                    format!("PropertyInfo {{ name: {n:?}, ty: {ty:?}, target: {target}, optional: {optional}, repeated: {repeated} }}")
                })
                .collect();
            let _ = writeln!(
                out,
                "    ManagedObjectInfo {{ name: {:?}, base: {:?}, properties: &[{}], methods: &{:?} }},",
                m.name,
                m.base,
                props.join(", "),
                m.methods
            );
        }
        out.push_str("];\n");
        files.push(("reflect.rs".into(), out));
    }

    /// Every generated file, `mod.rs` last.
    pub fn files(&self) -> Result<Vec<(String, String)>, String> {
        let mut files = Vec::new();
        self.emit_types(&mut files);
        self.emit_enums(&mut files);
        self.emit_poly(&mut files);
        self.emit_any(&mut files);
        self.emit_messages(&mut files);
        self.emit_methods(&mut files);
        self.emit_managed(&mut files)?;
        self.emit_reflect(&mut files);
        let c = self.counts();
        let mut m = header("The vim25 API, generated from the WSDL.");
        let _ = writeln!(
            m,
            "//! Counts: {} data objects, {} faults, {} arrays, {} enums, {} operations.\n",
            c.data, c.faults, c.arrays, c.enums, c.operations
        );
        m.push_str(
            "#![allow(clippy::all, non_camel_case_types, non_snake_case, missing_docs)]\n\n",
        );
        m.push_str("use crate::codec::*;\nuse crate::codec::soap;\nuse crate::rpc::{call, ResponseMessage};\nuse std::future::Future;\nuse crate::transport::Transport;\nuse crate::Error;\npub use crate::codec::{DateTime, ManagedObjectReference};\nuse crate::reflect::{FieldInfo, ManagedObjectInfo, PropertyInfo, TypeInfo, TypeKind};\n\n");
        for (f, _) in &files {
            let module = f.trim_end_matches(".rs");
            if module == "methods" {
                let _ = writeln!(m, "pub mod methods;");
            } else {
                let _ = writeln!(m, "mod {module};\npub use {module}::*;");
            }
        }
        files.push(("mod.rs".into(), m));
        Ok(files)
    }
}

fn header(what: &str) -> String {
    format!("// @generated by `cargo xtask codegen` from the vSphere WSDL. Do not edit.\n//! {what}\n\n")
}
