//! Hiding credentials in anything that may be logged.

/// Elements whose text is replaced by `***` in logged SOAP bodies.
const SECRET_ELEMENTS: &[&str] = &["password", "sessionID", "newPassword", "oldPassword"];

/// Returns `xml` with the text of every secret element (`<password>`, `<sessionID>`, with or
/// without a namespace prefix) replaced by `***`.
pub fn mask_secrets(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let tag_area = &rest[lt..];
        let Some(gt) = tag_area.find('>') else {
            out.push_str(tag_area);
            return out;
        };
        let tag = &tag_area[..=gt];
        out.push_str(tag);
        rest = &tag_area[gt + 1..];
        if is_secret_open_tag(tag) {
            // Skip the element's text up to the next tag.
            let end = rest.find('<').unwrap_or(rest.len());
            if end > 0 {
                out.push_str("***");
            }
            rest = &rest[end..];
        }
    }
    out.push_str(rest);
    out
}

fn is_secret_open_tag(tag: &str) -> bool {
    let inner = tag.trim_start_matches('<').trim_end_matches('>');
    if inner.starts_with('/')
        || inner.starts_with('?')
        || inner.starts_with('!')
        || inner.ends_with('/')
    {
        return false;
    }
    let name = inner
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap_or_default();
    let local = name.rsplit(':').next().unwrap_or(name);
    SECRET_ELEMENTS.contains(&local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_login_password() {
        let body = r#"<soapenv:Body><Login xmlns="urn:vim25"><_this type="SessionManager">ha-sessionmgr</_this><userName>root</userName><password>s3cr&lt;et</password></Login></soapenv:Body>"#;
        let masked = mask_secrets(body);
        assert!(!masked.contains("s3cr"), "{masked}");
        assert!(masked.contains("<password>***</password>"));
        assert!(masked.contains("<userName>root</userName>"));
    }

    #[test]
    fn masks_prefixed_and_attributed() {
        let masked = mask_secrets(r#"<v:sessionID xsi:type="xsd:string">52a1</v:sessionID><x/>"#);
        assert_eq!(
            masked,
            r#"<v:sessionID xsi:type="xsd:string">***</v:sessionID><x/>"#
        );
    }

    #[test]
    fn leaves_other_text_and_broken_input() {
        assert_eq!(mask_secrets("<a>b</a>"), "<a>b</a>");
        assert_eq!(mask_secrets("<password/>x"), "<password/>x");
        assert_eq!(mask_secrets("text <unterminated"), "text <unterminated");
        assert_eq!(mask_secrets("<password>tail"), "<password>***");
    }
}
