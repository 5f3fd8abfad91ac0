//! The error type of every parser in this crate.

use thiserror::Error;

/// Why an XML document could not be turned into a model.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainXmlError {
    /// The text is not well-formed XML.
    #[error("malformed XML at line {line}: {message}")]
    Malformed {
        /// 1-based line of the problem.
        line: u64,
        /// What the XML reader reported.
        message: String,
    },
    /// The root element is not the one the document type needs.
    #[error("expected root element <{expected}> but found <{found}>")]
    WrongRoot {
        /// Element name the model needs.
        expected: String,
        /// Element name found in the document.
        found: String,
    },
    /// An element this model does not know.
    #[error("unsupported element <{element}> inside <{parent}> at line {line}")]
    UnknownElement {
        /// The unknown element.
        element: String,
        /// Its parent element.
        parent: String,
        /// 1-based line of the element.
        line: u64,
    },
    /// An attribute this model does not know.
    #[error("unsupported attribute '{attribute}' on <{element}> at line {line}")]
    UnknownAttribute {
        /// The unknown attribute.
        attribute: String,
        /// The element carrying it.
        element: String,
        /// 1-based line of the element.
        line: u64,
    },
    /// A required attribute is absent.
    #[error("missing attribute '{attribute}' on <{element}> at line {line}")]
    MissingAttribute {
        /// The attribute that is needed.
        attribute: String,
        /// The element lacking it.
        element: String,
        /// 1-based line of the element.
        line: u64,
    },
    /// A required child element is absent.
    #[error("missing element <{element}> inside <{parent}> at line {line}")]
    MissingElement {
        /// The element that is needed.
        element: String,
        /// Its expected parent.
        parent: String,
        /// 1-based line of the parent.
        line: u64,
    },
    /// A value cannot be interpreted.
    #[error("invalid value '{value}' for {what} at line {line}: {reason}")]
    InvalidValue {
        /// The offending text.
        value: String,
        /// Which element or attribute held it, e.g. `<memory>` or `'unit' of <memory>`.
        what: String,
        /// 1-based line.
        line: u64,
        /// Why the value was rejected.
        reason: String,
    },
}

/// Shorthand result type.
pub type Result<T> = std::result::Result<T, DomainXmlError>;
