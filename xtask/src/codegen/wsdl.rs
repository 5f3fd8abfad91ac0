//! Reads `vimService.wsdl` and every file it includes or imports (with xml-rs) into a
//! [`Schema`]: complex types, enumerations, top-level elements, messages and operations.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use xml::reader::{EventReader, ParserConfig, XmlEvent};

pub const XSD: &str = "http://www.w3.org/2001/XMLSchema";
pub const VIM: &str = "urn:vim25";

/// A reference to a type: an XSD primitive or a named vim25 type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TypeRef {
    Xsd(String),
    Vim(String),
}

/// One `<element>` of a sequence.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub ty: TypeRef,
    pub optional: bool,
    pub repeated: bool,
}

/// A `complexType`.
#[derive(Debug, Clone)]
pub struct Complex {
    pub name: String,
    pub base: Option<String>,
    pub fields: Vec<Field>,
    /// `simpleContent` (only `ManagedObjectReference`).
    pub simple_content: bool,
    /// The file the type came from.
    pub file: String,
}

/// A WSDL operation, resolved down to its request/response elements and fault types.
#[derive(Debug, Clone)]
pub struct Operation {
    pub name: String,
    pub request_type: String,
    pub response_fields: Vec<Field>,
    pub faults: Vec<String>,
    pub soap_action: String,
}

#[derive(Debug, Default)]
pub struct Schema {
    pub complex: BTreeMap<String, Complex>,
    pub enums: BTreeMap<String, Vec<String>>,
    pub operations: Vec<Operation>,
    /// Files read, in order (for reporting).
    pub files: Vec<String>,
}

/// A minimal element tree; the WSDL files are at most a few MB.
#[derive(Debug)]
struct Node {
    name: String,
    ns: Option<String>,
    attrs: HashMap<String, String>,
    /// Prefix -> namespace bindings in scope at this element.
    scope: HashMap<String, String>,
    children: Vec<Node>,
}

impl Node {
    fn attr(&self, k: &str) -> Option<&str> {
        self.attrs.get(k).map(String::as_str)
    }
    fn kids<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    /// Resolves a QName attribute value such as `vim25:Foo` or `xsd:int`.
    fn qname(&self, value: &str) -> Result<TypeRef, String> {
        let (prefix, local) = value.split_once(':').unwrap_or(("", value));
        let ns = self
            .scope
            .get(prefix)
            .ok_or_else(|| format!("undeclared prefix in type {value:?} on <{}>", self.name))?;
        match ns.as_str() {
            XSD => Ok(TypeRef::Xsd(local.to_string())),
            VIM | "urn:reflect" => Ok(TypeRef::Vim(local.to_string())),
            other => Err(format!("type {value:?} in unsupported namespace {other}")),
        }
    }
}

fn parse_file(path: &Path) -> Result<Node, String> {
    let f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let cfg = ParserConfig::new()
        .trim_whitespace(true)
        .ignore_comments(true);
    let mut stack: Vec<Node> = Vec::new();
    for ev in EventReader::new_with_config(BufReader::new(f), cfg) {
        match ev.map_err(|e| format!("{}: {e}", path.display()))? {
            XmlEvent::StartElement {
                name,
                attributes,
                namespace,
            } => {
                let scope = namespace
                    .0
                    .iter()
                    .map(|(p, n)| (p.clone(), n.clone()))
                    .collect::<HashMap<_, _>>();
                stack.push(Node {
                    name: name.local_name,
                    ns: name.namespace,
                    attrs: attributes
                        .into_iter()
                        .map(|a| (a.name.local_name, a.value))
                        .collect(),
                    scope,
                    children: Vec::new(),
                });
            }
            XmlEvent::EndElement { .. } => {
                let node = stack.pop().ok_or("unbalanced XML")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Ok(node),
                }
            }
            _ => {}
        }
    }
    Err(format!("{}: no document element", path.display()))
}

struct Loader {
    dir: PathBuf,
    seen: HashSet<String>,
    schema: Schema,
    /// Top-level elements: name -> (type, or inline sequence).
    elements: HashMap<String, Element>,
    messages: HashMap<String, String>,
}

enum Element {
    Typed(TypeRef),
    Inline(Vec<Field>),
}

/// Reads the WSDL set rooted at `dir/vimService.wsdl`.
pub fn load(dir: &Path) -> Result<Schema, String> {
    let mut l = Loader {
        dir: dir.to_path_buf(),
        seen: HashSet::new(),
        schema: Schema::default(),
        elements: HashMap::new(),
        messages: HashMap::new(),
    };
    l.file("vimService.wsdl")?;
    Ok(l.schema)
}

impl Loader {
    fn file(&mut self, name: &str) -> Result<(), String> {
        if !self.seen.insert(name.to_string()) {
            return Ok(());
        }
        let root = parse_file(&self.dir.join(name))?;
        self.schema.files.push(name.to_string());
        match root.name.as_str() {
            "definitions" => self.definitions(&root, name),
            "schema" => self.schema_node(&root, name),
            other => Err(format!("{name}: unexpected document element <{other}>")),
        }
    }

    fn definitions(&mut self, root: &Node, file: &str) -> Result<(), String> {
        for c in &root.children {
            match c.name.as_str() {
                "import" => self.file(c.attr("location").ok_or("wsdl import without location")?)?,
                "types" => {
                    for s in c.kids("schema") {
                        self.schema_node(s, file)?;
                    }
                }
                "message" => {
                    let name = c.attr("name").ok_or("message without name")?;
                    if let Some(part) = c.kids("part").next() {
                        let el = part.attr("element").ok_or("message part without element")?;
                        let local = el.split_once(':').map_or(el, |(_, l)| l);
                        self.messages.insert(name.to_string(), local.to_string());
                    }
                }
                _ => {}
            }
        }
        // Operations need every message and element, so they come last.
        let mut actions = HashMap::new();
        for b in root.kids("binding") {
            for op in b.kids("operation") {
                if let Some(so) = op.kids("operation").next() {
                    if let (Some(n), Some(a)) = (op.attr("name"), so.attr("soapAction")) {
                        actions.insert(n.to_string(), a.to_string());
                    }
                }
            }
        }
        for pt in root.kids("portType") {
            for op in pt.kids("operation") {
                let op = self.operation(op, &actions)?;
                self.schema.operations.push(op);
            }
        }
        Ok(())
    }

    fn message_element(&self, node: &Node, what: &str) -> Result<String, String> {
        let m = node
            .attr("message")
            .ok_or_else(|| format!("{what} without message"))?;
        let local = m.split_once(':').map_or(m, |(_, l)| l);
        self.messages
            .get(local)
            .cloned()
            .ok_or_else(|| format!("unknown message {m}"))
    }

    fn operation(&self, op: &Node, actions: &HashMap<String, String>) -> Result<Operation, String> {
        let name = op.attr("name").ok_or("operation without name")?.to_string();
        let input = op
            .kids("input")
            .next()
            .ok_or_else(|| format!("{name}: no input"))?;
        let output = op
            .kids("output")
            .next()
            .ok_or_else(|| format!("{name}: no output"))?;
        let req_el = self.message_element(input, "input")?;
        let resp_el = self.message_element(output, "output")?;
        let request_type = match self.elements.get(&req_el) {
            Some(Element::Typed(TypeRef::Vim(t))) => t.clone(),
            _ => {
                return Err(format!(
                    "{name}: request element {req_el} has no named type"
                ))
            }
        };
        let response_fields = match self.elements.get(&resp_el) {
            Some(Element::Inline(f)) => f.clone(),
            _ => {
                return Err(format!(
                    "{name}: response element {resp_el} is not an inline sequence"
                ))
            }
        };
        let mut faults = Vec::new();
        for f in op.kids("fault") {
            let el = self.message_element(f, "fault")?;
            match self.elements.get(&el) {
                Some(Element::Typed(TypeRef::Vim(t))) => faults.push(t.clone()),
                _ => return Err(format!("{name}: fault element {el} has no named type")),
            }
        }
        let soap_action = actions.get(&name).cloned().unwrap_or_default();
        Ok(Operation {
            name,
            request_type,
            response_fields,
            faults,
            soap_action,
        })
    }

    fn schema_node(&mut self, s: &Node, file: &str) -> Result<(), String> {
        for c in &s.children {
            match c.name.as_str() {
                "include" | "import" => {
                    if let Some(loc) = c.attr("schemaLocation") {
                        self.file(loc)?;
                    }
                }
                "complexType" => {
                    let ct = complex(c, file)?;
                    if self.schema.complex.insert(ct.name.clone(), ct).is_some() {
                        return Err(format!("{file}: duplicate complexType"));
                    }
                }
                "simpleType" => {
                    let name = c.attr("name").ok_or("simpleType without name")?.to_string();
                    let values = c
                        .kids("restriction")
                        .flat_map(|r| r.kids("enumeration"))
                        .filter_map(|e| e.attr("value").map(str::to_string))
                        .collect();
                    self.schema.enums.insert(name, values);
                }
                "element" => {
                    let name = c.attr("name").ok_or("element without name")?.to_string();
                    let el = match c.attr("type") {
                        Some(t) => Element::Typed(c.qname(t)?),
                        None => match c.kids("complexType").next() {
                            Some(ct) => Element::Inline(sequence(ct)?),
                            None => continue,
                        },
                    };
                    self.elements.insert(name, el);
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn sequence(ct: &Node) -> Result<Vec<Field>, String> {
    let mut out = Vec::new();
    for seq in ct.kids("sequence") {
        for e in seq.kids("element") {
            let name = e
                .attr("name")
                .ok_or("sequence element without name")?
                .to_string();
            let ty = e.qname(
                e.attr("type")
                    .ok_or_else(|| format!("element {name} without type"))?,
            )?;
            let optional = e.attr("minOccurs") == Some("0");
            let repeated = matches!(e.attr("maxOccurs"), Some(m) if m != "1" && m != "0");
            out.push(Field {
                name,
                ty,
                optional,
                repeated,
            });
        }
    }
    Ok(out)
}

fn complex(c: &Node, file: &str) -> Result<Complex, String> {
    let name = c
        .attr("name")
        .ok_or("complexType without name")?
        .to_string();
    if let Some(sc) = c.kids("simpleContent").next() {
        let _ = sc;
        return Ok(Complex {
            name,
            base: None,
            fields: Vec::new(),
            simple_content: true,
            file: file.into(),
        });
    }
    if let Some(cc) = c.kids("complexContent").next() {
        let ext = cc
            .kids("extension")
            .next()
            .ok_or_else(|| format!("{name}: complexContent without extension"))?;
        let base = match ext.qname(ext.attr("base").ok_or("extension without base")?)? {
            TypeRef::Vim(b) => b,
            TypeRef::Xsd(b) => return Err(format!("{name}: extends xsd:{b}")),
        };
        return Ok(Complex {
            name,
            base: Some(base),
            fields: sequence(ext)?,
            simple_content: false,
            file: file.into(),
        });
    }
    let _ = c.ns.as_deref();
    Ok(Complex {
        name,
        base: None,
        fields: sequence(c)?,
        simple_content: false,
        file: file.into(),
    })
}
