//! Hiding credentials in anything that may be logged.

/// Elements whose text is replaced by `***` in logged SOAP bodies.
const SECRET_ELEMENTS: &[&str] = &[
    "password",
    "sessionID",
    "sessionId",
    "newPassword",
    "oldPassword",
    "cloneTicket",
];

/// Methods whose reply is a ticket or other one-time credential: the whole `<returnval>` is
/// masked in a logged reply.
const TICKET_METHODS: &[&str] = &[
    "AcquireCloneTicket",
    "AcquireGenericServiceTicket",
    "AcquireLocalTicket",
    "AcquireCimServicesTicket",
    "AcquireTicket",
    "AcquireMksTicket",
    "AcquireCredentialsInGuest",
];

/// Methods whose reply is a `UserSession`: its `<key>` names the session (with esx-sim it is
/// the session cookie itself) and is masked in a logged reply.
const SESSION_METHODS: &[&str] = &[
    "Login",
    "LoginByToken",
    "LoginBySSPI",
    "LoginExtensionByCertificate",
    "LoginExtensionBySubjectName",
    "LoginExtensionByExtensionCertificate",
    "CloneSession",
    "ImpersonateUser",
];

/// [`mask_secrets`] for the reply of `method`, also masking what the method returns when it
/// is a credential: the whole `<returnval>` of ticket methods (`AcquireCloneTicket`,
/// `AcquireGenericServiceTicket`, `AcquireTicket`…), the session `<key>` of `Login` and its
/// kin.
pub fn mask_reply_secrets(method: &str, xml: &str) -> String {
    let masked = mask_secrets(xml);
    if TICKET_METHODS.contains(&method) {
        mask_returnval(&masked)
    } else if SESSION_METHODS.contains(&method) {
        mask_elements(&masked, &["key"])
    } else {
        masked
    }
}

/// `xml` with everything between the first `<returnval…>` and the last `</returnval>`
/// replaced by `***`.
fn mask_returnval(xml: &str) -> String {
    let open = xml.match_indices("<returnval").map(|(i, _)| i).find(|&i| {
        matches!(
            xml.as_bytes().get(i + "<returnval".len()),
            Some(b'>' | b' ' | b'\t' | b'\r' | b'\n')
        )
    });
    let Some(open) = open else {
        return xml.to_owned();
    };
    let Some(gt) = xml[open..].find('>').map(|g| open + g) else {
        return xml.to_owned();
    };
    if xml[..gt].ends_with('/') {
        return xml.to_owned();
    }
    let end = xml
        .rfind("</returnval>")
        .filter(|&e| e > gt)
        .unwrap_or(xml.len());
    format!("{}***{}", &xml[..=gt], &xml[end..])
}

/// Returns `xml` with the text of every secret element (`<password>`, `<sessionID>`, with or
/// without a namespace prefix) replaced by `***`.
pub fn mask_secrets(xml: &str) -> String {
    mask_elements(xml, SECRET_ELEMENTS)
}

/// `xml` with the text of every element named in `names` (any prefix) replaced by `***`.
fn mask_elements(xml: &str, names: &[&str]) -> String {
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
        if is_open_tag_of(tag, names) {
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

fn is_open_tag_of(tag: &str, names: &[&str]) -> bool {
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
    names.contains(&local)
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
    fn masks_tickets_and_session_keys_in_replies() {
        let clone = r#"<soapenv:Body><AcquireCloneTicketResponse xmlns="urn:vim25"><returnval>cst-VCT-52aa</returnval></AcquireCloneTicketResponse></soapenv:Body>"#;
        assert_eq!(
            mask_reply_secrets("AcquireCloneTicket", clone),
            r#"<soapenv:Body><AcquireCloneTicketResponse xmlns="urn:vim25"><returnval>***</returnval></AcquireCloneTicketResponse></soapenv:Body>"#
        );
        let generic = r#"<AcquireGenericServiceTicketResponse><returnval><id>52bb</id><hostName>h</hostName></returnval></AcquireGenericServiceTicketResponse>"#;
        let masked = mask_reply_secrets("AcquireGenericServiceTicket", generic);
        assert!(!masked.contains("52bb"), "{masked}");
        assert!(masked.contains("<returnval>***</returnval>"), "{masked}");
        let login = r#"<LoginResponse><returnval><key>52cc-dd</key><userName>root</userName></returnval></LoginResponse>"#;
        assert_eq!(
            mask_reply_secrets("Login", login),
            r#"<LoginResponse><returnval><key>***</key><userName>root</userName></returnval></LoginResponse>"#
        );
        // Other replies keep their keys (device keys, property keys).
        let other = r#"<returnval><key>4000</key></returnval>"#;
        assert_eq!(mask_reply_secrets("RetrievePropertiesEx", other), other);
        assert_eq!(mask_reply_secrets("AcquireTicket", "<fault/>"), "<fault/>");
        assert_eq!(
            mask_secrets("<CloneSession><cloneTicket>cst-1</cloneTicket></CloneSession>"),
            "<CloneSession><cloneTicket>***</cloneTicket></CloneSession>"
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
