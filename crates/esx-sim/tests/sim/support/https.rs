//! Raw HTTPS requests with curl, for the tests of the simulator's HTTP side.

use std::path::Path;
use std::process::Command;

/// The SOAP and vim25 namespaces of a request envelope.
pub const NS: &str = r#"xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:vim25" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance""#;

/// A SOAP envelope around `body`.
pub fn envelope(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope {NS}><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"#
    )
}

/// One curl request: (HTTP status, body). `jar` keeps the session cookie between calls.
pub fn curl(url: &str, jar: Option<&Path>, method: &str, data: Option<&[u8]>) -> (u16, String) {
    let (code, body) = curl_bytes(url, jar, method, data);
    (code, String::from_utf8_lossy(&body).into_owned())
}

/// [`curl`] with the body as bytes.
pub fn curl_bytes(
    url: &str,
    jar: Option<&Path>,
    method: &str,
    data: Option<&[u8]>,
) -> (u16, Vec<u8>) {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-sk",
        "--path-as-is",
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
        "-X",
        method,
    ]);
    if let Some(j) = jar {
        cmd.arg("-b").arg(j).arg("-c").arg(j);
    }
    cmd.args([
        "-H",
        "Content-Type: text/xml",
        "-H",
        "SOAPAction: urn:vim25/7.0.3.0",
    ]);
    if data.is_some() {
        cmd.args(["--data-binary", "@-"]);
        cmd.stdin(std::process::Stdio::piped());
    }
    cmd.arg(url).stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("curl runs");
    if let Some(d) = data {
        use std::io::Write;
        // curl may stop reading early when the server refuses a large body.
        let _ = child.stdin.take().expect("stdin").write_all(d);
    }
    let out = child.wait_with_output().expect("curl finishes");
    let raw = out.stdout;
    let cut = raw.iter().rposition(|b| *b == b'\n').unwrap_or(0);
    let code = String::from_utf8_lossy(&raw[(cut + 1).min(raw.len())..])
        .trim()
        .parse()
        .unwrap_or(0);
    (code, raw[..cut].to_vec())
}

/// Whether curl is installed.
pub fn curl_available() -> bool {
    Command::new("curl").arg("-V").output().is_ok()
}

/// The text of the `<returnval …>…</returnval>` of a SOAP answer.
pub fn returnval(body: &str) -> String {
    let start = body.find("<returnval").expect("a returnval");
    let rest = &body[start..];
    let open = rest.find('>').expect("an element") + 1;
    let close = rest.find("</returnval>").expect("a closed returnval");
    rest[open..close].to_owned()
}
